#!/usr/bin/env python3
"""Runs README.md as a reader would: its ```sh blocks, in order, in one bash
session, against a `syncmgr serve` started here on a temporary data directory
(issue 16 item 2). A block that fails fails the test, naming its line.

    run_readme.py --syncmgr BUILD/tools/syncmgr [--readme README.md]
    run_readme.py --classify-only FILE           # no server: is every block runnable?
    run_readme.py --expect-refusal FILE          # self-test: FILE must be refused

How blocks are run (general rules, not a list of the README's commands):

* The server is this script's: `syncmgr serve --db WORK/syncmgr-data` on a
  free port, started in WORK, so `cat syncmgr-data/admin.key` reads its admin
  key as the README says; the README's address 127.0.0.1:8000 is rewritten to
  that port.
* `syncmgr` is the build's binary (PATH starts with its directory; checked).
  Local-mode commands (no --url, no SYNCMGR_URL) run in a directory of their
  own, LOCAL, so `--db ./syncmgr-data` there is theirs, not the server's.
  `--out PATH` is rewritten to a fresh path under a scratch directory.
* `curl` fails on an HTTP error (--fail-with-body): an example the server
  refuses (a 415, a 404) fails the test. Every answer is kept, so that a
  placeholder a reader fills from an earlier answer is filled from it.
* Streams a reader stops with Ctrl-C (`curl -N`, `syncmgr ... --follow`) run
  under a 3 s timeout; `--follow` gets SIGINT and must exit 0.
* Placeholders: `NAME=smk_...` is the api_key of the last answer holding one;
  `today.ndjson` (the reader's scrape) is a small file written here.
* Quick-start blocks (./scripts/run.sh, ./scripts/test.sh) are recognised and
  not run: run.sh installs packages and serves on port 8000 (this script
  starts its own server), and test.sh is what CI itself runs.
* Any other command, a `syncmgr serve`, or a placeholder no rule fills makes
  the test fail: a new kind of block must be taught here, never skipped.
"""

import argparse
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

# Commands a block may run (the first word after any NAME=value).
RUNNABLE = {"curl", "syncmgr", "export"}
# Quick-start commands: recognised, not run, and why.
QUICK_START = {
    "./scripts/run.sh": "it installs packages and serves ./syncmgr-data on port 8000; "
                        "this test starts its own server",
    "./scripts/test.sh": "it is what CI itself runs (the whole suite, this test included)",
}
# The address the README's examples use; the test's server listens elsewhere.
README_ADDRESSES = ("127.0.0.1:8000", "localhost:8000")
# Files a reader brings, written into the working directories.
READER_FILES = {
    "today.ndjson": (
        '{"external_id":"L1","price":250000,"city":"Lyon","scraped_at":"2026-03-03T06:00:00Z"}\n'
        '{"external_id":"L42","price":180000,"city":"Nice","scraped_at":"2026-03-03T06:00:00Z"}\n'
    ),
}
# Placeholders a reader fills, and how this test fills them (bash).
PLACEHOLDERS = [
    # KEY=smk_...   # the api_key above
    (re.compile(r"\b([A-Za-z_][A-Za-z0-9_]*)=smk_\.\.\."), r"\1=$(readme_value api_key)"),
]
# Left unfilled, these make a command unrunnable.
UNFILLED = re.compile(r"smk_\.\.\.|<[A-Z][A-Z_]*>|\.\.\.(?=[\s'\"/]|$)")
STREAM_TIMEOUT_S = 3


class Refused(Exception):
    """A block this script does not know how to run."""


def parse_blocks(text):
    """Fenced code blocks: (language, first line number of the body, lines)."""
    blocks, lines = [], text.split("\n")
    i = 0
    while i < len(lines):
        m = re.match(r"^```\s*([A-Za-z0-9_+-]*)\s*$", lines[i])
        if not m:
            i += 1
            continue
        lang, start, body = m.group(1), i + 2, []
        i += 1
        while i < len(lines) and not re.match(r"^```\s*$", lines[i]):
            body.append(lines[i])
            i += 1
        blocks.append((lang, start, body))
        i += 1
    return blocks


def commands_of(start, body):
    """Logical commands of a block (backslash continuations joined), without
    comments: (line number, text)."""
    out, current, first = [], "", None
    for n, line in enumerate(body, start):
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if first is None:
            first = n
        if line.rstrip().endswith("\\"):
            current += line.rstrip()[:-1] + " "
            continue
        current += line
        out.append((first, current.strip()))
        current, first = "", None
    if current:
        out.append((first, current.strip()))
    return out


def top_level(text, start=0):
    """(index, char) of `text` from `start`, outside quotes and $(...)."""
    quote, depth, i = None, 0, start
    while i < len(text):
        c = text[i]
        if quote:
            if c == quote:
                quote = None
        elif c in "'\"":
            quote = c
        elif text.startswith("$(", i):
            depth += 1
            i += 1
        elif c == ")" and depth:
            depth -= 1
        elif not depth:
            yield i, c
        i += 1


def skip_assignments(command):
    """The command without its leading NAME=value words ($(...) values
    included)."""
    rest = command
    while True:
        m = re.match(r"^([A-Za-z_][A-Za-z0-9_]*)=", rest)
        if not m:
            return rest
        end = next((i for i, c in top_level(rest, m.end()) if c.isspace()), len(rest))
        rest = rest[end:].lstrip()


def strip_comment(command):
    """`command` without a trailing # comment (a word starting with #)."""
    for i, c in top_level(command):
        if c == "#" and (i == 0 or command[i - 1].isspace()):
            return command[:i].rstrip()
    return command


def fill(command):
    for pattern, replacement in PLACEHOLDERS:
        command = pattern.sub(replacement, command)
    for address in README_ADDRESSES:
        command = command.replace(address, "127.0.0.1:$README_PORT")
    return command


def classify(readme_path):
    """[(block line, [(line, command)] or None if skipped, why)]; raises
    Refused for a block no rule runs."""
    text = open(readme_path, encoding="utf-8").read()
    plan = []
    for lang, start, body in parse_blocks(text):
        commands = commands_of(start, body)
        if lang not in ("sh", "bash", "shell"):
            # Every command a reader is shown goes in a sh block.
            for line, cmd in commands:
                word = skip_assignments(cmd.lstrip("$ ")).split(" ", 1)[0]
                if word in RUNNABLE | set(QUICK_START):
                    raise Refused(f"{readme_path}:{line}: a command outside a ```sh block: {cmd}")
            continue
        if not commands:
            continue
        quick = [cmd for _, cmd in commands if cmd in QUICK_START]
        if quick:
            if len(quick) != len(commands):
                raise Refused(f"{readme_path}:{start}: a quick-start block with other "
                              "commands in it: the test can neither run nor skip it")
            plan.append((start, None, "; ".join(f"{c}: {QUICK_START[c]}" for c in quick)))
            continue
        runnable = []
        for line, cmd in commands:
            filled = fill(strip_comment(cmd))
            rest = skip_assignments(filled)
            word = rest.split(" ", 1)[0] if rest else ""
            if word and word not in RUNNABLE:
                raise Refused(f"{readme_path}:{line}: the README test does not know how to run "
                              f"`{word}` ({cmd}); teach tests/readme/run_readme.py")
            if word == "syncmgr" and "serve" in shlex.split(rest)[1:]:
                raise Refused(f"{readme_path}:{line}: the README test does not know how to run "
                              f"`syncmgr serve` in a block (it runs the server itself): {cmd}")
            if UNFILLED.search(filled):
                raise Refused(f"{readme_path}:{line}: the README test does not know how to fill "
                              f"the placeholder in: {cmd}")
            runnable.append((line, filled))
        plan.append((start, runnable, None))
    # Inline commands in prose (`curl ...`, `-d '...'`) belong in a block.
    for n, line in enumerate(text.split("\n"), 1):
        if line.startswith("```") or line.startswith("    "):
            continue
        for span in re.findall(r"`([^`]+)`", line):
            if re.match(r"^(curl |-d |-H |--data)", span):
                raise Refused(f"{readme_path}:{n}: a command in prose (`{span}`): "
                              "every command a reader is shown goes in a ```sh block")
    return plan


PRELUDE = r"""
set -Eeo pipefail
export PATH="$README_TOOLS:$PATH"
hash -r
if [ "$(command -v syncmgr)" != "$README_TOOLS/syncmgr" ]; then
  echo "README test: syncmgr is $(command -v syncmgr), not the build's" >&2; exit 97
fi
unset SYNCMGR_URL SYNCMGR_API_KEY SYNCMGR_ADMIN_KEY SYNCMGR_DB
README_LINE=0 README_BLOCK=0 README_CMD=""
trap 'rc=$?; echo "README test: README.md:$README_LINE (the block at line $README_BLOCK) failed, exit $rc: $README_CMD" >&2; exit 1' ERR

# The value of "NAME":"..." in the last answer that has one.
readme_value() {
  python3 - "$1" "$README_ANSWERS" <<'PY'
import re, sys
found = re.findall(r'"%s":"([^"]*)"' % re.escape(sys.argv[1]), open(sys.argv[2]).read())
if not found:
    sys.exit("README test: no earlier answer holds \"%s\"" % sys.argv[1])
print(found[-1])
PY
}

curl() {
  local stream=0 rc=0 a
  for a in "$@"; do
    if [ "$a" = -N ]; then stream=1; fi
  done
  if [ $stream = 1 ]; then
    timeout $README_STREAM_S "$(type -P curl)" --fail-with-body "$@" | tee -a "$README_ANSWERS" || rc=$?
    if [ $rc = 124 ]; then rc=0; fi  # stopped, as a reader stops it
  else
    "$(type -P curl)" --fail-with-body "$@" | tee -a "$README_ANSWERS" || rc=$?
  fi
  echo | tee -a "$README_ANSWERS"
  return $rc
}

syncmgr() {
  local args=() remote=0 follow=0 prev="" a rc=0
  for a in "$@"; do
    if [ "$prev" = --out ]; then a="$README_SCRATCH/out${a//\//_}"; fi
    if [ "$a" = --url ]; then remote=1; fi
    if [ "$a" = --follow ]; then follow=1; fi
    args+=("$a")
    prev=$a
  done
  if [ -n "${SYNCMGR_URL:-}" ]; then remote=1; fi
  if [ $follow = 1 ]; then
    # A reader's Ctrl-C: SIGINT, and a clean exit 0.
    ( [ $remote = 1 ] || cd "$README_LOCAL"
      timeout --preserve-status -s INT $README_STREAM_S "$README_TOOLS/syncmgr" "${args[@]}" ) || rc=$?
  else
    ( [ $remote = 1 ] || cd "$README_LOCAL"; "$README_TOOLS/syncmgr" "${args[@]}" ) || rc=$?
  fi
  return $rc
}
"""


def script_for(plan):
    parts = [PRELUDE]
    for start, commands, why in plan:
        if commands is None:
            parts.append(f"echo {shlex.quote(f'== README.md:{start}: not run: {why}')}\n")
            continue
        parts.append(f"\n# ---- README.md:{start}\nREADME_BLOCK={start}\n"
                     f"echo {shlex.quote(f'== README.md:{start}')}\n")
        for line, cmd in commands:
            parts.append(f"README_LINE={line} README_CMD={shlex.quote(cmd)}\n"
                         f"echo {shlex.quote(f'+ {cmd}')}\n{cmd}\n")
    parts.append("\necho '== README test: every block ran'\n")
    return "".join(parts)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(syncmgr, work):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNCMGR_")}
    for _ in range(3):
        port = free_port()
        log = open(os.path.join(work, "serve.log"), "ab")
        proc = subprocess.Popen([syncmgr, "serve", "--db", "syncmgr-data", "--port", str(port)],
                                cwd=work, env=env, stdout=log, stderr=log)
        for _ in range(300):  # bounded: 300 x 100 ms
            if proc.poll() is not None:
                break
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
                    if r.status == 200:
                        return proc, port
            except OSError:
                time.sleep(0.1)
        proc.kill()
        proc.wait()
    sys.exit("README test: syncmgr serve did not start; see " + os.path.join(work, "serve.log"))


def run(readme, syncmgr):
    plan = classify(readme)
    syncmgr = os.path.abspath(syncmgr)
    with tempfile.TemporaryDirectory(prefix="readme-test-") as tmp:
        work, local, scratch = (os.path.join(tmp, d) for d in ("server", "local", "scratch"))
        for d in (work, local, scratch):
            os.makedirs(d)
            for name, content in READER_FILES.items():
                with open(os.path.join(d, name), "w") as f:
                    f.write(content)
        server, port = start_server(syncmgr, work)
        try:
            env = {k: v for k, v in os.environ.items() if not k.startswith("SYNCMGR_")}
            env.update(README_TOOLS=os.path.dirname(syncmgr), README_PORT=str(port),
                       README_LOCAL=local, README_SCRATCH=scratch,
                       README_ANSWERS=os.path.join(tmp, "answers.txt"),
                       README_STREAM_S=str(STREAM_TIMEOUT_S))
            script = os.path.join(tmp, "readme.sh")
            with open(script, "w") as f:
                f.write(script_for(plan))
            result = subprocess.run(["bash", script], cwd=work, env=env, timeout=240)
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=60)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        if result.returncode != 0:
            sys.stderr.write(open(os.path.join(work, "serve.log"), errors="replace").read()[-4000:])
            return 1
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--readme", default=os.path.join(os.path.dirname(__file__), "../../README.md"))
    ap.add_argument("--syncmgr")
    ap.add_argument("--classify-only", metavar="FILE")
    ap.add_argument("--expect-refusal", metavar="FILE")
    args = ap.parse_args()
    if args.expect_refusal:
        try:
            classify(args.expect_refusal)
        except Refused as e:
            print("refused, as expected:", e)
            return 0 if "does not know how to run" in str(e) else 1
        print("FAIL: a block no rule runs was accepted")
        return 1
    try:
        if args.classify_only:
            for start, commands, why in classify(args.classify_only):
                print(f"README.md:{start}: " + (f"not run: {why}" if commands is None
                                                  else f"{len(commands)} command(s)"))
            return 0
        if not args.syncmgr:
            ap.error("--syncmgr is required")
        return run(args.readme, args.syncmgr)
    except Refused as e:
        print("README test:", e, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
