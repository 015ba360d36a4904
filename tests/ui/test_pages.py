"""One check per dashboard page (issue 19), each page reached by its own URL
(a fresh load of the deep link, a reload, the back and forward buttons),
and the main paths operated from the keyboard alone. Headless Chromium
against a real `syncmgr serve` with the demo data set (demo.py)."""
import json
import os

import demo
import harness
from harness import By, Keys, wait_until, wait_h1
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.action_chains import ActionChains


class Pages(harness.BrowserCase):
    SERVER_ARGS = ["--allow-private-push"]

    @classmethod
    def seed(cls):
        cls.receiver = harness.Receiver(status=400)
        cls.receivers.append(cls.receiver)
        cls.demo = demo.seed(cls.server, n=70, push_receiver=cls.receiver)
        cls.api = cls.demo["api"]

    def setUp(self):
        self.signed_in_as(self.api.key)

    # ---- helpers ---------------------------------------------------------------

    def signed_in_as(self, key):
        d = self.driver
        if not d.current_url.startswith(self.server.url):
            d.get(self.server.url + "/ui/")
        if d.execute_script("return sessionStorage.getItem('syncmgr.key')") != key:
            d.execute_script("sessionStorage.clear()")
            harness.sign_in(d, self.server.url, key)

    def fresh(self, route):
        """A fresh load of a deep link (not a same-document hash change)."""
        self.driver.get("about:blank")
        self.driver.get(self.server.url + "/ui/" + route)

    def row_ids(self):
        """The external_ids of the listings table, in order."""
        return [r.get_attribute("data-id") for r in self.css("table.properties tbody tr[data-id]")]

    def active(self):
        return self.driver.switch_to.active_element

    def tab_to(self, predicate, what, limit=80, reverse=False):
        """Presses Tab (Shift+Tab) until the focused element satisfies predicate.
        An element the page replaced between two presses (a re-render) counts
        as a press: the next one goes to the element focused then."""
        for _ in range(limit):
            try:
                if reverse:
                    self.active().send_keys(Keys.SHIFT, Keys.TAB)
                else:
                    self.active().send_keys(Keys.TAB)
                el = self.active()
                if predicate(el):
                    return el
            except StaleElementReferenceException:
                continue
        self.fail("Tab never reached " + what)

    # ---- every page by URL -------------------------------------------------------

    def test_each_page_by_deep_link_and_reload(self):
        d, dm = self.driver, self.demo
        t, s, p = dm["target"], dm["source"], dm["push"]
        pages = [
            ("#/", "^Overview$", "table tr[data-id]"),
            ("#/sources/%d" % s, "immoportal", ".upload-form"),
            ("#/targets/%d" % t, "acme-website", "#sync-preview"),
            ("#/targets/%d?after=%s" % (t, dm["ids"][9]), "acme-website", "table.properties tr[data-id]"),
            ("#/targets/%d/properties/%s" % (t, dm["ids"][0]), dm["ids"][0], "table.versions"),
            ("#/sources/%d/properties/%s" % (s, dm["ids"][1]), dm["ids"][1], "table.versions"),
            ("#/feed?target_id=%d&types=property.updated" % t, "^Live feed$", '.feed-status[data-state="live"]'),
            ("#/delivery", "^Delivery$", 'tr[data-id="%d"]' % p),
            ("#/delivery/%d" % p, "website-webhook", ".facts"),
            ("#/feed?since=999999999", "^Live feed$", '.feed-status[data-state="error"]'),  # past the log's end
            ("#/nowhere", "^Page not found$", "main p a"),
            ("#/admin", "needs the admin key", "main p a"),
        ]
        for route, heading, selector in pages:
            with self.subTest(route=route):
                self.fresh(route)
                wait_h1(d, heading)
                self.wait_css(selector)
                d.refresh()
                wait_h1(d, heading)
                self.wait_css(selector)
                self.assertTrue(d.current_url.endswith(route) or "?" in route or "properties" in route,
                                d.current_url)
        # The feed's filters come from its URL.
        self.fresh("#/feed?target_id=%d&types=property.updated" % t)
        wait_h1(d, "Live feed")
        self.assertTrue(self.css("#type-property-updated")[0].is_selected())
        self.assertEqual(self.css("#feed-stream")[0].get_attribute("value"), "target:%d" % t)

    def test_back_and_forward_buttons(self):
        d, dm = self.driver, self.demo
        self.fresh("#/")
        wait_h1(d, "^Overview$")
        self.wait_css('a[href="#/sources/%d"]' % dm["source"]).click()
        wait_h1(d, "immoportal")
        self.wait_css(".crumbs a").click()
        wait_h1(d, "^Overview$")
        self.wait_css('a[href="#/targets/%d"]' % dm["target"]).click()
        wait_h1(d, "acme-website")
        self.wait_css('table.properties tr[data-id] a').click()
        wait_h1(d, "Listing")
        self.wait_css('nav[aria-label="Main"] a[href="#/feed"]').click()
        wait_h1(d, "Live feed")
        for heading in ["Listing", "acme-website", "^Overview$", "immoportal", "^Overview$"]:
            d.back()
            wait_h1(d, heading)
        d.forward()
        wait_h1(d, "immoportal")

    # ---- one check per page --------------------------------------------------------

    def test_overview(self):
        d, dm = self.driver, self.demo
        self.fresh("#/")
        wait_h1(d, "^Overview$")
        row = self.wait_css('tr[data-id="%d"]' % dm["target"], text="acme-website")
        self.assertIn("immoportal", row.text)  # last sync's source
        push = self.wait_css('tr[data-id="%d"] .delivery-link' % dm["push"])
        self.assertIn("pending", push.text)
        self.assertEqual(self.css('[data-testid="card-sources"] .stat-value')[0].text, "2")
        bars = self.css("svg.chart g.bar")
        self.assertEqual(len(bars), len(self.api.get("/imports?limit=60")) +
                         len(self.api.get("/sync_logs?limit=60")))

    def test_source_upload_with_mass_removal_guard_and_paging(self):
        d, dm = self.driver, self.demo
        src2 = dm["source2"]
        live = self.api.get("/sources/%d/properties" % src2)
        self.fresh("#/sources/%d" % src2)
        wait_h1(d, "homesearch")
        # An NDJSON file with one listing in full mode would remove nearly all.
        path = os.path.join(self.tmp, "short.ndjson")
        with open(path, "w") as f:
            f.write(json.dumps({"external_id": live[0]["external_id"], "price": 1}) + "\n")
        self.css("#upload-file")[0].send_keys(path)
        self.css("#mode-full")[0].click()
        self.css(".upload-form button[type=submit]")[0].click()
        refusal = self.wait_css('[data-testid="mass-removal"]', "the mass-removal explanation")
        self.assertIn("Nothing was imported", refusal.text)
        self.assertIn("20 %", refusal.text)
        self.assertEqual(len(self.api.get("/sources/%d/properties" % src2)), len(live))
        refusal.find_element(By.CSS_SELECTOR, '[data-testid="allow-mass-removal"]').click()
        ok = self.wait_css('[data-testid="upload-ok"]')
        self.assertEqual(ok.find_element(By.CSS_SELECTOR, '[data-field="removed"] strong').text,
                         str(len(live) - 1))
        self.assertEqual(len(self.api.get("/sources/%d/properties" % src2)), 1)

        # Paging and search on the bigger source.
        s = dm["source"]
        self.fresh("#/sources/%d" % s)
        wait_h1(d, "immoportal")
        rows = wait_until(d, lambda _: self.css("table.properties tbody tr"), "the listings")
        self.assertEqual(len(rows), 50)
        last = rows[-1].get_attribute("data-id")
        self.css('a[rel="next"]')[0].click()
        wait_until(d, lambda _: self.row_ids() and self.row_ids()[0] > last, "page 2")
        self.assertIn("after=", d.current_url)
        box = self.css("#q-sources")[0]
        box.send_keys("IP-0001", Keys.ENTER)
        wait_until(d, lambda _: "q=IP-0001" in d.current_url, "the search URL")
        ids = wait_until(d, lambda _: (lambda ids: ids if ids and all(i.startswith("IP-0001") for i in ids)
                                       else None)(self.row_ids()), "only ids starting with IP-0001")
        expect = [p["external_id"] for p in self.api.get("/sources/%d/properties?after=IP-0001&limit=50" % s)
                  if p["external_id"].startswith("IP-0001")]
        self.assertEqual(ids, expect)

    def test_target_conflicts_listed_by_the_server(self):
        """GET /targets/{id}/properties?manually_modified=true (SPEC §4) lists
        the open conflicts on load, each with its diff."""
        dm = self.demo
        listed = self.api.get("/targets/%d/properties?manually_modified=true" % dm["target"])
        self.assertTrue(listed, "the demo data set has hand edits")
        self.assertTrue(all(p["manually_modified"] for p in listed))
        d = self.driver
        self.fresh("#/targets/%d" % dm["target"])
        wait_h1(d, "acme-website")
        item = self.wait_css('details.conflict[data-id="%s"] table.diff' % dm["ids"][0], "a listed conflict")
        self.assertIn("price", item.text)
        ids = wait_until(d, lambda _: [e.get_attribute("data-id") for e in self.css("details.conflict")]
                         if len(self.css("details.conflict")) == len(listed) else None,
                         "every listed conflict")
        self.assertEqual(ids, [p["external_id"] for p in listed])

    def test_live_and_manual_counts(self):
        """live_count / manual_count on sources and targets (SPEC §4) are what
        the Overview and the Target page show."""
        dm = self.demo
        target = self.api.get("/targets/%d" % dm["target"])
        source = self.api.get("/sources/%d" % dm["source"])
        self.assertEqual(target["live_count"], len(self.api.get("/targets/%d/properties" % dm["target"])))
        self.assertEqual(target["manual_count"],
                         len(self.api.get("/targets/%d/properties?manually_modified=true" % dm["target"])))
        self.assertGreater(target["manual_count"], 0)
        d = self.driver
        self.fresh("#/")
        wait_h1(d, "^Overview$")
        row = self.wait_css('tr[data-id="%d"]' % dm["target"], text="acme-website")
        self.assertIn("{:,}".format(target["live_count"]), row.text)
        self.assertIn("{:,}".format(target["manual_count"]), row.text)
        self.wait_css('tr[data-id="%d"]' % dm["source"], text="{:,}".format(source["live_count"]))
        self.fresh("#/targets/%d" % dm["target"])
        wait_h1(d, "acme-website")
        facts = self.wait_css(".facts", text="{:,}".format(target["live_count"]))
        self.assertNotIn("\u2014", facts.text)

    def test_live_feed_every_event_type(self):
        """The Live feed offers every event type of the feed as a filter
        (docs/feed.md "Events") and shows catalog events as they happen. In a
        tenant of its own: the sources it creates stay out of the demo's."""
        d = self.driver
        _, api = self.server.admin.new_tenant("Feed watchers")
        self.signed_in_as(api.key)
        self.fresh("#/feed")
        wait_h1(d, "Live feed")
        for t in ["property.created", "property.updated", "property.removed", "property.manual_edit",
                  "import.completed", "sync.completed", "tenant.created", "api_key.created",
                  "api_key.revoked", "source.created", "target.created", "feed_token.created", "unknown"]:
            self.assertEqual(len(self.css("#type-" + t.replace(".", "-", 1))), 1, t)
        self.wait_css('.feed-status[data-state="live"]', "the feed to be live")
        src = api.post("/sources", {"name": "feed-watch <b>src</b>"})
        tgt = api.post("/targets", {"name": "feed-watch-target"})

        def row(type_, text):
            return next((r for r in self.css("table.feed tbody tr") if type_ in r.text and text in r.text), None)
        got = wait_until(d, lambda _: row("source.created", "feed-watch <b>src</b>"), "the source.created row")
        self.assertIsNotNone(got.find_element(By.CSS_SELECTOR, 'a[href="#/sources/%d"]' % src["id"]))
        wait_until(d, lambda _: row("target.created", "feed-watch-target"), "the target.created row")
        # The page's own feed token shows too: a catalog event without a stream.
        self.assertIsNotNone(row("feed_token.created", "tenant"))
        self.assertEqual(self.css("table.feed b"), [], "a name is text, not markup")
        # A catalog type as the filter: only those rows.
        self.fresh("#/feed?types=target.created&since=0")
        wait_h1(d, "Live feed")
        self.assertTrue(self.css("#type-target-created")[0].is_selected())
        wait_until(d, lambda _: row("target.created", "feed-watch-target"), "the filtered row")
        types = {r.find_elements(By.CSS_SELECTOR, "td")[2].text for r in self.css("table.feed tbody tr")}
        self.assertEqual(types, {"target.created"})
        self.assertEqual(tgt["live_count"], 0)

    def test_history_as_of(self):
        d, dm = self.driver, self.demo
        t, eid = dm["target"], dm["ids"][0]
        self.fresh("#/targets/%d/properties/%s" % (t, eid))
        wait_h1(d, eid)
        versions = self.api.get("/targets/%d/properties/%s/history" % (t, eid))
        self.assertEqual(len(self.css("table.versions tbody tr")), len(versions))
        changed = {f for v in versions if v["changed_fields"] for f in v["changed_fields"]}
        marks = {m.text for m in self.css("table.versions mark.chip")}
        self.assertEqual(marks, changed)
        # Before anything existed, then now.
        field = self.css("#as-of")[0]
        d.execute_script("arguments[0].value = '2001-01-01T00:00:00'", field)
        field.send_keys(Keys.ENTER)
        self.wait_css('[data-testid="as-of-result"]', text="did not exist")
        d.execute_script("arguments[0].value = '2099-01-01T00:00:00'", field)
        field.send_keys(Keys.ENTER)
        res = self.wait_css('[data-testid="as-of-result"]', text="version")
        self.assertIn(str(versions[-1]["version"]), res.text)
        self.assertIn("as_of=", d.current_url)
        # The whole target as it was then.
        self.css('[data-testid="as-of-whole"]')[0].click()
        wait_h1(d, "acme-website")
        self.wait_css('[data-testid="as-of-banner"]')
        self.wait_css("table.properties tr[data-id]")

    def test_delivery(self):
        d, dm = self.driver, self.demo
        p = dm["push"]
        self.fresh("#/delivery")
        wait_h1(d, "^Delivery$")
        row = self.wait_css('tr[data-id="%d"]' % p)
        self.assertIn("webhook", row.text)
        self.assertIn("HTTP 400", row.text)
        row.find_element(By.CSS_SELECTOR, "a").click()
        wait_h1(d, "website-webhook")
        toggle = self.wait_css("#delivery-toggle", text="Pause")
        toggle.click()
        self.wait_css("#delivery-toggle", text="Resume")
        self.assertEqual(self.api.get("/targets/%d/delivery" % p)["state"], "paused")
        self.css("#delivery-toggle")[0].click()
        self.wait_css("#delivery-toggle", text="Pause")
        self.assertNotEqual(self.api.get("/targets/%d/delivery" % p)["state"], "paused")
        # Redeliver from a seq: the cursor moves back.
        cursor = self.api.get("/targets/%d/delivery" % p)["delivered_seq"]
        field = self.css("#redeliver-from")[0]
        field.send_keys(str(max(0, cursor - 10)), Keys.ENTER)
        self.wait_css(".state-ok", text="Redeliver: done")
        # Dead letters, and a retry that reaches the receiver again.
        letters = self.api.get("/targets/%d/dead_letters" % p)
        self.assertTrue(letters)
        before = len(self.receiver.bodies)
        retry = self.wait_css('tr[data-id="%d"] button' % letters[0]["id"], text="Retry")
        retry.click()
        self.wait_css('tr[data-id="%d"] button' % letters[0]["id"], text="Queued")
        wait_until(d, lambda _: len(self.receiver.bodies) > before, "the retried batch at the receiver")

    def test_admin(self):
        d = self.driver
        self.signed_in_as(harness.ADMIN_KEY)
        wait_h1(d, "^Admin$")
        name = self.css("#tenant-name")[0]
        name.send_keys("Bravo <Homes>", Keys.ENTER)
        box = self.wait_css('[data-testid="new-key"]')
        key = box.find_element(By.CSS_SELECTOR, "input").get_attribute("value")
        bravo = harness.Api(self.server.url, key)
        self.assertEqual(bravo.get("/sources"), [])
        row = self.wait_css("table tr[data-id]", text="Bravo <Homes>")
        row.find_element(By.CSS_SELECTOR, "a").click()
        wait_until(d, lambda _: "tenant=" in d.current_url, "the tenant's keys URL")
        self.wait_css("table tr[data-id^='smk_']")
        self.css("#issue-key")[0].click()
        second = self.wait_css('[data-testid="new-key"]', text="New key")
        key2 = second.find_element(By.CSS_SELECTOR, "input").get_attribute("value")
        wait_until(d, lambda _: len(self.css("table tr[data-id^='smk_']")) == 2, "two keys")
        # Revoke the first key, confirming in place.
        prefix = key[:12]
        cell = self.wait_css("tr[data-id='%s']" % prefix)
        cell.find_element(By.CSS_SELECTOR, "button").click()
        self.wait_css("tr[data-id='%s'] .btn-danger" % prefix, text="Revoke").click()
        self.wait_css("tr[data-id='%s'] .badge-error" % prefix, text="revoked")
        with self.assertRaises(harness.ApiError) as e:
            bravo.get("/sources")
        self.assertEqual(e.exception.status, 401)
        self.assertEqual(harness.Api(self.server.url, key2).get("/sources"), [])
        # Tenant pages are refused to the admin key, with an explanation.
        self.fresh("#/targets/1")
        wait_h1(d, "needs a tenant key")

    # ---- keyboard only ---------------------------------------------------------------

    def test_keyboard_only(self):
        d, dm = self.driver, self.demo
        d.execute_script("sessionStorage.clear()")
        self.fresh("#/targets/%d" % dm["target"])  # a deep link: shown after sign-in
        field = self.wait_css("#api-key")
        self.assertEqual(self.active(), field, "the key field has the focus")
        field.send_keys(self.api.key, Keys.ENTER)
        wait_h1(d, "acme-website")

        # On a fresh load, the first Tab reaches the skip link, visibly focused.
        self.fresh("#/targets/%d" % dm["target"])
        wait_h1(d, "acme-website")
        ActionChains(d).send_keys(Keys.TAB).perform()
        skip = self.active()
        self.assertEqual(skip.get_attribute("id"), "skip")
        self.assertNotEqual(d.execute_script("return getComputedStyle(arguments[0]).outlineStyle", skip), "none")

        # Preview with Enter on the focused button, then the run (focus moves there).
        preview = self.tab_to(lambda e: e.get_attribute("id") == "sync-preview", "the preview button")
        self.assertNotEqual(d.execute_script("return getComputedStyle(arguments[0]).outlineStyle", preview),
                            "none", "a focused button shows its focus")
        preview.send_keys(Keys.ENTER)
        self.wait_css('[data-testid="sync-preview-result"]')
        wait_until(d, lambda _: self.active().get_attribute("id") == "sync-run", "the focus on Run")
        self.active().send_keys(Keys.ENTER)
        self.wait_css('[data-testid="sync-run-result"]')

        # Search by id with Enter; then a listing's history with Enter on its link.
        eid = dm["ids"][0]  # edited by hand: several versions
        box = self.tab_to(lambda e: e.get_attribute("id") == "q-targets", "the search box")
        box.send_keys(eid, Keys.ENTER)
        wait_until(d, lambda _: "q=" in d.current_url, "the search")
        # The page renders the search's rows after the URL changes: tab from
        # there, not from the elements it is about to replace.
        wait_until(d, lambda _: (lambda ids: bool(ids) and all(i.startswith(eid) for i in ids))(
            self.row_ids()), "the search's rows")
        link = self.tab_to(lambda e: e.tag_name == "a" and e.text == eid, "the listing link")
        link.send_keys(Keys.ENTER)
        wait_h1(d, eid)
        # The versions to compare, with the arrow keys in the radio group.
        before = d.current_url
        radio = self.tab_to(lambda e: e.get_attribute("name") == "va", "a 'from' radio")
        radio.send_keys(Keys.ARROW_DOWN)
        wait_until(d, lambda _: d.current_url != before, "another 'from' version in the URL")

        # The main menu, reached backwards from the page: Live feed, then
        # Delivery and a push target's pause button.
        self.tab_to(lambda e: e.text == "Live feed", "the Live feed link", reverse=True).send_keys(Keys.ENTER)
        wait_h1(d, "Live feed")
        self.tab_to(lambda e: e.text == "Delivery", "the Delivery link", reverse=True).send_keys(Keys.ENTER)
        wait_h1(d, "^Delivery$")
        self.tab_to(lambda e: e.text == "website-webhook", "the push target link").send_keys(Keys.ENTER)
        wait_h1(d, "website-webhook")
        toggle = self.tab_to(lambda e: e.get_attribute("id") == "delivery-toggle", "the pause button")
        toggle.send_keys(Keys.ENTER)
        self.wait_css("#delivery-toggle", text="Resume")
        self.active().send_keys(Keys.ENTER)
        self.wait_css("#delivery-toggle", text="Pause")


if __name__ == "__main__":
    harness.run_tests()
