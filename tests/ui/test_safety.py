"""The dashboard against hostile data and big targets (issue 19):

- ui/ contains no HTML-parsing sink, no inline script or style, nothing
  from another host (a grep of the source, so the rule is proved, not
  sampled);
- listings, names and errors holding <script>, <img onerror>, javascript:
  URLs and template syntax appear as their literal text on every page, no
  element is created from them, no dialog opens and the console stays
  clean;
- a target of thousands of listings: the overview and the target page ask
  for one bounded page at a time (read from Chromium's DevTools network
  events, not from timings).
"""
import json
import os
import re
import unittest
import urllib.parse

import harness
from harness import By, wait_until, wait_h1
from selenium.common.exceptions import NoAlertPresentException

UI_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "ui")

HOSTILE_IDS = [
    "<script>alert(1)</script>",
    "javascript:alert(2)",
    "{{constructor.constructor('alert(3)')()}}",
    '"><svg onload=alert(4)>',
    "${alert(5)}<img src=x onerror=alert(6)>",
]
HOSTILE_DATA = {
    "title": "<img src=x onerror=alert(7)>",
    "url": "javascript:alert(8)",
    "description": "{{7*7}} <%= 7*7 %> ${7*7}",
    "<b onmouseover=alert(9)>key</b>": "<iframe src=javascript:alert(10)></iframe>",
    "nested": {"html": "<script>alert(11)</script>"},
}
HOSTILE_NAME = "<script>alert(12)</script>{{name}}"
HOSTILE_SOURCE = "<img src=x onerror=alert(13)>"
HOSTILE_PUSH = "{{7*7}}<a href=javascript:alert(14)>x</a>"
HOSTILE_ERROR = b"<img src=x onerror=alert(15)>"

# Every element the dashboard itself creates that could carry script or
# load something: what a page may hold of each.
INJECTION_PROBE = """
const bad = [];
for (const el of document.querySelectorAll('*')) {
  for (const a of el.attributes) {
    if (/^on/i.test(a.name)) bad.push(el.tagName + '[' + a.name + ']');
    if ((a.name === 'href' || a.name === 'src' || a.name === 'action') && /^\\s*javascript:/i.test(a.value)) {
      bad.push(el.tagName + '[' + a.name + '=javascript:]');
    }
  }
}
const scripts = [...document.scripts].map((s) => s.getAttribute('src') || 'INLINE');
if (scripts.length !== 1 || !/\\/app\\.js$/.test(scripts[0])) bad.push('scripts: ' + scripts.join(','));
const imgs = [...document.images].map((i) => i.getAttribute('src'));
if (imgs.some((s) => !/\\/favicon\\.svg$/.test(s))) bad.push('img: ' + imgs.join(','));
for (const tag of ['iframe', 'object', 'embed', 'b', 'style', 'base', 'meta[http-equiv]']) {
  const n = document.body.querySelectorAll(tag).length;
  if (n) bad.push(tag + ' x' + n);
}
for (const s of document.body.querySelectorAll('svg')) if (!s.classList.contains('chart')) bad.push('svg');
for (const a of document.querySelectorAll('a[href]')) {
  const h = a.getAttribute('href');
  if (!(h.startsWith('#') || (h.startsWith('/') && !h.startsWith('//')))) bad.push('a href=' + h);
}
return bad;
"""


class SourceRules(unittest.TestCase):
    """What a grep of ui/ can prove."""

    def files(self, *exts):
        for root, _, names in os.walk(UI_DIR):
            for n in names:
                if n.endswith(exts):
                    path = os.path.join(root, n)
                    with open(path, encoding="utf-8") as f:
                        yield os.path.relpath(path, UI_DIR), f.read()

    def test_no_html_sinks_or_dynamic_code(self):
        sinks = re.compile(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\s*\(|"
                           r"new\s+Function\b|DOMParser|createContextualFragment|srcdoc|"
                           r"set(Timeout|Interval)\(\s*['\"`]|\.style\b|setAttribute\(\s*['\"]on")
        found = [(p, m.group(0)) for p, text in self.files(".js", ".html")
                 for m in sinks.finditer(text)]
        self.assertEqual(found, [])

    def test_no_inline_script_or_style_and_nothing_from_other_hosts(self):
        for path, text in self.files(".html"):
            self.assertNotRegex(text, r"<script(?![^>]*\bsrc=)[^>]*>", path)
            self.assertNotRegex(text, r"<style\b|\sstyle=|\son[a-z]+=", path)
        for path, text in self.files(".js", ".html", ".css"):
            for url in re.findall(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}[^\s'\")]*", text, re.I):
                self.assertEqual(url, "http://www.w3.org/2000/svg", "%s fetches from %s" % (path, url))
            self.assertNotRegex(text, r"@import\s+url|url\(\s*['\"]?https?:", path)


class HostileData(harness.BrowserCase):
    SERVER_ARGS = ["--allow-private-push"]

    @classmethod
    def seed(cls):
        cls.receiver = harness.Receiver(status=400, body=HOSTILE_ERROR)
        cls.receivers.append(cls.receiver)
        cls.tenant_id, cls.api = cls.server.admin.new_tenant(HOSTILE_NAME)
        api = cls.api
        cls.source = api.post("/sources", {"name": HOSTILE_SOURCE})["id"]
        cls.target = api.post("/targets", {"name": HOSTILE_NAME})["id"]
        cls.push = api.post("/targets", {"name": HOSTILE_PUSH, "type": "webhook",
                                         "config": {"url": cls.receiver.url}})["id"]
        items = [dict(HOSTILE_DATA, external_id=i, n=k) for k, i in enumerate(HOSTILE_IDS)]
        api.import_(cls.source, items)
        api.post("/sync/%d/%d" % (cls.source, cls.target))
        api.post("/sync/%d/%d" % (cls.source, cls.push))
        # A hand edit (a conflict with a diff) and a later import (a diff in history).
        api.put("/targets/%d/properties/%s" % (cls.target, harness.eid(HOSTILE_IDS[0])),
                dict(HOSTILE_DATA, external_id=HOSTILE_IDS[0], title="<svg onload=alert(16)>"))
        api.import_(cls.source, [dict(it, description="<script>alert(17)</script>") for it in items])

    def assert_clean(self, must_show):
        """No dialog, no injected element, no console error; every string of
        must_show appears as text."""
        d = self.driver
        try:
            text = d.switch_to.alert.text
            self.fail("a dialog opened: " + text)
        except NoAlertPresentException:
            pass
        self.assertEqual(d.execute_script(INJECTION_PROBE), [], d.current_url)
        body = d.execute_script("return document.body.innerText")
        for s in must_show:
            self.assertIn(s, body, d.current_url)
        self.assertEqual(harness.console_errors(d), [], d.current_url)

    def visit(self, route, heading):
        d = self.driver
        d.get("about:blank")
        d.get(self.server.url + "/ui/" + route)
        wait_h1(d, heading)

    def test_every_page_shows_hostile_data_as_text(self):
        d = self.driver
        harness.sign_in(d, self.server.url, self.api.key)
        wait_h1(d, "^Overview$")
        wait_until(d, lambda _: d.find_elements(By.CSS_SELECTOR, "svg.chart"), "the chart")
        self.assert_clean([HOSTILE_SOURCE, HOSTILE_NAME, HOSTILE_PUSH])

        self.visit("#/sources/%d" % self.source, re.escape(HOSTILE_SOURCE))
        wait_until(d, lambda _: len(d.find_elements(By.CSS_SELECTOR, "table.properties tbody tr")) == 5,
                   "the listings")
        self.assert_clean(HOSTILE_IDS + [HOSTILE_SOURCE])

        self.visit("#/targets/%d" % self.target, re.escape(HOSTILE_NAME))
        d.find_element(By.ID, "sync-preview").click()
        wait_until(d, lambda _: d.find_elements(By.CSS_SELECTOR, "details.conflict table.diff"), "the diff")
        self.assert_clean(HOSTILE_IDS + [HOSTILE_NAME, "<svg onload=alert(16)>",
                                         "<img src=x onerror=alert(7)>", "<b onmouseover=alert(9)>key</b>"])

        # A search for a hostile id puts it in the URL and the page, as text.
        box = d.find_element(By.ID, "q-targets")
        box.send_keys(HOSTILE_IDS[3], harness.Keys.ENTER)
        wait_until(d, lambda _: len(d.find_elements(By.CSS_SELECTOR, "table.properties tbody tr")) == 1,
                   "the search result")
        self.assert_clean([HOSTILE_IDS[3]])

        for kind, owner, heading_owner in (("targets", self.target, HOSTILE_NAME),
                                           ("sources", self.source, HOSTILE_SOURCE)):
            for i in HOSTILE_IDS:
                self.visit("#/%s/%d/properties/%s" % (kind, owner, urllib.parse.quote(i, safe="")), re.escape(i))
                self.assert_clean([i, heading_owner, '{"html":"<script>alert(11)</script>"}'] +
                                  (["<script>alert(17)</script>"] if kind == "sources" else []))

        self.visit("#/feed", "Live feed")
        wait_until(d, lambda _: d.find_elements(By.CSS_SELECTOR, '.feed-status[data-state="live"]'), "live")
        self.api.import_(self.source, [dict(HOSTILE_DATA, external_id=i, n=99) for i in HOSTILE_IDS])
        wait_until(d, lambda _: len(d.find_elements(By.CSS_SELECTOR, "table.feed tbody tr")) >= 5, "events")
        self.assert_clean(HOSTILE_IDS)

        wait_until(d, lambda _: self.api.get("/targets/%d/delivery" % self.push)["last_error"],
                   "the receiver's refusal")
        self.visit("#/delivery", "Delivery")
        wait_until(d, lambda _: d.find_elements(By.CSS_SELECTOR, "tr[data-id]"), "the push target")
        self.assert_clean([HOSTILE_PUSH, HOSTILE_ERROR.decode()])
        self.visit("#/delivery/%d" % self.push, re.escape(HOSTILE_PUSH))
        wait_until(d, lambda _: d.find_elements(By.CSS_SELECTOR, "tr[data-id]"), "the dead letters")
        self.assert_clean([HOSTILE_PUSH, HOSTILE_ERROR.decode()])

        d.execute_script("sessionStorage.clear()")
        harness.sign_in(d, self.server.url, harness.ADMIN_KEY, "#/admin?tenant=%d" % self.tenant_id)
        wait_h1(d, "Admin")
        wait_until(d, lambda _: d.find_elements(By.CSS_SELECTOR, "tr[data-id^='smk_']"), "the keys")
        self.assert_clean([HOSTILE_NAME])


class ManyListings(harness.BrowserCase):
    """A target of thousands of listings: pages ask for one bounded page."""
    N = 3000
    MAX_LIMIT = 100  # the largest page the dashboard may ask for
    MAX_BYTES = 256 << 10  # far below the whole list (over 1 MB, asserted)

    @classmethod
    def seed(cls):
        cls.api, cls.source, cls.target = cls.tenant_with_source_and_target(cls.server, "Big")
        pad = "x" * 400
        items = [{"external_id": "L-%05d" % i, "price": 100000 + i, "text": pad} for i in range(cls.N)]
        ndjson = "\n".join(json.dumps(x) for x in items).encode()
        cls.api.call("POST", "/sources/%d/import" % cls.source, ndjson, "application/x-ndjson")
        cls.api.post("/sync/%d/%d" % (cls.source, cls.target))
        cls.full_bytes = len(cls.api.call("GET", "/targets/%d/properties" % cls.target, raw=True))

    def list_requests(self):
        """The property-list requests (not single listings) since the last call."""
        out = []
        for r in harness.network_requests(self.driver):
            u = urllib.parse.urlsplit(r["url"])
            if re.fullmatch(r"/(sources|targets)/\d+/properties", u.path):
                out.append(dict(r, query=urllib.parse.parse_qs(u.query)))
        return out

    def assert_bounded(self, reqs):
        for r in reqs:
            self.assertIn("limit", r["query"], r["url"])
            self.assertLessEqual(int(r["query"]["limit"][0]), self.MAX_LIMIT, r["url"])
            self.assertLess(r.get("bytes", 0), self.MAX_BYTES, r["url"])

    def test_pages_never_download_the_whole_list(self):
        d = self.driver
        self.assertGreater(self.full_bytes, 4 * self.MAX_BYTES)
        harness.sign_in(d, self.server.url, self.api.key)
        wait_h1(d, "^Overview$")
        wait_until(d, lambda _: d.find_elements(By.CSS_SELECTOR, "svg.chart"), "the overview")
        self.assertEqual(self.list_requests(), [], "the overview reads no property list")

        d.get(self.server.url + "/ui/#/targets/%d" % self.target)
        wait_h1(d, "website")
        wait_until(d, lambda _: len(d.find_elements(By.CSS_SELECTOR, "table.properties tbody tr")) == 50,
                   "the first page")
        reqs = self.list_requests()
        self.assert_bounded(reqs)
        self.assertLessEqual(len(reqs), 2, reqs)  # the page, and the manually_modified probe
        self.assertTrue(any(r["query"]["limit"] == ["50"] and "after" not in r["query"] for r in reqs))

        # Next page: one more bounded request, keyset after the last id.
        d.find_element(By.CSS_SELECTOR, 'a[rel="next"]').click()
        wait_until(d, lambda _: d.find_elements(By.CSS_SELECTOR, 'tr[data-id="L-00050"]'), "page 2")
        reqs = [r for r in self.list_requests() if "manually_modified" not in r["query"]]
        self.assert_bounded(reqs)
        self.assertEqual([r["query"].get("after") for r in reqs], [["L-00049"]])

        # Search deep into the list.
        box = d.find_element(By.ID, "q-targets")
        box.send_keys("L-0299", harness.Keys.ENTER)
        wait_until(d, lambda _: d.find_elements(By.CSS_SELECTOR, 'tr[data-id="L-02999"]'), "the search")
        rows = d.find_elements(By.CSS_SELECTOR, "table.properties tbody tr")
        self.assertEqual(len(rows), 10)
        self.assert_bounded(self.list_requests())

        # The source page and a listing's history are bounded too.
        d.get(self.server.url + "/ui/#/sources/%d" % self.source)
        wait_h1(d, "portal")
        wait_until(d, lambda _: len(d.find_elements(By.CSS_SELECTOR, "table.properties tbody tr")) == 50,
                   "the source's first page")
        self.assert_bounded(self.list_requests())
        d.get(self.server.url + "/ui/#/targets/%d/properties/L-01234" % self.target)
        wait_h1(d, "L-01234")
        self.assertEqual(self.list_requests(), [])


if __name__ == "__main__":
    harness.run_tests()
