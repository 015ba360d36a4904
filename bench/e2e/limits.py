#!/usr/bin/env python3
"""The machine's limits, measured in the same run as Sync Manager (issue 18).

  limit_parse  syncmgr-bench-probe parse day0.ndjson: listings per CPU-second of
               one core for the engine's own canonical form + hash (a day-0
               listing) and for the raw-bytes fast path (an unchanged day-1 one)
  limit_disk   syncmgr-bench-probe disk WORKDIR: sequential write MB/s (O_DIRECT)
               and 4 KiB append + fdatasync per second, on the file system the
               data directory lives on
  limit_nginx  nginx with one worker (bench/e2e/nginx.conf) serving one day-0
               listing on loopback, driven by wrk exactly as the GET phase
               drives syncmgr serve (same threads, connections, duration and
               get.lua); best of --nginx-runs runs

Writes one JSON object per probe (JSON lines) to --out; a probe whose tool is
missing (nginx, wrk) is recorded as skipped. Exit status 0 unless a probe that
could run failed. Standard library only.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from run_e2e import cpu_seconds, free_port, loadavg, write_jsonl  # noqa: E402


def run_probe(cmd, log):
    out = subprocess.run(cmd, capture_output=True, text=True)
    log.write((out.stdout + out.stderr).encode())
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {out.stderr.strip()[:300]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def nginx_cpu_seconds(master):
    """CPU seconds of nginx's master and its workers (their own, not reaped yet)."""
    pids = [master]
    try:
        with open(f"/proc/{master}/task/{master}/children") as f:
            pids += [int(p) for p in f.read().split()]
    except OSError:
        pass
    return sum(cpu_seconds(p) for p in pids)


def first_listing(path):
    with open(path, "rb") as f:
        for line in f:
            if line.strip():
                return line.strip()
    raise RuntimeError(f"{path} holds no listing")


def nginx_runs(a, log):
    prefix = os.path.join(os.path.abspath(a.workdir), "nginx")
    shutil.rmtree(prefix, ignore_errors=True)
    os.makedirs(os.path.join(prefix, "www"))
    os.makedirs(os.path.join(prefix, "tmp"))
    listing = first_listing(os.path.join(a.input_dir, "day0.ndjson"))
    with open(os.path.join(prefix, "www", "listing.json"), "wb") as f:
        f.write(listing)
    port = free_port()
    with open(os.path.join(HERE, "nginx.conf")) as f:
        conf = f.read()
    # Run as root, nginx's worker would switch to `nobody`, who may not read
    # a private scratch directory: it stays the invoking user instead.
    user = "user root;" if os.geteuid() == 0 else ""
    conf = conf.replace("@PREFIX@", prefix).replace("@PORT@", str(port)).replace("@USER@", user)
    with open(os.path.join(prefix, "nginx.conf"), "w") as f:
        f.write(conf)
    proc = subprocess.Popen([a.nginx, "-p", prefix, "-c", os.path.join(prefix, "nginx.conf"),
                             "-e", os.path.join(prefix, "error.log")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    runs = []
    try:
        deadline = time.monotonic() + 20
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"nginx exited: {proc.stderr.read().decode(errors='replace')[:300]}")
            try:
                with urllib.request.urlopen(base + "/health", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("nginx did not answer within 20 s")
                time.sleep(0.1)
        cmd = ["wrk", f"-t{a.wrk_threads}", f"-c{a.connections}", f"-d{max(1, round(a.get_seconds))}s",
               "--latency", "-s", os.path.join(HERE, "get.lua"), base,
               "--", "no-key", str(a.n), "/targets/1/properties/", ""]
        for _ in range(a.nginx_runs):
            load = loadavg()
            cpu0 = nginx_cpu_seconds(proc.pid)
            out = subprocess.run(cmd, capture_output=True, text=True)
            cpu = nginx_cpu_seconds(proc.pid) - cpu0
            log.write((out.stdout + out.stderr).encode())
            m = re.search(r"^WRK_JSON (.*)$", out.stdout, re.M)
            if not m:
                raise RuntimeError(f"wrk failed: {(out.stderr or out.stdout).strip()[:300]}")
            rec = json.loads(m.group(1))
            rec["loadavg_1m"] = max(load, loadavg())
            rec["server_cpu_s"] = round(cpu, 3)
            rec["cpu_us_per_req"] = round(cpu / rec["requests"] * 1e6, 2) if rec["requests"] else None
            runs.append(rec)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    best = max(runs, key=lambda r: r["req_per_s"])
    return {"phase": "limit_nginx", "runs": runs, "req_per_s": best["req_per_s"],
            "latency_us": best["latency_us"], "bytes_per_answer": len(listing),
            "non_2xx": best["non_2xx"], "loadavg_1m": best["loadavg_1m"],
            "cpu_us_per_req": min((r["cpu_us_per_req"] for r in runs if r["cpu_us_per_req"]), default=None),
            "command": (f"nginx (bench/e2e/nginx.conf, 1 worker) serving one listing; "
                        f"wrk -t{a.wrk_threads} -c{a.connections} -d{a.get_seconds:g}s --latency "
                        f"-s bench/e2e/get.lua; best of {a.nginx_runs}")}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--probe", required=True, help="syncmgr-bench-probe")
    ap.add_argument("--n", type=int, required=True)
    ap.add_argument("--input-dir", required=True, help="holds day0.ndjson")
    ap.add_argument("--workdir", required=True, help="scratch; the disk probe writes here")
    ap.add_argument("--out", required=True, help="JSON lines, one per probe")
    ap.add_argument("--max-listings", type=int, default=200000,
                    help="listings the parse probe reads (they are held in memory)")
    ap.add_argument("--write-mib", type=int, default=512)
    ap.add_argument("--fsyncs", type=int, default=2000)
    ap.add_argument("--get-seconds", type=float, default=10)
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--wrk-threads", type=int, default=2)
    ap.add_argument("--nginx-runs", type=int, default=3)
    ap.add_argument("--nginx", default=shutil.which("nginx") or "/usr/sbin/nginx")
    a = ap.parse_args()
    os.makedirs(a.workdir, exist_ok=True)
    log = open(os.path.join(a.workdir, "limits.log"), "ab")
    results, ok = [], True

    def emit(rec):
        rec.setdefault("system", "machine")
        print(json.dumps(rec), flush=True)
        results.append(rec)

    probes = [
        ("limit_parse", lambda: run_probe(
            [a.probe, "parse", os.path.join(a.input_dir, "day0.ndjson"),
             "--max-listings", str(a.max_listings)], log),
         "syncmgr-bench-probe parse day0.ndjson"),
        ("limit_disk", lambda: run_probe(
            [a.probe, "disk", os.path.abspath(a.workdir), "--write-mib", str(a.write_mib),
             "--fsyncs", str(a.fsyncs)], log),
         f"syncmgr-bench-probe disk WORKDIR --write-mib {a.write_mib} --fsyncs {a.fsyncs}"),
    ]
    for phase, fn, command in probes:
        try:
            load = loadavg()
            rec = fn()
            rec.update(phase=phase, loadavg_1m=max(load, loadavg()), command=command)
            emit(rec)
        except (RuntimeError, OSError, ValueError) as e:
            ok = False
            emit({"phase": phase, "error": str(e)})
    if not os.path.exists(a.nginx) or shutil.which("wrk") is None:
        emit({"phase": "limit_nginx", "skipped": "nginx or wrk is not installed"})
    else:
        try:
            emit(nginx_runs(a, log))
        except (RuntimeError, OSError, ValueError) as e:
            ok = False
            emit({"phase": "limit_nginx", "error": str(e)})
    write_jsonl(a.out, results)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
