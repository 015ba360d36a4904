#!/usr/bin/env python3
"""Results of scripts/bench.sh: assembles one JSON file, and renders docs/benchmarks.md.

  report.py assemble --size S --n N --seed S --workdir DIR --build-dir DIR --out FILE --command CMD
      reads DIR/syncmgr.jsonl (bench/e2e/run_e2e.py), DIR/postgres.jsonl (the peer),
      DIR/limits.jsonl (bench/e2e/limits.py: the machine's limits), DIR/micro/*.json
      (Google Benchmark) and writes FILE: machine, date, git commit, every phase of
      both systems, the limits, the micro benchmarks, and the same-run ratios.
  report.py docs --results FILE --md docs/benchmarks.md --img-dir docs/img
      renders the Markdown page (tables, ratios, goals) and PNG plots (gnuplot) from
      FILE; bench/report_notes.md (what bounds each figure; hand-written) is included.

Standard library only; gnuplot is optional (no plots without it).
"""
import argparse
import datetime
import glob
import json
import os
import platform
import shutil
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PHASES = ["day0_import", "day0_sync", "day1_import", "day1_sync", "list", "get", "history", "list_cold",
          "storage"]


def read_jsonl(path):
    out = {}
    if not os.path.exists(path):
        return out
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("{"):
                rec = json.loads(line)
                out[rec.get("phase", "?")] = rec
    return out


def machine():
    info = {"cores": os.cpu_count(), "kernel": platform.release()}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    info["cpu_model"] = line.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal"):
                    info["memory_gib"] = round(int(line.split()[1]) / 1024 / 1024, 1)
        with open("/etc/os-release") as f:
            for line in f:
                if line.startswith("PRETTY_NAME="):
                    info["os"] = line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    eviction = page_cache_eviction()
    if eviction:
        info["page_cache_eviction"] = eviction
    return info


def page_cache_eviction():
    """A DAMON scheme that pages out idle memory of the physical address space
    (some VMs run one to give memory back to their host): it evicts the page
    cache a phase would read, so figures then depend on how long the files sat
    idle (bench/report_notes.md, "Round 30"). None if the kernel runs none."""
    root = "/sys/kernel/mm/damon/admin/kdamonds"

    def read(path):
        with open(path) as f:
            return f.read().strip()

    try:
        for kd in sorted(os.listdir(root)):
            if not kd.isdigit() or read(f"{root}/{kd}/state") != "on":
                continue
            for ctx in sorted(os.listdir(f"{root}/{kd}/contexts")):
                c = f"{root}/{kd}/contexts/{ctx}"
                if not ctx.isdigit() or read(f"{c}/operations") != "paddr":
                    continue
                aggr_us = int(read(f"{c}/monitoring_attrs/intervals/aggr_us"))
                for sc in sorted(os.listdir(f"{c}/schemes")):
                    if not sc.isdigit() or read(f"{c}/schemes/{sc}/action") != "pageout":
                        continue
                    q = f"{c}/schemes/{sc}/quotas"
                    age = int(read(f"{c}/schemes/{sc}/access_pattern/age/min"))
                    per_ms = int(read(f"{q}/reset_interval_ms")) or 1000
                    return {"by": "DAMON pageout (paddr)",
                            "idle_s": round(age * aggr_us / 1e6, 1),
                            "quota_mib_per_s": round(int(read(f"{q}/bytes")) / 2**20 * 1000 / per_ms, 1)}
    except (OSError, ValueError):
        return None
    return None


def git_info():
    def run(*args):
        try:
            return subprocess.run(["git", "-C", REPO] + list(args), capture_output=True,
                                  text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            return ""
    return {"commit": run("rev-parse", "HEAD"), "dirty": bool(run("status", "--porcelain", "--untracked-files=no"))}


def micro(path):
    """Google Benchmark JSON -> a compact list (aggregates dropped)."""
    with open(path) as f:
        data = json.load(f)
    rows = []
    for b in data.get("benchmarks", []):
        if b.get("run_type") == "aggregate":
            continue
        row = {k: b[k] for k in ("name", "real_time", "cpu_time", "time_unit", "iterations") if k in b}
        for k, v in b.items():
            if k in ("bytes_per_second", "items_per_second", "label") or (
                    isinstance(v, (int, float)) and k not in row and k not in (
                        "family_index", "per_family_instance_index", "repetitions",
                        "repetition_index", "threads")):
                row[k] = v
        rows.append(row)
    return {"context": {k: data.get("context", {}).get(k) for k in ("date", "num_cpus", "mhz_per_cpu", "library_build_type")},
            "benchmarks": rows}


def ratio(a, b):
    if not a or not b:
        return None
    return round(a / b, 2)


def limit_ratios(sm, lim):
    """Sync Manager's figures over the machine's limits measured in the same run."""
    out = {}
    parse, disk, nginx = lim.get("limit_parse", {}), lim.get("limit_disk", {}), lim.get("limit_nginx", {})
    n = {ph: sm.get(ph, {}).get("stats", {}).get("received") for ph in ("day0_import", "day1_import")}
    for ph, path in (("day0_import", "canonical"), ("day1_import", "raw")):
        s, p = sm.get(ph, {}), parse.get(path, {})
        out[ph + "_vs_parse_core"] = ratio(s.get("per_s"), p.get("listings_per_cpu_s"))
        if s.get("server_cpu_s") and n[ph] and p.get("cpu_us_per_listing"):
            out[ph + "_cpu_vs_parse"] = ratio(s["server_cpu_s"] / n[ph] * 1e6, p["cpu_us_per_listing"])
    d0 = sm.get("day0_import", {})
    if d0.get("disk_write_bytes") and d0.get("seconds"):
        out["day0_write_vs_disk"] = ratio(d0["disk_write_bytes"] / d0["seconds"] / 1e6, disk.get("write_mb_per_s"))
    g = sm.get("get", {})
    out["get_vs_nginx"] = ratio(g.get("req_per_s"), nginx.get("req_per_s"))
    out["get_cpu_vs_nginx"] = ratio(g.get("cpu_us_per_req"), nginx.get("cpu_us_per_req"))
    return {k: v for k, v in out.items() if v is not None}


def assemble(a):
    sm = read_jsonl(os.path.join(a.workdir, "syncmgr.jsonl"))
    pg = read_jsonl(os.path.join(a.workdir, "postgres.jsonl"))
    mic = {}
    for path in sorted(glob.glob(os.path.join(a.workdir, "micro", "*.json"))):
        name = os.path.splitext(os.path.basename(path))[0]
        try:
            mic[name] = micro(path)
        except (ValueError, OSError) as e:
            mic[name] = {"error": repr(e)}
    programs = {}
    for path in sorted(glob.glob(os.path.join(a.workdir, "programs", "*.json"))):
        name = os.path.splitext(os.path.basename(path))[0]
        try:
            with open(path) as f:
                text = f.read().strip()
            programs[name] = json.loads(text[text.index("{"):]) if "{" in text else {"error": "no output"}
        except (ValueError, OSError) as e:
            programs[name] = {"error": repr(e)}
    lim = read_jsonl(os.path.join(a.workdir, "limits.jsonl"))
    same_k = read_jsonl(os.path.join(a.workdir, "same_k.jsonl")).get("same_k")
    ratios = {}
    for ph in ("day0_import", "day0_sync", "day1_import", "day1_sync"):
        if ph in sm and ph in pg:
            # Like with like: the peer's times include its client's start (psql), so
            # Sync Manager's wall time (curl's start included) is the one compared.
            mine = sm[ph].get("wall_seconds", sm[ph].get("seconds"))
            ratios[ph + "_speedup"] = ratio(pg[ph].get("seconds"), mine)
    if "get" in sm and "get" in pg:
        ratios["get_throughput"] = ratio(sm["get"].get("req_per_s"), pg["get"].get("stats", {}).get("tps"))
    if "storage" in sm and "storage" in pg:
        best = sm["storage"].get("compacted_bytes", sm["storage"].get("data_dir_bytes"))
        ratios["storage_size"] = ratio(best, pg["storage"].get("stats", {}).get("database_bytes"))
    ratios.update(limit_ratios(sm, lim))
    loads = [r.get("loadavg_1m") for r in list(sm.values()) + list(pg.values()) if r.get("loadavg_1m") is not None]
    res = {
        "suite": "syncmgr-bench", "format": 1, "size": a.size, "n": a.n, "seed": a.seed,
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "command": a.command, "machine": machine(), "git": git_info(),
        "build": {"dir": os.path.relpath(a.build_dir, REPO), "type": "Release"},
        "loadavg_1m": {"min": min(loads) if loads else None, "max": max(loads) if loads else None},
        "syncmgr": sm, "postgres": pg, "limits": lim, "ratios": ratios, "micro": mic, "programs": programs,
        "same_k": same_k,
        "checks": {"syncmgr_stats_match": all(r.get("match", True) is not False for r in sm.values()) and bool(sm),
                   "postgres_stats_match": (all(r.get("match", True) is not False for r in pg.values()) if pg else None)},
    }
    with open(a.out, "w") as f:
        json.dump(res, f, indent=1, sort_keys=False)
        f.write("\n")
    print(a.out)


# ---- docs ---------------------------------------------------------------------

def fmt_n(v, digits=0):
    if v is None:
        return "–"
    if isinstance(v, float) and digits:
        return f"{v:,.{digits}f}"
    return f"{v:,.0f}"


def fmt_s(v):
    if v is None:
        return "–"
    return f"{v * 1000:.0f} ms" if v < 1 else f"{v:.2f} s"


def fmt_ratio(v):
    return "–" if v is None else f"{v:g}×"


def mib(b):
    return "–" if b is None else f"{b / 1048576:,.0f} MiB"


def gnuplot(script, out_png):
    if shutil.which("gnuplot") is None:
        return False
    r = subprocess.run(["gnuplot"], input=script, text=True, capture_output=True)
    if r.returncode != 0:
        sys.stderr.write(r.stderr)
    return r.returncode == 0 and os.path.exists(out_png)


def plots(res, img_dir, stem):
    os.makedirs(img_dir, exist_ok=True)
    sm, pg = res["syncmgr"], res["postgres"]
    made = []
    # 1. Phase times, both systems.
    rows = [(ph, sm.get(ph, {}).get("seconds"), pg.get(ph, {}).get("seconds"))
            for ph in ("day0_import", "day0_sync", "day1_import", "day1_sync")]
    rows = [r for r in rows if r[1]]
    if rows:
        dat = os.path.join(img_dir, f"{stem}-phases.dat")
        with open(dat, "w") as f:
            for ph, s, p in rows:
                f.write(f'"{ph.replace("_", " ")}" {s} {p if p else "NaN"}\n')
        png = os.path.join(img_dir, f"{stem}-phases.png")
        ok = gnuplot(f"""
set terminal pngcairo size 900,420 font ',10'
set output '{png}'
set title 'Wall time per phase, N = {res["n"]:,} (log scale; lower is better)'
set style data histograms
set style histogram cluster gap 1
set style fill solid 0.8 border -1
set logscale y
set ylabel 'seconds'
set key top right
set grid ytics
plot '{dat}' using 2:xtic(1) title 'Sync Manager (HTTP)' lc rgb '#1f77b4', '' using 3 title 'PostgreSQL 15 peer' lc rgb '#ff7f0e'
""", png)
        os.remove(dat)
        if ok:
            made.append(("Wall time per phase", png))
    # 2. GET latency distribution.
    g = sm.get("get", {}).get("latency_us")
    pgs = pg.get("get", {}).get("stats", {})
    if g:
        dat = os.path.join(img_dir, f"{stem}-get.dat")
        with open(dat, "w") as f:
            f.write(f'"p50" {g["p50"] / 1000} {pgs.get("p50_ms") or "NaN"}\n')
            f.write(f'"p90" {g["p90"] / 1000} NaN\n')
            f.write(f'"p99" {g["p99"] / 1000} {pgs.get("p99_ms") or "NaN"}\n')
        png = os.path.join(img_dir, f"{stem}-get.png")
        ok = gnuplot(f"""
set terminal pngcairo size 700,380 font ',10'
set output '{png}'
set title 'Single-property GET latency, 64 connections'
set style data histograms
set style histogram cluster gap 1
set style fill solid 0.8 border -1
set ylabel 'ms'
set yrange [0:*]
set grid ytics
plot '{dat}' using 2:xtic(1) title 'Sync Manager (HTTP, wrk)' lc rgb '#1f77b4', '' using 3 title 'PostgreSQL (pgbench, no HTTP)' lc rgb '#ff7f0e'
""", png)
        os.remove(dat)
        if ok:
            made.append(("GET latency", png))
    # 3. Server peak RSS per phase.
    rows = [(ph, sm[ph].get("peak_rss_mib")) for ph in PHASES if ph in sm and sm[ph].get("peak_rss_mib")]
    if rows:
        dat = os.path.join(img_dir, f"{stem}-rss.dat")
        with open(dat, "w") as f:
            for ph, v in rows:
                f.write(f'"{ph.replace("_", " ")}" {v}\n')
        png = os.path.join(img_dir, f"{stem}-rss.png")
        ok = gnuplot(f"""
set terminal pngcairo size 800,360 font ',10'
set output '{png}'
set title 'syncmgr serve: peak RSS per phase (VmHWM, reset at each phase)'
set style data histograms
set style fill solid 0.8 border -1
set ylabel 'MiB'
set yrange [0:*]
set grid ytics
unset key
plot '{dat}' using 2:xtic(1) lc rgb '#2ca02c'
""", png)
        os.remove(dat)
        if ok:
            made.append(("Peak RSS per phase", png))
    return made


def goals(res):
    sm, pg, r = res["syncmgr"], res["postgres"], res["ratios"]
    rows = []

    def add(figure, goal, measured, met):
        rows.append((figure, goal, measured, "–" if met is None else ("yes" if met else "**no**")))

    def peer_ok(key, want):  # no peer in this run: only the absolute part is judged
        return r.get(key) is None or r[key] >= want

    d0 = sm.get("day0_import", {})
    add("day-0 import over HTTP (NDJSON)", "≥ 100,000 listings/s, ≥ 10× the peer",
        f'{fmt_n(d0.get("per_s"))}/s, {fmt_ratio(r.get("day0_import_speedup"))} the peer',
        (d0.get("per_s", 0) >= 100000 and peer_ok("day0_import_speedup", 10)) if d0 else None)
    d1 = sm.get("day1_import", {})
    add("day-1 full import (1 % changed)", "≥ 250,000 listings/s",
        f'{fmt_n(d1.get("per_s"))}/s', d1.get("per_s", 0) >= 250000 if d1 else None)
    s1 = sm.get("day1_sync", {})
    add("incremental sync of 1 %", "< 100 ms, ≥ 50× the peer",
        f'{fmt_s(s1.get("seconds"))} ({fmt_n(s1.get("changes"))} changes), {fmt_ratio(r.get("day1_sync_speedup"))} the peer',
        (s1.get("seconds", 9) < 0.1 and peer_ok("day1_sync_speedup", 50)) if s1 else None)
    g = sm.get("get", {})
    lat = g.get("latency_us", {})
    add("single-property GET, 64 connections", "≥ 30,000 req/s, p99 < 5 ms, ≥ 3× the peer",
        f'{fmt_n(g.get("req_per_s"))} req/s, p99 {lat.get("p99", 0) / 1000:.2f} ms, {fmt_ratio(r.get("get_throughput"))} the peer' if lat else "–",
        (g.get("req_per_s", 0) >= 30000 and lat.get("p99", 1e9) < 5000 and peer_ok("get_throughput", 3)) if lat else None)
    li = sm.get("list", {})
    add("full target list", "≥ 300 MB/s, RSS growth < 64 MiB",
        f'{fmt_n(li.get("mb_per_s"), 1)} MB/s, RSS +{fmt_n(li.get("rss_growth_mib"), 1)} MiB',
        (li.get("mb_per_s", 0) >= 300 and li.get("rss_growth_mib", 1e9) < 64) if li else None)
    st = sm.get("storage", {})
    add("storage, N listings + 2 days of history", "≤ 1.0 × the raw JSON (day 0)",
        f'{st.get("ratio_to_raw_day0", "–")}× ({fmt_n(st.get("bytes_per_listing"))} B/listing)',
        st.get("ratio_to_raw_day0", 9) <= 1.0 if st else None)
    peak = max([sm.get(p, {}).get("peak_rss_mib", 0) for p in ("day0_import", "day1_import")] or [0])
    add("import peak RSS", "< 1 GiB", f"{fmt_n(peak)} MiB", peak < 1024 if peak else None)
    return rows


# Issue 18's goals (engine write and read paths): judged on a 1m run, next to
# the last 1m run before the issue's changes (commit 9658abc), when present.
ISSUE18_BEFORE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "1m-2026-11-25.json")


def issue18_goals(res, before):
    """Rows (figure, goal, before, measured, met) of issue 18's goal table."""
    rows = []
    lim = res.get("limits", {})
    nginx = lim.get("limit_nginx", {}).get("req_per_s")

    def fig(r):
        sm, ratios = r["syncmgr"], r.get("ratios", {})
        n = r.get("n") or 1
        d0, d1 = sm.get("day0_import", {}), sm.get("day1_import", {})
        s0, s1 = sm.get("day0_sync", {}), sm.get("day1_sync", {})
        g, lc, st = sm.get("get", {}), sm.get("list_cold", {}), sm.get("storage", {})
        cpu0 = d0.get("server_cpu_s")
        rss = [v.get("peak_rss_mib") for v in sm.values() if isinstance(v, dict) and v.get("peak_rss_mib")]
        raw = st.get("raw_day0_bytes")
        return {
            "d0": (d0.get("per_s"), ratios.get("day0_import_speedup"), cpu0 * 1e6 / n if cpu0 else None),
            "d1": d1.get("per_s"),
            "s1": (s1.get("seconds"), s1.get("changes"), s1.get("wall_seconds")),
            "s0": s0.get("seconds"),
            "get": (g.get("req_per_s"), (g.get("latency_us") or {}).get("p99")),
            "lc": lc.get("mb_per_s"),
            "st": st.get("data_dir_bytes") / raw if st.get("data_dir_bytes") and raw else None,
            "rss": max(rss) if rss else None,
        }

    now = fig(res)
    old = fig(before) if before else None

    def add(figure, goal, key, show, met, show_now=None):
        b = show(old[key]) if old and old.get(key) is not None else "–"
        m = (show_now or show)(now[key]) if now.get(key) is not None else "–"
        rows.append((figure, goal, b, m, "–" if met is None else ("yes" if met else "**no**")))

    def num(x, f="{:,.0f}"):
        return "–" if x is None else f.format(x)

    d0 = now["d0"]
    add("day-0 import over HTTP", "≥ 100,000/s, ≥ 7× the peer, ≤ 15 server CPU-s per 1 M", "d0",
        lambda v: f"{num(v[0])}/s, {num(v[1], '{:.2f}')}× the peer, {num(v[2], '{:.1f}')} CPU-s",
        None if d0[0] is None else (d0[0] >= 100_000 and (d0[1] or 0) >= 7 and (d0[2] or 99) <= 15))
    add("day-1 full import", "≥ 250,000/s", "d1", lambda v: f"{num(v)}/s",
        None if now["d1"] is None else now["d1"] >= 250_000)
    sk = res.get("same_k")
    def s1_show(v):
        wall = f", wall {num(v[2] * 1000)} ms with curl's start" if v[2] else ""
        return f"{num(v[0] * 1000 if v[0] else None)} ms ({num(v[1])} changes{wall})"

    if sk and sk.get("ratio"):
        def s1_now(v):
            return (s1_show(v) + f"; the same k in process: {num(sk['median_s_large'] * 1000)} ms at "
                    f"{num(sk['n_large'])} against {num(sk['median_s_small'] * 1000)} ms at "
                    f"{num(sk['n_small'])} ({sk['ratio']:.2f}×)")
        add("incremental sync of 1 %", "< 100 ms, and the same k at N/10 within 1.2×", "s1", s1_show,
            None if now["s1"][0] is None else (now["s1"][0] < 0.1 and sk["ratio"] <= 1.2),
            show_now=s1_now)
    else:
        add("incremental sync of 1 %", "< 100 ms (and the same k at 100 k within 1.2×: not in this run)",
            "s1", s1_show, None if now["s1"][0] is None else now["s1"][0] < 0.1)
    add("first (full) sync", "< 3 s", "s0", lambda v: f"{num(v, '{:.2f}')} s",
        None if now["s0"] is None else now["s0"] < 3)
    gr, gp99 = now["get"]

    def get_row(v):
        return f"{num(v[0])} req/s, p99 {num(v[1] / 1000 if v[1] else None, '{:.2f}')} ms"

    add("single-property GET, 64 connections", "≥ 40,000 req/s, p99 < 5 ms, ≥ 50 % of nginx"
        + (f" (nginx: {num(nginx)} req/s in this run)" if nginx else ""), "get",
        get_row,
        None if gr is None else (gr >= 40_000 and (gp99 or 1e9) < 5000 and (not nginx or gr >= nginx / 2)),
        # nginx is measured in this run only: the share is of this run's.
        lambda v: get_row(v) + (f", {num(100 * v[0] / nginx)} % of nginx" if nginx and v[0] else ""))
    add("whole target list, cold", "≥ 300 MB/s", "lc", lambda v: f"{num(v, '{:.1f}')} MB/s",
        None if now["lc"] is None else now["lc"] >= 300)
    add("storage as found after a clean stop", "≤ 0.5× raw day 0", "st", lambda v: f"{num(v, '{:.3f}')}×",
        None if now["st"] is None else now["st"] <= 0.5)
    add("peak RSS, any phase", "< 1 GiB", "rss", lambda v: f"{num(v)} MiB",
        None if now["rss"] is None else now["rss"] < 1024)
    return rows


def docs(a):
    with open(a.results) as f:
        res = json.load(f)
    sm, pg, r, m = res["syncmgr"], res["postgres"], res["ratios"], res["machine"]
    stem = f'bench-{res["size"]}'
    made = plots(res, a.img_dir, stem)
    rel_results = os.path.relpath(os.path.abspath(a.results), REPO)
    L = []
    w = L.append
    w("# Benchmarks")
    w("")
    w("<!-- Generated by bench/report.py from " + rel_results + "; edit bench/report_notes.md "
      "or the generator, not this file. -->")
    w("")
    w(f'Figures of one run of `{res["command"]}` (N = {res["n"]:,} listings), '
      f'on {res["date"][:10]}: {m.get("cores")} cores ({m.get("cpu_model", "?")}), '
      f'{m.get("memory_gib", "?")} GiB RAM, {m.get("os", "?")}, kernel {m.get("kernel", "?")}; '
      f'commit `{res["git"].get("commit", "")[:12]}`{" (with local changes)" if res["git"].get("dirty") else ""}, '
      f'Release build. Raw results: [`{rel_results}`](../{rel_results}).')
    ev = m.get("page_cache_eviction")
    if ev:
        w("")
        w(f'**This machine evicts idle page cache**: {ev["by"]} pages out file pages not read for '
          f'{ev["idle_s"]:g} s, up to {ev["quota_mib_per_s"]:g} MiB/s. A phase that starts after its files '
          "sat idle that long reads them from the disk again (bench/report_notes.md, \"Round 30\").")
    w("")
    la = res.get("loadavg_1m", {})
    w(f'**Load average (1 min) during the run: {la.get("min")}–{la.get("max")}** on {m.get("cores")} cores. '
      "Above ~2 other processes shared the machine, so times are upper bounds and throughputs lower bounds; "
      "compare only figures of one run. Every ratio below is Sync Manager against the PostgreSQL peer "
      "measured in this same run. The suite checks that both systems answer the generator's stats "
      f'(Sync Manager: {"matched" if res["checks"].get("syncmgr_stats_match") else "**MISMATCH**"}; '
      f'peer: {"matched" if res["checks"].get("postgres_stats_match") else ("not run" if res["checks"].get("postgres_stats_match") is None else "**MISMATCH**")}).')
    w("")
    w("Reproduce: `scripts/bench.sh --size " + res["size"] + "` (see [bench/README.md](../bench/README.md)).")
    w("")
    w("## Goals (issue 6)")
    w("")
    w("| figure | goal | measured | met |")
    w("|---|---|---|---|")
    for row in goals(res):
        w("| " + " | ".join(row) + " |")
    w("")
    # Issue 18's goals are judged at 1 M only.
    before = None
    if res.get("size") == "1m" and os.path.exists(ISSUE18_BEFORE) and \
            os.path.abspath(a.results) != os.path.abspath(ISSUE18_BEFORE):
        with open(ISSUE18_BEFORE) as f:
            before = json.load(f)
    if res.get("size") == "1m":
        w("## Goals (issue 18: the engine's write and read paths)")
        w("")
    if res.get("size") == "1m" and before:
        w(f'"Before" is the last `--size 1m` run before the issue\'s changes (commit `{before["git"]["commit"][:7]}`, '
          f'{before["date"][:10]}, [`bench/results/{os.path.basename(ISSUE18_BEFORE)}`](../bench/results/{os.path.basename(ISSUE18_BEFORE)})); '
          '"measured" is this run. Server CPU-s are scaled to 1 M listings.')
        w("")
    if res.get("size") == "1m":
        w("| figure | goal | before | measured | met |")
        w("|---|---|---|---|---|")
        for row in issue18_goals(res, before):
            w("| " + " | ".join(row) + " |")
        w("")
    w("## End to end: Sync Manager over HTTP vs the PostgreSQL peer")
    w("")
    w("Sync Manager: `syncmgr serve` on loopback, driven by `bench/e2e/run_e2e.py` (curl for imports, "
      "syncs and the list; wrk for GETs). Peer: `bench/peers/postgres/run.sh` (psql COPY, set-based SQL, pgbench).")
    w("")
    w("Server CPU seconds (user + system of `syncmgr serve`, every thread) are less sensitive "
      "to other load than wall time: on a busy machine they show what a phase costs.")
    w("")
    w("A curl phase's time is the request's, as curl measures it (`time_total`: connect to last byte); "
      "the wall time around it, curl's own process start included, is given after \"wall\" where "
      "the run recorded it (results before 2026-12-08 timed the wall only). The peer's times "
      "include the start of `psql` and its connection, so the ratios to the peer compare it with "
      "the wall time.")
    w("")
    w("| phase | Sync Manager | server CPU | server peak RSS | PostgreSQL peer | peer ÷ Sync Manager (time) | load |")
    w("|---|---|---|---|---|---|---|")
    for ph in ("day0_import", "day0_sync", "day1_import", "day1_sync"):
        s, p = sm.get(ph, {}), pg.get(ph, {})
        if not s:
            continue
        extra = f' ({fmt_n(s.get("per_s"))}/s, {s.get("mb_per_s")} MB/s)' if "import" in ph else f' ({fmt_n(s.get("changes"))} changes)'
        if s.get("wall_seconds") is not None:
            extra += f'; wall {fmt_s(s["wall_seconds"])}'
        pextra = f' ({fmt_n(p.get("per_s"))}/s)' if p and "import" in ph else ""
        w(f'| {ph} | {fmt_s(s.get("seconds"))}{extra} | {s.get("server_cpu_s", "–")} s | {fmt_n(s.get("peak_rss_mib"))} MiB | '
          f'{fmt_s(p.get("seconds")) + pextra if p else "–"} | {fmt_ratio(r.get(ph + "_speedup"))} | '
          f'{s.get("loadavg_1m")} / {p.get("loadavg_1m", "–")} |')
    li = sm.get("list")
    if li:
        w(f'| list (whole target, streamed) | {fmt_s(li.get("seconds"))}, {li.get("mb_per_s")} MB/s '
          f'({mib(li.get("bytes"))}), RSS +{li.get("rss_growth_mib")} MiB | {li.get("server_cpu_s", "–")} s | {fmt_n(li.get("peak_rss_mib"))} MiB | – | – | {li.get("loadavg_1m")} |')
    g, pgg = sm.get("get", {}), pg.get("get", {}).get("stats", {})
    if g.get("latency_us"):
        lat = g["latency_us"]
        w(f'| GET one property, 64 conns | {fmt_n(g.get("req_per_s"))} req/s, p50 {lat["p50"] / 1000:.2f} ms, '
          f'p99 {lat["p99"] / 1000:.2f} ms ({fmt_n(g.get("non_2xx"))} of {fmt_n(g.get("requests"))} were 404: removed ids) | '
          f'{g.get("server_cpu_s", "–")} s | {fmt_n(g.get("peak_rss_mib"))} MiB | '
          + (f'{fmt_n(pgg.get("tps"))} tps, p50 {pgg.get("p50_ms")} ms, p99 {pgg.get("p99_ms")} ms | '
             f'{fmt_ratio(r.get("get_throughput"))} (throughput, SM ÷ peer) | ' if pgg else "– | – | ")
          + f'{g.get("loadavg_1m")} / {pg.get("get", {}).get("loadavg_1m", "–")} |')
    h = sm.get("history", {})
    if h.get("latency_us"):
        lat = h["latency_us"]
        w(f'| history of one property, 64 conns | {fmt_n(h.get("req_per_s"))} req/s, p50 {lat["p50"] / 1000:.2f} ms, '
          f'p99 {lat["p99"] / 1000:.2f} ms | {h.get("server_cpu_s", "–")} s | {fmt_n(h.get("peak_rss_mib"))} MiB | – | – | {h.get("loadavg_1m")} |')
    st, pst = sm.get("storage", {}), pg.get("storage", {}).get("stats", {})
    if st:
        w(f'| bytes on disk (both days, all history) | {mib(st.get("compacted_bytes", st.get("data_dir_bytes")))} after compaction '
          f'({mib(st.get("data_dir_bytes"))} before), {st.get("ratio_to_raw_day0")}× day 0\'s raw JSON, '
          f'{fmt_n(st.get("bytes_per_listing"))} B/listing | – | – | '
          + (f'{mib(pst.get("database_bytes"))} ({pst.get("ratio_to_raw_day0")}× raw; + {mib(pst.get("wal_bytes"))} WAL) | '
             f'{fmt_ratio(r.get("storage_size"))} (size, SM ÷ peer) | – |' if pst else "– | – | – |"))
    w("")
    w("Commands (N, files and port filled in by the suite):")
    w("")
    w("```sh")
    for ph in PHASES:
        if sm.get(ph, {}).get("command"):
            w(f'# {ph}: {sm[ph]["command"]}')
    w(f'# peer: bench/peers/postgres/run.sh --n {res["n"]} --input-dir DIR --get-seconds S')
    w("```")
    w("")
    for title, png in made:
        w(f"![{title}]({os.path.relpath(png, os.path.dirname(os.path.abspath(a.md)))})")
        w("")
    lim = res.get("limits", {})
    if lim:
        w("## Against the machine's limits (same run)")
        w("")
        w("What this box can do at all, measured by `bench/e2e/limits.py` in the same run, next to what "
          "Sync Manager does with it. A ratio near 1 means the figure is at the machine's limit; far below "
          "1, the engine's own work bounds it (bench/README.md, \"The machine's limits\", says what each probe measures).")
        w("")
        w("| limit | measured | Sync Manager | ratio |")
        w("|---|---|---|---|")
        pa, dk, ng = lim.get("limit_parse", {}), lim.get("limit_disk", {}), lim.get("limit_nginx", {})
        can, raw = pa.get("canonical", {}), pa.get("raw", {})
        d0, d1, g = sm.get("day0_import", {}), sm.get("day1_import", {}), sm.get("get", {})
        if can:
            w(f'| parse + canonical form + hash, one core (day-0 listing) | {fmt_n(can.get("listings_per_cpu_s"))}/CPU-s, '
              f'{can.get("cpu_us_per_listing")} µs | day-0 import {fmt_n(d0.get("per_s"))}/s | '
              f'{fmt_ratio(r.get("day0_import_vs_parse_core"))} (server CPU per listing: {fmt_ratio(r.get("day0_import_cpu_vs_parse"))} the probe\'s) |')
        if raw:
            w(f'| unchanged-listing fast path, one core (day-1) | {fmt_n(raw.get("listings_per_cpu_s"))}/CPU-s | '
              f'day-1 import {fmt_n(d1.get("per_s"))}/s | {fmt_ratio(r.get("day1_import_vs_parse_core"))} '
              f'(CPU per listing: {fmt_ratio(r.get("day1_import_cpu_vs_parse"))}) |')
        if dk:
            w(f'| disk: sequential write (O_DIRECT), fdatasync | {fmt_n(dk.get("write_mb_per_s"))} MB/s, '
              f'{fmt_n(dk.get("fsyncs_per_s"))} fsync/s (p50 {dk.get("fsync_us", {}).get("p50")} µs) | '
              f'day-0 import wrote {mib(d0.get("disk_write_bytes"))} | {fmt_ratio(r.get("day0_write_vs_disk"))} of the bandwidth |')
        if ng.get("req_per_s"):
            w(f'| nginx, 1 worker, one static listing, same wrk settings | {fmt_n(ng.get("req_per_s"))} req/s, '
              f'{ng.get("cpu_us_per_req")} µs CPU/req | GET {fmt_n(g.get("req_per_s"))} req/s, {g.get("cpu_us_per_req", "–")} µs CPU/req | '
              f'{fmt_ratio(r.get("get_vs_nginx"))} throughput, {fmt_ratio(r.get("get_cpu_vs_nginx"))} CPU per request |')
        w("")
        w("Commands: " + "; ".join(f'`{v["command"]}`' for v in lim.values() if v.get("command")) + ".")
        w("")
    w("## Micro and component benchmarks")
    w("")
    for prog, data in res.get("micro", {}).items():
        if "benchmarks" not in data:
            continue
        w(f"### {prog}")
        w("")
        w(f"Command: `{res['build']['dir']}/bench/{prog} --benchmark_out_format=json` (filter and min time per size: scripts/bench.sh).")
        w("")
        w("| benchmark | wall time | CPU time | throughput / counters |")
        w("|---|---|---|---|")
        for b in data["benchmarks"]:
            unit = b.get("time_unit", "ns")
            extra = []
            if b.get("bytes_per_second"):
                extra.append(f'{b["bytes_per_second"] / 1e6:,.0f} MB/s')
            if b.get("items_per_second"):
                extra.append(f'{b["items_per_second"]:,.0f} items/s')
            for k, v in b.items():
                if k in ("name", "real_time", "cpu_time", "time_unit", "iterations", "bytes_per_second", "items_per_second"):
                    continue
                extra.append(f"{k} {v:,.4g}" if isinstance(v, (int, float)) else f"{k} {v}")
            w(f'| {b["name"]} | {b["real_time"]:,.4g} {unit} | {b["cpu_time"]:,.4g} {unit} | {", ".join(extra) or "–"} |')
        w("")
    for prog, data in res.get("programs", {}).items():
        w(f"### {prog}")
        w("")
        w(f"Command: `{res['build']['dir']}/bench/{prog}{' --tiny' if res['size'] == 'tiny' else ''}` "
          "(its own JSON, flattened here; see its header comment for what each figure means).")
        w("")
        w("| figure | value |")
        w("|---|---|")

        def flat(prefix, v):
            if isinstance(v, dict):
                for k, x in v.items():
                    flat(f"{prefix}.{k}" if prefix else k, x)
            elif isinstance(v, list):
                if len(v) <= 8 and all(not isinstance(x, (dict, list)) for x in v):
                    w(f"| {prefix} | {v} |")
                else:
                    for i, x in enumerate(v[:20]):
                        flat(f"{prefix}[{i}]", x)
            else:
                w(f"| {prefix} | {v:,.4g} |" if isinstance(v, float) else f"| {prefix} | {v} |")
        flat("", data)
        w("")
    notes = os.path.join(REPO, "bench", "report_notes.md")
    if os.path.exists(notes):
        with open(notes) as f:
            w(f.read().rstrip())
        w("")
    with open(a.md, "w") as f:
        f.write("\n".join(L) + "\n")
    print(a.md)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("assemble")
    p.add_argument("--size", required=True)
    p.add_argument("--n", type=int, required=True)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--workdir", required=True)
    p.add_argument("--build-dir", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--command", default="scripts/bench.sh")
    p = sub.add_parser("docs")
    p.add_argument("--results", required=True)
    p.add_argument("--md", required=True)
    p.add_argument("--img-dir", required=True)
    a = ap.parse_args()
    return assemble(a) if a.cmd == "assemble" else docs(a)


if __name__ == "__main__":
    sys.exit(main() or 0)
