"""The daily workflow through the dashboard alone, in headless Chromium
against a real `syncmgr serve` (issue 19): sign in, upload a file and see
the import's stats, dry-run then run a sync, see a listing edited over the
API as a conflict with its diff and overwrite it, open the listing's
history and a diff of two versions, and watch the live feed show an import
made by another client."""
import json
import os

import harness
from harness import By, wait_until, wait_h1

SRC_ITEMS = [
    {"external_id": "a1", "title": "Flat by the park", "price": 250000, "rooms": 3},
    {"external_id": "a2", "title": "House with garden", "price": 480000, "rooms": 5},
    {"external_id": "a/3 ?#", "title": "Loft, odd id", "price": 310000, "rooms": 2},
]


class DailyWorkflow(harness.BrowserCase):
    @classmethod
    def seed(cls):
        cls.api, cls.source, cls.target = cls.tenant_with_source_and_target(cls.server, "Acme")

    def find(self, css):
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def stat(self, container, name):
        return container.find_element(By.CSS_SELECTOR, '[data-field="%s"] strong' % name).text

    def test_daily_workflow(self):
        d = self.driver
        t, s = self.target, self.source

        # 1. Sign in (the key goes in the form, and nowhere in the URL).
        harness.sign_in(d, self.server.url, self.api.key)
        wait_h1(d, "^Overview$")
        self.assertNotIn(self.api.key, d.current_url)
        self.wait_css('a[href="#/sources/%d"]' % s, text="portal").click()
        wait_h1(d, "portal")

        # 2. Upload a JSON file: the import's stats appear.
        path = os.path.join(self.tmp, "listings.json")
        with open(path, "w") as f:
            json.dump(SRC_ITEMS, f)
        self.find("#upload-file").send_keys(path)
        self.find(".upload-form button[type=submit]").click()
        ok = self.wait_css('[data-testid="upload-ok"]', "the import's result")
        self.assertEqual(self.stat(ok, "received"), "3")
        self.assertEqual(self.stat(ok, "created"), "3")
        self.assertEqual(self.find("#upload-progress").get_attribute("value"), "100")
        self.wait_css("table tbody tr[data-id]", "the import log row")
        # The listing with '/', '?' and '#' in its id is listed and linked.
        self.wait_css('tr[data-id="a/3 ?#"]', "the odd id in the listings")

        # 3. Sync: the dry run first (nothing written), then the run.
        d.get(self.server.url + "/ui/#/targets/%d" % t)
        wait_h1(d, "website")
        run = self.find("#sync-run")
        self.assertFalse(run.is_enabled(), "the real run must wait for a preview")
        self.find("#sync-preview").click()
        pv = self.wait_css('[data-testid="sync-preview-result"]', "the preview")
        self.assertEqual(self.stat(pv, "created"), "3")
        self.assertEqual(self.api.get("/targets/%d/properties" % t), [], "a dry run writes nothing")
        wait_until(d, lambda _: run.is_enabled(), "the run button after the preview")
        run.click()
        done = self.wait_css('[data-testid="sync-run-result"]', "the sync's result")
        self.assertEqual(self.stat(done, "created"), "3")
        self.assertEqual(len(self.api.get("/targets/%d/properties" % t)), 3)

        # 4. Someone edits a listing over the API; the target page shows the
        # conflict with a field-level diff against the source.
        edited = dict(SRC_ITEMS[0], price=199000, note="<b>by hand</b>")
        self.api.put("/targets/%d/properties/a1" % t, edited)
        d.refresh()
        wait_h1(d, "website")
        self.wait_css('tr[data-id="a1"] .badge-warn', "the hand-edit badge in the listings")
        self.find("#sync-preview").click()
        conflict = self.wait_css('details.conflict[data-id="a1"] table.diff', "the conflict's diff")
        price = conflict.find_element(By.CSS_SELECTOR, 'tr[data-field="price"]')
        self.assertIn("250000", price.find_element(By.CSS_SELECTOR, ".diff-left").text)
        self.assertIn("199000", price.find_element(By.CSS_SELECTOR, ".diff-right").text)
        note = conflict.find_element(By.CSS_SELECTOR, 'tr[data-field="note"]')
        self.assertIn("diff-added", note.get_attribute("class"))
        self.assertEqual(note.find_element(By.CSS_SELECTOR, ".diff-right").text, "<b>by hand</b>")

        # 5. Overwrite it: preview with overwrite, then run.
        self.find("#oc-overwrite").click()
        self.assertFalse(self.find("#sync-run").is_enabled(), "changed options need a new preview")
        self.find("#sync-preview").click()
        self.wait_css('[data-testid="sync-preview-result"]', text="overwritten")
        self.find("#sync-run").click()
        done = self.wait_css('[data-testid="sync-run-result"]', text="overwrite")
        self.assertEqual(self.stat(done, "updated"), "1")
        row = self.api.get("/targets/%d/properties/a1" % t)
        self.assertEqual(row["data"]["price"], 250000)
        self.assertFalse(row["manually_modified"])

        # 6. The listing's history: three versions, causes, changed fields, a diff.
        self.wait_css('tr[data-id="a1"] a', "the listing link").click()
        wait_h1(d, "a1")
        rows = self.wait_css("table.versions tbody").find_elements(By.CSS_SELECTOR, "tr")
        self.assertEqual([r.get_attribute("data-version") for r in rows], ["3", "2", "1"])
        self.assertIn("manual edit", rows[1].text)
        self.assertEqual(sorted(m.text for m in rows[0].find_elements(By.CSS_SELECTOR, "mark.chip")),
                         ["note", "price"])
        diff = self.find("table.diff")  # 2 → 3 by default
        self.assertIn("199000", diff.find_element(By.CSS_SELECTOR, 'tr[data-field="price"] .diff-left').text)
        # Any two versions: 1 → 2.
        rows[2].find_element(By.CSS_SELECTOR, 'input[name="va"]').click()
        rows[1].find_element(By.CSS_SELECTOR, 'input[name="vb"]').click()
        head = lambda: self.find("table.diff thead").get_attribute("textContent")  # noqa: E731
        wait_until(d, lambda _: "Version 1" in head() and "Version 2" in head(), "the 1 → 2 diff")
        self.assertIn("a=1", d.current_url)
        self.assertIn("b=2", d.current_url)
        marked = self.find(".table.data tr.changed")
        self.assertIn(marked.get_attribute("data-field"), ("note", "price"))

        # 7. The live feed shows an import made by another client.
        d.get(self.server.url + "/ui/#/feed?source_id=%d" % s)
        wait_h1(d, "Live feed")
        self.wait_css('.feed-status[data-state="live"]', "the feed to be live")
        self.api.import_(s, [dict(SRC_ITEMS[1], price=455000)])
        upd = self.wait_css('table.feed tr[data-seq] td', "the import's events", text=r"\d")
        self.assertIsNotNone(upd)
        wait_until(d, lambda _: any("property.updated" in r.text and "a2" in r.text and "price" in r.text
                                    for r in d.find_elements(By.CSS_SELECTOR, "table.feed tbody tr")),
                   "the property.updated of a2 with its changed field")
        wait_until(d, lambda _: any("import.completed" in r.text
                                    for r in d.find_elements(By.CSS_SELECTOR, "table.feed tbody tr")),
                   "the import.completed event")
        # The feed URL carries a feed token, never the key.
        for r in harness.network_requests(d):
            self.assertNotIn(self.api.key, r["url"])


if __name__ == "__main__":
    harness.run_tests()
