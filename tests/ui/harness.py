"""Shared pieces of the dashboard's browser tests (tests/ui/) and of
scripts/ui-screenshots.sh: a real `syncmgr serve` on a free loopback port
with a temporary data directory, a small client of its HTTP API (urllib),
and headless Chromium driven by chromedriver (Debian's packages).

Every wait here is bounded; nothing asserts a timing.
"""
import http.server
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

# By and Keys are also what the test files import from here.

ADMIN_KEY = "ui-test-admin-key"
# One bound for every wait on the browser or the server (seconds). Generous
# for a sanitizer build on a busy 2-core machine; a wait that passes returns
# at once.
WAIT_S = 30


def syncmgr_path(argv):
    """The syncmgr binary: --syncmgr PATH, or $SYNCMGR_BIN."""
    for i, a in enumerate(argv):
        if a == "--syncmgr" and i + 1 < len(argv):
            return argv[i + 1]
        if a.startswith("--syncmgr="):
            return a.split("=", 1)[1]
    return os.environ.get("SYNCMGR_BIN", "")


class Server:
    """`syncmgr serve --port 0` on a temp data dir; the port is read from
    its "listening on" line, so no port is guessed."""

    def __init__(self, binary, extra_args=()):
        self.dir = tempfile.mkdtemp(prefix="syncmgr-ui-")
        env = dict(os.environ, SYNCMGR_ADMIN_KEY=ADMIN_KEY)
        self.log_path = os.path.join(self.dir, "server.log")
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [binary, "serve", "--db", os.path.join(self.dir, "db"), "--host", "127.0.0.1",
             "--port", "0", *extra_args],
            stdout=subprocess.PIPE, stderr=self._log, env=env)
        self.port = None
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline().decode("utf-8", "replace")
            if not line:
                break
            m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
            if m:
                self.port = int(m.group(1))
                break
        if self.port is None:
            self.stop()
            raise RuntimeError("syncmgr serve did not start; see " + self.log_path)
        # Keep draining stdout so the server never blocks on a full pipe.
        threading.Thread(target=self.proc.stdout.read, daemon=True).start()
        self.url = "http://127.0.0.1:%d" % self.port
        self.admin = Api(self.url, ADMIN_KEY)

    def request_log(self):
        """The server's request log lines (JSON), as parsed objects."""
        self._log.flush()
        out = []
        with open(self.log_path, "rb") as f:
            for line in f:
                try:
                    out.append(json.loads(line))
                except ValueError:
                    pass
        return out

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=WAIT_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=WAIT_S)
        self._log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


class ApiError(Exception):
    def __init__(self, status, body):
        super().__init__("HTTP %d: %s" % (status, body))
        self.status = status
        self.body = body


class Api:
    """A client of the HTTP API with one key."""

    def __init__(self, base, key):
        self.base = base
        self.key = key

    def call(self, method, path, body=None, content_type="application/json", raw=False):
        data = None
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method)
        if self.key:
            req.add_header("X-API-Key", self.key)
        if data is not None:
            req.add_header("Content-Type", content_type)
        try:
            with urllib.request.urlopen(req, timeout=WAIT_S) as r:
                payload = r.read()
                return payload if raw else (json.loads(payload) if payload else None)
        except urllib.error.HTTPError as e:
            raise ApiError(e.code, e.read().decode("utf-8", "replace")) from None

    def get(self, path):
        return self.call("GET", path)

    def post(self, path, body=None):
        return self.call("POST", path, body if body is not None else {})

    def put(self, path, body):
        return self.call("PUT", path, body)

    def import_(self, source_id, items, mode="upsert"):
        return self.call("POST", "/sources/%d/import?mode=%s" % (source_id, mode), items)

    def new_tenant(self, name):
        """→ (tenant id, Api with its key)"""
        t = self.post("/tenants", {"name": name})
        return t["id"], Api(self.base, t["api_key"])


def eid(s):
    """An external_id as one path segment."""
    return urllib.parse.quote(s, safe="")


class Receiver:
    """A webhook receiver on loopback answering every POST with `status`
    and `body`."""

    def __init__(self, status=400, body=b'{"error":"refused by the test receiver"}'):
        self.status = status
        self.body = body
        self.bodies = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                outer.bodies.append(self.rfile.read(n))
                body = outer.body
                self.send_response(outer.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d/hook" % self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


# ---- Browser -------------------------------------------------------------------

def chrome(width=1280, height=900):
    """Headless Chromium with the browser console and DevTools network
    events recorded (driver.get_log("browser" | "performance"))."""

    opts = webdriver.ChromeOptions()
    binary = os.environ.get("CHROMIUM_BIN", "/usr/bin/chromium")
    if os.path.exists("/usr/lib/chromium/chromium") and binary == "/usr/bin/chromium":
        binary = "/usr/lib/chromium/chromium"  # the browser itself, without Debian's wrapper script
    opts.binary_location = binary
    profile = tempfile.mkdtemp(prefix="syncmgr-ui-chrome-")
    for arg in ["--headless=new", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
                "--disable-extensions", "--disable-default-apps", "--mute-audio",
                "--disable-dev-shm-usage",  # small /dev/shm in containers crashes tabs
                "--window-size=%d,%d" % (width, height), "--user-data-dir=" + profile]:
        opts.add_argument(arg)
    if os.geteuid() == 0:
        opts.add_argument("--no-sandbox")  # Chromium refuses to run as root with its sandbox
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    service = Service(os.environ.get("CHROMEDRIVER_BIN", "/usr/bin/chromedriver"))
    driver = webdriver.Chrome(service=service, options=opts)
    driver.set_page_load_timeout(WAIT_S)
    driver.set_script_timeout(WAIT_S)
    driver._syncmgr_profile = profile
    return driver


def quit_chrome(driver):
    profile = getattr(driver, "_syncmgr_profile", None)
    try:
        driver.quit()
    finally:
        if profile:
            shutil.rmtree(profile, ignore_errors=True)


def wait_until(driver, predicate, what, timeout=WAIT_S):
    """Polls predicate(driver) until it is truthy (returns its value), at
    most `timeout` seconds; fails with `what` otherwise."""
    try:
        return WebDriverWait(driver, timeout, poll_frequency=0.1,
                             ignored_exceptions=(StaleElementReferenceException,)).until(
            lambda d: predicate(d))
    except TimeoutException:
        raise AssertionError("timed out after %ds waiting for %s (at %s)" %
                             (timeout, what, driver.current_url)) from None


def network_requests(driver):
    """DevTools Network events since the last call: a list of
    {url, method, status, bytes} for each request the page made."""
    reqs = {}
    for entry in driver.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        p = msg.get("params", {})
        rid = p.get("requestId")
        if msg["method"] == "Network.requestWillBeSent":
            reqs.setdefault(rid, {})
            reqs[rid].update(url=p["request"]["url"], method=p["request"]["method"])
        elif msg["method"] == "Network.responseReceived":
            reqs.setdefault(rid, {})["status"] = p["response"]["status"]
        elif msg["method"] == "Network.loadingFinished":
            reqs.setdefault(rid, {})["bytes"] = p.get("encodedDataLength", 0)
    return [r for r in reqs.values() if "url" in r]


def console_errors(driver):
    """Console entries at SEVERE level since the last call, except the
    network's own lines for HTTP error statuses (the dashboard probes for
    optional API features and reads 404s as "absent"; it handles those)."""
    out = []
    for e in driver.get_log("browser"):
        if e.get("level") != "SEVERE":
            continue
        if e.get("source") == "network" and "status of 4" in e.get("message", ""):
            continue
        out.append(e)
    return out


def sign_in(driver, base_url, key, route="#/"):
    """Opens `route` and signs in through the form."""
    driver.get("about:blank")  # a fresh load, even if the tab shows this very URL
    driver.get(base_url + "/ui/" + route)
    field = wait_until(driver, lambda d: d.find_elements(By.ID, "api-key") and d.find_element(By.ID, "api-key"),
                       "the sign-in form")
    field.send_keys(key, Keys.ENTER)
    wait_until(driver, lambda d: not d.find_elements(By.ID, "api-key") and
               d.find_element(By.ID, "main").get_attribute("aria-busy") is None, "the page after sign-in")


def h1(driver):
    els = driver.find_elements(By.CSS_SELECTOR, "main h1")
    return els[0].text if els else ""


def wait_h1(driver, pattern, timeout=WAIT_S):
    """Waits for the page heading to match `pattern` (a regex) and the page
    to finish rendering."""
    rx = re.compile(pattern)
    return wait_until(driver, lambda d: rx.search(h1(d)) and
                      d.find_element(By.ID, "main").get_attribute("aria-busy") is None and h1(d),
                      "a heading matching %r" % pattern, timeout)


BINARY = None  # the syncmgr under test; set by run_tests()


class BrowserCase(unittest.TestCase):
    """A test class with a real server (SERVER_ARGS), what seed() puts in
    it, and one headless Chromium; every test ends with a clean console."""
    SERVER_ARGS = ()

    @classmethod
    def setUpClass(cls):
        cls.server = Server(BINARY, cls.SERVER_ARGS)
        cls.receivers = []
        cls.tmp = tempfile.mkdtemp(prefix="syncmgr-ui-files-")
        cls.driver = None
        try:
            cls.seed()
            cls.driver = chrome()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def seed(cls):
        """Fills cls.server over the API (subclasses)."""

    @classmethod
    def tearDownClass(cls):
        if cls.driver is not None:
            quit_chrome(cls.driver)
        for r in cls.receivers:
            r.stop()
        cls.server.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def tearDown(self):
        self.assertEqual(console_errors(self.driver), [])

    @staticmethod
    def tenant_with_source_and_target(server, name, source="portal", target="website"):
        """→ (Api of a new tenant, its source id, its target id)"""
        _, api = server.admin.new_tenant(name)
        return (api, api.post("/sources", {"name": source})["id"],
                api.post("/targets", {"name": target})["id"])

    def css(self, selector):
        return self.driver.find_elements(By.CSS_SELECTOR, selector)

    def wait_css(self, selector, what=None, text=None):
        """The first element matching `selector` (whose text matches the
        regex `text`, if given), once there is one."""
        def ready(d):
            for el in d.find_elements(By.CSS_SELECTOR, selector):
                if text is None or re.search(text, el.text):
                    return el
            return None
        return wait_until(self.driver, ready, what or selector)


def run_tests():
    """unittest's main for a test file that ctest runs as
    `python3 FILE --syncmgr PATH [unittest args]`."""
    global BINARY
    BINARY = syncmgr_path(sys.argv)
    if not BINARY or not os.access(BINARY, os.X_OK):
        print("usage: %s --syncmgr PATH/TO/syncmgr [unittest args]" % sys.argv[0], file=sys.stderr)
        sys.exit(2)
    argv, skip = [], False
    for a in sys.argv:
        if skip:
            skip = False
        elif a == "--syncmgr":
            skip = True
        elif not a.startswith("--syncmgr="):
            argv.append(a)
    unittest.main(module="__main__", argv=argv, verbosity=2)

