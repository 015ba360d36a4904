"""Screenshots of every dashboard page against the demo data set
(scripts/ui-screenshots.sh; the pictures are in docs/ui.md).

    /usr/bin/python3 tests/ui/screenshots.py --syncmgr build/tools/syncmgr --out docs/img
"""
import argparse
import json
import os
import tempfile

import demo
import harness
from harness import By, Keys, wait_until, wait_h1

W, H = 1200, 800  # small pictures: docs/ui.md shows them at this size


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--syncmgr", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)

    server = harness.Server(args.syncmgr, ["--allow-private-push"])
    receiver = harness.Receiver(status=503, body=b'{"error":"maintenance window"}')
    d = None
    try:
        dm = demo.seed(server, n=240, push_receiver=receiver)
        d = harness.chrome(W, H)
        url = server.url + "/ui/"
        saved = []

        def shot(name):
            path = os.path.join(args.out, "ui-%s.png" % name)
            d.execute_script("document.activeElement && document.activeElement.blur()")
            d.save_screenshot(path)
            saved.append((path, os.path.getsize(path)))

        def open_page(route, heading, ready_css=None):
            d.get("about:blank")
            d.get(url + route)
            wait_h1(d, heading)
            if ready_css:
                wait_until(d, lambda _: d.find_elements(By.CSS_SELECTOR, ready_css), ready_css)

        def scroll_to(css):
            d.execute_script("document.querySelector(arguments[0]).scrollIntoView({block: 'start'});"
                             "window.scrollBy(0, -12)", css)

        d.get("about:blank")
        d.get(url)
        wait_until(d, lambda _: d.find_elements(By.ID, "api-key"), "the sign-in form")
        shot("signin")
        d.find_element(By.ID, "api-key").send_keys(dm["key"], Keys.ENTER)
        wait_h1(d, "^Overview$")
        wait_until(d, lambda _: d.find_elements(By.CSS_SELECTOR, "svg.chart"), "the chart")
        shot("overview")
        scroll_to("#sec-activity")
        shot("overview-activity")

        # Source: an upload, then a full import the guard refuses.
        open_page("#/sources/%d" % dm["source"], "immoportal", "table.properties")
        tmp = tempfile.mkdtemp(prefix="syncmgr-shots-")
        path = os.path.join(tmp, "immoportal-today.ndjson")
        api = dm["api"]
        rows = api.get("/sources/%d/properties?limit=30" % dm["source"])
        with open(path, "w") as f:
            for r in rows:
                f.write(json.dumps(dict(r["data"], price=r["data"]["price"] - 1000)) + "\n")
        d.find_element(By.ID, "upload-file").send_keys(path)
        d.find_element(By.CSS_SELECTOR, ".upload-form button[type=submit]").click()
        wait_until(d, lambda _: d.find_elements(By.CSS_SELECTOR, '[data-testid="upload-ok"]'), "the upload")
        d.find_element(By.ID, "mode-full").click()
        d.find_element(By.CSS_SELECTOR, ".upload-form button[type=submit]").click()
        wait_until(d, lambda _: d.find_elements(By.CSS_SELECTOR, '[data-testid="mass-removal"]'), "the refusal")
        scroll_to("#sec-upload-listings")
        shot("source-mass-removal")

        # Target: preview (with the conflicts and their diffs), then listings.
        open_page("#/targets/%d" % dm["target"], "acme-website", "table.properties")
        d.find_element(By.ID, "sync-preview").click()
        wait_until(d, lambda _: d.find_elements(By.CSS_SELECTOR, "details.conflict table.diff"), "the diffs")
        shot("target")
        scroll_to("#sec-conflicts")
        shot("target-conflicts")

        open_page("#/targets/%d/properties/%s" % (dm["target"], dm["ids"][0]), dm["ids"][0], "table.diff")
        shot("history")

        open_page("#/feed", "Live feed", '.feed-status[data-state="live"]')
        items = [dict(r["data"], price=r["data"]["price"] - 2500) for r in rows[:6]]
        api.import_(dm["source"], items)
        api.post("/sync/%d/%d" % (dm["source"], dm["target"]))
        wait_until(d, lambda _: len(d.find_elements(By.CSS_SELECTOR, "table.feed tbody tr")) >= 12, "events")
        shot("feed")

        wait_until(d, lambda _: api.get("/targets/%d/delivery" % dm["push"])["last_error"], "a refusal")
        open_page("#/delivery/%d" % dm["push"], "website-webhook", ".facts")
        shot("delivery-target")

        d.execute_script("sessionStorage.clear()")
        d.get("about:blank")
        d.get(url + "#/admin?tenant=1")
        d.find_element(By.ID, "api-key").send_keys(harness.ADMIN_KEY, Keys.ENTER)
        wait_h1(d, "^Admin$")
        wait_until(d, lambda _: d.find_elements(By.CSS_SELECTOR, "tr[data-id^='smk_']"), "the keys")
        d.find_element(By.ID, "issue-key").click()
        wait_until(d, lambda _: d.find_elements(By.CSS_SELECTOR, '[data-testid="new-key"]'), "the new key")
        shot("admin")
        for p, n in saved:
            print("%-40s %7d bytes" % (p, n))
    finally:
        if d is not None:
            harness.quit_chrome(d)
        receiver.stop()
        server.stop()


if __name__ == "__main__":
    main()
