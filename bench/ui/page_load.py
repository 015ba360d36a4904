#!/usr/bin/python3
"""How long the dashboard's pages take to become usable with a big target
(issue 19: goal under a second at 1,000,000 listings).

  /usr/bin/python3 bench/ui/page_load.py --syncmgr BUILD/tools/syncmgr [--n N]
      [--input day0.ndjson] [--edits E] [--repeat R] [--out FILE]

Starts `syncmgr serve --port 0` on a scratch directory, imports N listings
into one source (the NDJSON file --input, e.g. bench/gen's day0.ndjson, or
generated listings when absent), syncs them into one target, edits E of them
by hand over the API (the open conflicts), and then, in headless Chromium
(tests/ui/harness.py: Debian's chromium, chromium-driver, python3-selenium),
loads each page R times by a fresh load of its deep link, the key already
signed in:

  overview  #/              ready: the target's row with its counts
  target    #/targets/1     ready: the listings' first page and the conflicts
  source    #/sources/1     ready: the listings' first page

"Usable" is the time from the start of the navigation (the page's own
performance.now() clock, which starts there) until the page's content is in the
DOM and it is no longer busy, read by polling every 10 ms. Each page also
reports the API requests it made and the bytes they answered, which stay
the same at any N: no page reads a whole list (tests/ui/test_safety.py
checks that at 3,000 listings).

Prints one JSON object (and writes it to --out): n, edits, the time to seed,
and per page its median / min / max ms, requests and bytes. scripts/bench.sh
runs it as a program of the run (bench/results/…, docs/benchmarks.md).
No timing is asserted; the exit status is 0 when every page became usable.
"""
import argparse
import json
import os
import statistics
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "ui"))

import harness  # noqa: E402
from harness import By  # noqa: E402

CHUNK = 50_000  # listings per import request
WAIT_S = 120  # bound on one page load (a cold first page at 1M listings)


def ndjson_chunks(path, n):
    """Chunks of at most CHUNK lines (bytes) of the first n listings."""
    buf, count = [], 0
    if path:
        with open(path, "rb") as f:
            for line in f:
                if count >= n:
                    break
                if not line.strip():
                    continue
                buf.append(line if line.endswith(b"\n") else line + b"\n")
                count += 1
                if len(buf) == CHUNK:
                    yield b"".join(buf)
                    buf = []
    else:
        for i in range(n):
            buf.append(json.dumps({"external_id": "L%08d" % i, "price": 100000 + i, "rooms": i % 7,
                                   "city": "City %d" % (i % 97), "title": "Listing %d" % i}).encode() + b"\n")
            count += 1
            if len(buf) == CHUNK:
                yield b"".join(buf)
                buf = []
    if buf:
        yield b"".join(buf)


def seed(server, n, path, edits):
    """→ (tenant key, source id, target id, listings imported)."""
    _, api = server.admin.new_tenant("page-load")
    source = api.post("/sources", {"name": "portal"})["id"]
    target = api.post("/targets", {"name": "website"})["id"]
    for chunk in ndjson_chunks(path, n):
        api.call("POST", "/sources/%d/import?mode=upsert" % source, chunk, content_type="application/x-ndjson")
    imported = api.get("/sources/%d" % source)["live_count"]
    api.post("/sync/%d/%d" % (source, target))
    page = api.get("/targets/%d/properties?limit=%d" % (target, max(1, edits)))
    for p in page[:edits]:
        data = dict(p["data"], price="edited by hand")
        api.put("/targets/%d/properties/%s" % (target, urllib.request.quote(p["external_id"], safe="")), data)
    return api.key, source, target, imported


def load(driver, url, ready):
    """One fresh load of `url`; → ms from the navigation's start to ready."""
    driver.get("about:blank")
    driver.get_log("performance")  # drop what came before
    driver.get(url)
    harness.wait_until(driver, lambda d: ready(d) and
                       d.find_element(By.ID, "main").get_attribute("aria-busy") is None,
                       "the page at " + url, timeout=WAIT_S)
    return driver.execute_script("return performance.now()")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--syncmgr", default=os.environ.get("SYNCMGR_BIN", ""))
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--input", default="", help="NDJSON listings (bench/gen day0.ndjson)")
    ap.add_argument("--edits", type=int, default=20)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--out", default="")
    a = ap.parse_args()
    if not a.syncmgr:
        ap.error("--syncmgr is required")

    server = harness.Server(a.syncmgr)
    driver = None
    try:
        t0 = time.monotonic()
        key, source, target, imported = seed(server, a.n, a.input, a.edits)
        seed_s = time.monotonic() - t0
        driver = harness.chrome()
        harness.sign_in(driver, server.url, key)

        def rows(d):
            return d.find_elements(By.CSS_SELECTOR, "table.properties tbody tr[data-id]")
        pages = {
            "overview": ("#/", lambda d: d.find_elements(
                By.CSS_SELECTOR, 'tr[data-id="%d"]' % target)),
            "target": ("#/targets/%d" % target, lambda d: rows(d) and (a.edits == 0 or d.find_elements(
                By.CSS_SELECTOR, "details.conflict"))),
            "source": ("#/sources/%d" % source, rows),
        }
        out = {"bench": "ui_page_load", "command": "bench/ui/page_load.py --n %d" % a.n, "n": imported,
               "edits": a.edits, "repeat": a.repeat, "seed_s": round(seed_s, 2), "pages": {}}
        for name, (route, ready) in pages.items():
            times = [load(driver, server.url + "/ui/" + route, ready) for _ in range(a.repeat)]
            reqs = [r for r in harness.network_requests(driver) if "/ui/" not in r["url"]]
            out["pages"][name] = {
                "median_ms": round(statistics.median(times), 1), "min_ms": round(min(times), 1),
                "max_ms": round(max(times), 1), "api_requests": len(reqs),
                "api_bytes": sum(r.get("bytes", 0) for r in reqs)}
        text = json.dumps(out, indent=1)
        print(text)
        if a.out:
            with open(a.out, "w") as f:
                f.write(text + "\n")
        return 0
    finally:
        if driver is not None:
            harness.quit_chrome(driver)
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
