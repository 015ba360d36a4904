#!/usr/bin/env python3
"""Issue 18: does an incremental sync of k changes cost the same at N and at N/10?

Generates day 0 and day 1 of N/10 listings with every daily rate ten times the
default (syncmgr-gen --update-ppm/--remove-ppm/--create-ppm), so day 1 holds about
as many changes as the N-listing day 1 in --input-dir, then runs
syncmgr-bench-inproc (in process, no HTTP, the list skipped) on both sizes,
alternating, --runs times each, in fresh directories. The day-1 sync's wall
time is the figure; the goal is the N figure within 1.2x of the N/10 one.

Writes one JSON line (phase "same_k") to --out. Standard library only.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from run_e2e import loadavg, write_jsonl  # noqa: E402

# syncmgr-gen's defaults (bench/gen/gen.cc), ten times over for N/10.
DEFAULT_PPM = {"--update-ppm": 10000, "--remove-ppm": 2000, "--create-ppm": 2000}


def run_inproc(inproc, workdir, day0, day1):
    d = os.path.join(workdir, "db")
    shutil.rmtree(d, ignore_errors=True)
    env = dict(os.environ, SYNCMGR_BENCH_SKIP_LIST="1")
    out = subprocess.run([inproc, d, day0, day1], capture_output=True, text=True, env=env, timeout=3600)
    shutil.rmtree(d, ignore_errors=True)
    if out.returncode != 0:
        raise RuntimeError(f"{inproc} failed: {out.stderr.strip()[:300]}")
    phases = {}
    for line in out.stdout.splitlines():
        if line.startswith("{"):
            r = json.loads(line)
            phases[r["phase"]] = r
    imp, sync = phases["day1_import"], phases["day1_sync"]
    k = imp["created"] + imp["updated"] + imp["removed"]
    return k, sync["seconds"], sync["cpu_s"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--inproc", required=True, help="syncmgr-bench-inproc")
    ap.add_argument("--gen", required=True, help="syncmgr-gen")
    ap.add_argument("--n", type=int, required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--input-dir", required=True, help="day0.ndjson, day1.ndjson of N listings")
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()

    os.makedirs(a.workdir, exist_ok=True)
    small = max(a.n // 10, 10)
    small_dir = os.path.join(a.workdir, "input-small")
    os.makedirs(small_dir, exist_ok=True)
    rates = [x for flag, ppm in DEFAULT_PPM.items() for x in (flag, str(ppm * 10))]
    for day in (0, 1):
        subprocess.run([a.gen, "--n", str(small), "--day", str(day), "--seed", str(a.seed),
                        "--out", os.path.join(small_dir, f"day{day}.ndjson")] + (rates if day else []),
                       check=True)
    sizes = {a.n: a.input_dir, small: small_dir}
    rec = {"phase": "same_k", "n_large": a.n, "n_small": small, "runs": a.runs,
           "loadavg_1m": loadavg(), "sync_s": {}, "sync_cpu_s": {}, "k": {}}
    for _ in range(a.runs):
        for n, d in sizes.items():
            k, sec, cpu = run_inproc(a.inproc, a.workdir, os.path.join(d, "day0.ndjson"),
                                     os.path.join(d, "day1.ndjson"))
            rec["k"][str(n)] = k
            rec["sync_s"].setdefault(str(n), []).append(sec)
            rec["sync_cpu_s"].setdefault(str(n), []).append(cpu)
    rec["loadavg_1m"] = max(rec["loadavg_1m"], loadavg())
    big, little = statistics.median(rec["sync_s"][str(a.n)]), statistics.median(rec["sync_s"][str(small)])
    rec["median_s_large"], rec["median_s_small"] = big, little
    rec["ratio"] = round(big / little, 2) if little > 0 else None
    rec["command"] = (f"bench/e2e/same_k.py --n {a.n} --runs {a.runs} (syncmgr-bench-inproc, "
                      f"syncmgr-gen --n {small} --day 1 {' '.join(rates)})")
    shutil.rmtree(small_dir, ignore_errors=True)
    write_jsonl(a.out, [rec])
    print(json.dumps(rec))


if __name__ == "__main__":
    sys.exit(main())
