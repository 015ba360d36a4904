#!/usr/bin/env bash
# Checks that folders depend one way (docs/architecture.md "Layers"):
#
#   schema → engine → wire → delivery, cluster → server → tools
#
# A file may #include its own folder and any lower layer, never a higher one
# nor another folder of its own layer (delivery/ and cluster/ are peers and
# know nothing of each other). bench/, tests/ and fuzz/ sit on top and may
# include anything. ui/ holds web assets only: no C or C++ there, and no
# #include of it. A folder with C or C++ sources that is not in the table
# fails too, so a new folder is placed in it on purpose.
#
# The same order holds for CMake: a target_link_libraries of a folder's
# CMakeLists.txt may name libraries of its own folder and lower layers only,
# and no two libraries link each other (directly or round a longer cycle).
#
# Usage: scripts/check-layers.sh [ROOT]   (default: this checkout)
# Prints one line per breach, "path:line: what", and exits 1; exits 0 with a
# one-line summary otherwise. Directories holding a `.layering-fixture` file
# below ROOT are skipped (tests/layering/: a tree that must be refused).
# Run by scripts/test.sh before the build, and by ctest (layering_check).
set -euo pipefail
root=${1:-"$(cd "$(dirname "$0")/.." && pwd)"}
exec python3 - "$root" <<'PY'
import os
import re
import sys

ROOT = os.path.abspath(sys.argv[1])

# Folder -> layer. Lower layers never include or link higher ones.
LAYERS = {
    "schema": 0,    # FlatBuffers schemas (and their generated headers)
    "engine": 1,    # the storage engine
    "wire": 2,      # the API's JSON, once
    "delivery": 3,  # push delivery
    "cluster": 3,   # the replicated log (NATS client); a peer of delivery/
    "server": 4,    # the HTTP server
    "tools": 5,     # the syncmgr command line
    "bench": 6,     # may use anything
    "tests": 6,
    "fuzz": 6,
}
TOP = 6
ASSETS_ONLY = {"ui"}  # web assets: no C/C++, never included
NO_CODE = {"docs", "scripts"}  # never hold C/C++ (checked like any folder)

SOURCE_EXT = (".h", ".hh", ".hpp", ".c", ".cc", ".cpp", ".cxx", ".inc", ".ipp")
INCLUDE_RE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')

errors = []


def rel(path):
    return os.path.relpath(path, ROOT)


def folder_of(relpath):
    parts = relpath.split(os.sep)
    return parts[0] if len(parts) > 1 else ""


def walk(names_wanted):
    """Yields files below ROOT, skipping build output, hidden and fixture dirs."""
    for dirpath, dirnames, filenames in os.walk(ROOT):
        keep = []
        for d in dirnames:
            full = os.path.join(dirpath, d)
            if d.startswith(".") or d.startswith("build"):
                continue
            if os.path.exists(os.path.join(full, ".layering-fixture")):
                continue
            keep.append(d)
        dirnames[:] = sorted(keep)
        for f in sorted(filenames):
            if names_wanted(f):
                yield os.path.join(dirpath, f)


def may_use(user, used):
    """Whether folder `user` may include / link folder `used`."""
    if used == "" or user == used:
        return True
    if used in ASSETS_ONLY:
        return False
    lu, ld = LAYERS.get(user), LAYERS.get(used)
    if lu is None or ld is None:
        return False
    return lu == TOP or ld < lu


def describe(folder):
    if folder in LAYERS:
        return "%s/ (layer %d)" % (folder, LAYERS[folder])
    return "%s/" % folder


def include_target(path, name, angle):
    """The folder an include names, or None when it is not ours."""
    parts = name.split("/")
    if parts[0] in LAYERS or parts[0] in ASSETS_ONLY:
        return parts[0]
    if angle:
        return None
    if name.startswith("./") or name.startswith("../"):
        target = os.path.normpath(os.path.join(os.path.dirname(path), name))
        return folder_of(rel(target))
    if name.endswith("_generated.h"):
        return "schema"  # FlatBuffers headers generated from schema/*.fbs
    if os.path.exists(os.path.join(os.path.dirname(path), name)):
        return folder_of(rel(path))  # next to the including file
    return None


# ---- #include lines --------------------------------------------------------------
files = 0
includes = 0
for path in walk(lambda f: f.endswith(SOURCE_EXT)):
    relpath = rel(path)
    folder = folder_of(relpath)
    files += 1
    if folder in ASSETS_ONLY or folder in NO_CODE:
        errors.append("%s:1: %s holds no C or C++ code" % (relpath, describe(folder)))
        continue
    if folder not in LAYERS:
        errors.append("%s:1: %s is not in the layer table of scripts/check-layers.sh "
                      "(docs/architecture.md)" % (relpath, describe(folder or ".")))
        continue
    with open(path, encoding="utf-8", errors="replace") as f:
        for lineno, line in enumerate(f, 1):
            m = INCLUDE_RE.match(line)
            if not m:
                continue
            includes += 1
            target = include_target(path, m.group(2), m.group(1) == "<")
            if target is None or may_use(folder, target):
                continue
            errors.append("%s:%d: %s includes %s: %s" %
                          (relpath, lineno, describe(folder), describe(target), line.strip()))


# ---- CMake: target_link_libraries ------------------------------------------------
def cmake_calls(text, command):
    """The arguments of each call of `command` in CMake text: (token, line)."""
    text = re.sub(r"#[^\n]*", "", text)  # comments (no '#' in our arguments)
    for m in re.finditer(r"\b%s\s*\(" % command, text):
        depth, i = 1, m.end()
        while i < len(text) and depth:
            depth += {"(": 1, ")": -1}.get(text[i], 0)
            i += 1
        yield [(t.group(), text.count("\n", 0, t.start()) + 1)
               for t in re.finditer(r"[^\s()]+", text[:i - 1]) if t.start() >= m.end()]


cmake_files = list(walk(lambda f: f == "CMakeLists.txt"))
library_folder = {}  # library name -> folder that defines it
for path in cmake_files:
    with open(path, encoding="utf-8") as f:
        text = f.read()
    for args in cmake_calls(text, "add_library"):
        if args:
            library_folder.setdefault(args[0][0], folder_of(rel(path)))

links = {}  # target -> our libraries it links
link_lines = 0
for path in cmake_files:
    relpath = rel(path)
    folder = folder_of(relpath)
    with open(path, encoding="utf-8") as f:
        text = f.read()
    for args in cmake_calls(text, "target_link_libraries"):
        if not args:
            continue
        link_lines += 1
        target = args[0][0]
        used = [(a, line) for a, line in args[1:] if a in library_folder]
        links.setdefault(target, set()).update(a for a, _ in used)
        for lib, lineno in used:
            if not may_use(folder, library_folder[lib]):
                errors.append("%s:%d: %s links %s of %s" %
                              (relpath, lineno, target, lib, describe(library_folder[lib])))

# No cycle between libraries: depth-first search over the link graph.
state = {}


def visit(node, stack):
    state[node] = "open"
    for nxt in sorted(links.get(node, ())):
        if state.get(nxt) == "open":
            cycle = stack[stack.index(nxt):] + [nxt]
            errors.append("CMake: libraries link each other: %s" % " -> ".join(cycle))
        elif nxt not in state:
            visit(nxt, stack + [nxt])
    state[node] = "done"


for lib in sorted(links):
    if lib not in state:
        visit(lib, [lib])

if errors:
    for e in errors:
        print(e)
    print("check-layers: %d breach(es) of the layer order "
          "(schema -> engine -> wire -> delivery, cluster -> server -> tools)" % len(errors))
    sys.exit(1)
print("check-layers: ok (%d files, %d includes, %d target_link_libraries)" %
      (files, includes, link_lines))
PY
