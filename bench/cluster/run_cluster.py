#!/usr/bin/env python3
"""Cluster-mode benchmark of Sync Manager (issue 17, docs/scaling.md) on loopback.

Starts three `nats-server` processes (one JetStream cluster, R3) and three
`syncmgr serve --cluster` nodes, all on this machine — so on a small box the
figures are a floor, not a ceiling — and runs, phase by phase:

  day0_import  POST /sources/1/import?mode=full of day 0 to the tenant's owner
               (curl -T: streamed); meanwhile node 1's /metrics is sampled:
               `lag_max_messages` is the most stream messages it had not folded
  day0_lag     from the import's answer until nodes 1 and 2 both answer a read
               with min_seq = the answer's seq (replication lag seen by a client)
  day0_sync    POST /sync/1/1
  day1_import  day 1 (~1 % changed), then day1_lag and day1_sync the same way
  failover     --failovers times: SIGKILL the owner, then a one-item import sent
               to another node every 50 ms until one is accepted; `seconds` is
               kill -> first write accepted elsewhere. The killed node is
               restarted (and waited for) before the next round.

Every import and sync answer's stats are checked against syncmgr-gen's
(dayD.stats.json in --input-dir); a mismatch fails the run (exit 1).
Writes one JSON object per phase (JSON lines, "system": "syncmgr-cluster") to
--out. Standard library only; curl and nats-server on PATH (or --nats-server).
"""
import argparse
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
from run_e2e import curl, free_port, loadavg  # noqa: E402  (the same helpers as run_e2e.py)


def http(method, url, key, body=None, timeout=3600):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("X-API-Key", key)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            raw = r.read()
            return r.status, raw
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except OSError:
        return 0, b""


def wait_until(fn, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if fn():
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what}: not within {timeout} s")


class Nats:
    """Three nats-servers, one JetStream cluster on loopback."""

    def __init__(self, binary, workdir):
        self.procs, self.urls = [], []
        ports = [(free_port(), free_port(), free_port()) for _ in range(3)]
        for i, (client, route, monitor) in enumerate(ports):
            conf = os.path.join(workdir, f"nats{i}.conf")
            routes = ", ".join(f'"nats-route://127.0.0.1:{r}"' for _, r, _ in ports)
            with open(conf, "w") as f:
                f.write(f'server_name: "n{i}"\nlisten: "127.0.0.1:{client}"\n'
                        f'http: "127.0.0.1:{monitor}"\n'
                        f'jetstream {{\n  store_dir: "{workdir}/nats{i}"\n'
                        f'  max_memory_store: 256MB\n  max_file_store: 64GB\n}}\n'
                        f'cluster {{\n  name: "syncmgr-bench"\n  listen: "127.0.0.1:{route}"\n'
                        f'  routes: [{routes}]\n}}\n')
            log = open(os.path.join(workdir, f"nats{i}.log"), "ab")
            self.procs.append(subprocess.Popen([binary, "-c", conf], stdout=log, stderr=log))
            self.urls.append(f"nats://127.0.0.1:{client}")
        for _, _, monitor in ports:
            wait_until(lambda m=monitor: http("GET", f"http://127.0.0.1:{m}/healthz", "")[0] == 200,
                       60, "nats-server /healthz")

    def stop(self):
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()


class Node:
    def __init__(self, binary, i, workdir, nats_urls, admin_key, lease_ttl_ms):
        self.i, self.binary, self.admin_key = i, binary, admin_key
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.db = os.path.join(workdir, f"node{i}")
        self.log_path = os.path.join(workdir, f"node{i}.log")
        self.args = [binary, "serve", "--db", self.db, "--host", "127.0.0.1", "--port", str(self.port),
                     "--cluster", ",".join(nats_urls), "--node", f"node{i}", "--advertise", self.base,
                     "--lease-ttl", str(lease_ttl_ms)]
        self.proc = None
        self.start()

    def start(self):
        log = open(self.log_path, "ab")
        env = dict(os.environ, SYNCMGR_ADMIN_KEY=self.admin_key)
        self.proc = subprocess.Popen(self.args, stdout=log, stderr=log, env=env)

        def healthy():
            if self.proc.poll() is not None:
                raise RuntimeError(f"node{self.i} exited with {self.proc.returncode}; see {self.log_path}")
            return http("GET", self.base + "/health", "", timeout=2)[0] == 200

        wait_until(healthy, 600, f"node{self.i} /health")

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def metric(self, series):
        status, body = http("GET", self.base + "/metrics", self.admin_key, timeout=5)
        if status != 200:
            return None
        m = re.search(r"^" + re.escape(series) + r"(\{[^}]*\})? (\S+)$", body.decode(), re.M)
        return float(m.group(2)) if m else None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--syncmgr", required=True)
    ap.add_argument("--nats-server", default=shutil.which("nats-server") or "nats-server")
    ap.add_argument("--n", type=int, required=True)
    ap.add_argument("--input-dir", required=True, help="day0.ndjson, day1.ndjson, dayD.stats.json")
    ap.add_argument("--workdir", required=True, help="data directories and logs go here")
    ap.add_argument("--out", required=True, help="JSON lines, one per phase")
    ap.add_argument("--lease-ttl-ms", type=int, default=10000, help="--lease-ttl of the nodes (default: theirs)")
    ap.add_argument("--failovers", type=int, default=3)
    a = ap.parse_args()

    shutil.rmtree(a.workdir, ignore_errors=True)
    os.makedirs(a.workdir)
    log = open(os.path.join(a.workdir, "cluster.log"), "ab")
    admin_key = "bench-admin-" + secrets.token_hex(16)
    out = open(a.out, "w")
    ok = True

    def emit(rec):
        rec.setdefault("system", "syncmgr-cluster")
        rec.setdefault("n", a.n)
        rec.setdefault("loadavg_1m", loadavg())
        line = json.dumps(rec)
        print(line, flush=True)
        out.write(line + "\n")
        out.flush()

    nats = Nats(a.nats_server, a.workdir)
    nodes = []
    try:
        for i in range(3):
            nodes.append(Node(a.syncmgr, i, a.workdir, nats.urls, admin_key, a.lease_ttl_ms))
        st, body = http("POST", nodes[0].base + "/tenants", admin_key, {"name": "bench"})
        assert st == 201, (st, body)
        key = json.loads(body)["api_key"]
        st, body = http("POST", nodes[0].base + "/sources", key,
                        {"name": "portal", "config": {"ignore_fields": ["scraped_at"]}})
        assert st == 201, (st, body)
        sid = json.loads(body)["id"]
        st, body = http("POST", nodes[0].base + "/targets", key, {"name": "website"})
        assert st == 201, (st, body)
        tid = json.loads(body)["id"]

        def owner():
            for n in nodes:
                if n.proc.poll() is None and (n.metric("syncmgr_cluster_owned_tenants") or 0) >= 1:
                    return n
            return None

        def lag_phase(name, seq):
            t0 = time.monotonic()
            for n in nodes[1:]:
                wait_until(lambda n=n: http("GET", f"{n.base}/sources?min_seq={seq}", key,
                                            timeout=30)[0] == 200, 600, f"{name} on node{n.i}")
            emit({"phase": name, "seconds": round(time.monotonic() - t0, 4), "seq": seq,
                  "command": "GET /sources?min_seq=SEQ on nodes 1 and 2 after the answer"})

        for day in (0, 1):
            path = os.path.join(a.input_dir, f"day{day}.ndjson")
            with open(os.path.join(a.input_dir, f"day{day}.stats.json")) as f:
                expected = json.load(f)
            raw = os.path.getsize(path)
            lag_max, stop = [0.0], threading.Event()

            def sample():
                while not stop.wait(0.2):
                    v = nodes[1].metric("syncmgr_cluster_lag_messages")
                    if v is not None:
                        lag_max[0] = max(lag_max[0], v)

            sampler = threading.Thread(target=sample)
            sampler.start()
            t0 = time.monotonic()
            code, body, _ = curl(["-X", "POST", "-T", path, "-H", "Content-Type: application/x-ndjson",
                                  "-H", f"X-API-Key: {key}", "-H", "Expect:",
                                  f"{nodes[0].base}/sources/{sid}/import?mode=full"], log)
            seconds = time.monotonic() - t0
            stop.set()
            sampler.join()
            stats = (body or {}).get("stats", {})
            match = code == 200 and all(stats.get(k) == expected[k] for k in
                                        ("received", "created", "updated", "unchanged", "removed"))
            ok &= match
            emit({"phase": f"day{day}_import", "seconds": round(seconds, 4),
                  "per_s": round(expected["received"] / seconds), "mb_per_s": round(raw / seconds / 1e6, 1),
                  "lag_max_messages": lag_max[0], "http_code": code, "stats": stats, "match": match,
                  "command": f"curl -T day{day}.ndjson POST /sources/{sid}/import?mode=full (owner)"})
            if code == 200:
                lag_phase(f"day{day}_lag", body["seq"])

            t0 = time.monotonic()
            code, body, _ = curl(["-X", "POST", "-H", f"X-API-Key: {key}",
                                  f"{nodes[0].base}/sync/{sid}/{tid}"], log)
            seconds = time.monotonic() - t0
            stats = (body or {}).get("stats", {})
            want = {k: expected[k] for k in ("created", "updated", "unchanged", "removed")}
            want["conflicts"] = 0
            match = code == 200 and all(stats.get(k) == v for k, v in want.items())
            ok &= match
            emit({"phase": f"day{day}_sync", "seconds": round(seconds, 4), "http_code": code,
                  "stats": stats, "match": match,
                  "changes": want["created"] + want["updated"] + want["removed"],
                  "command": f"curl -X POST /sync/{sid}/{tid} (owner)"})

        for round_ in range(a.failovers):
            victim = owner()
            if victim is None:
                emit({"phase": "failover", "round": round_, "error": "no owner found"})
                ok = False
                break
            other = next(n for n in nodes if n is not victim)
            item = json.dumps({"data": [{"id": f"failover-{round_}", "price": round_}]}).encode()
            victim.kill()
            t0 = time.monotonic()
            status, tries = 0, 0
            while time.monotonic() - t0 < 30 * a.lease_ttl_ms / 1000:
                tries += 1
                req = urllib.request.Request(f"{other.base}/sources/{sid}/import", data=item, method="POST")
                req.add_header("X-API-Key", key)
                req.add_header("Content-Type", "application/json")
                try:
                    with urllib.request.urlopen(req, timeout=60) as r:
                        status = r.status
                except urllib.error.HTTPError as e:
                    status = e.code
                except OSError:
                    status = 0
                if status == 200:
                    break
                time.sleep(0.05)
            seconds = time.monotonic() - t0
            ok &= status == 200
            emit({"phase": "failover", "round": round_, "seconds": round(seconds, 4), "http_code": status,
                  "tries": tries, "lease_ttl_ms": a.lease_ttl_ms, "killed": f"node{victim.i}",
                  "command": "kill -9 the owner; POST a one-item import to another node every 50 ms"})
            victim.start()
    finally:
        for n in nodes:
            n.stop()
        nats.stop()
        out.close()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
