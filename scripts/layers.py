#!/usr/bin/env python3
"""The dependency picture of the tree, read off the object files.

For every folder of the program (common, proto, stund, punchd, relayd,
meshctl) each .c file is a room and each call or data reference from one
file to a symbol another file of the same folder defines is an arrow.  The
symbols come from nm(1) on $BUILD/obj: what a file defines (T, D, B, R)
and what it needs (U).  A call through a function pointer is no arrow:
that is how a lower layer reports upward.

Prints, per folder, the files, their arrows and every loop (a strongly
connected set of two or more files).  Exit status 1 when any folder has a
loop, 0 when none has, 2 when the objects are missing.

usage: scripts/layers.py [--build DIR] [--dot] [FOLDER ...]
"""
import os
import subprocess
import sys

FOLDERS = ["common", "proto", "stund", "punchd", "relayd", "meshctl"]


def symbols(obj):
    out = subprocess.run(["nm", "--defined-only", "-g", obj],
                         capture_output=True, text=True, check=True).stdout
    defined = {ln.split()[-1] for ln in out.splitlines() if ln.strip()}
    out = subprocess.run(["nm", "-u", obj],
                         capture_output=True, text=True, check=True).stdout
    needed = {ln.split()[-1] for ln in out.splitlines() if ln.strip()}
    return defined, needed


def loops(nodes, edges):
    """Tarjan's strongly connected components, those of 2 or more."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return out


def folder_graph(build, folder):
    objdir = os.path.join(build, "obj", folder)
    if not os.path.isdir(objdir):
        return None
    files = sorted(f for f in os.listdir(objdir) if f.endswith(".o"))
    defs, needs = {}, {}
    for f in files:
        name = f[:-2] + ".c"
        if not os.path.exists(os.path.join(folder, name)):
            continue		# an object left from a removed source
        defs[name], needs[name] = symbols(os.path.join(objdir, f))
    owner = {}
    for name, d in defs.items():
        for s in d:
            owner[s] = name
    edges = {}
    for name, n in needs.items():
        for s in n:
            o = owner.get(s)
            if o is not None and o != name:
                edges.setdefault(name, set()).add(o)
    return sorted(defs), edges


def main(argv):
    build = os.environ.get("BUILD", "build")
    dot = False
    want = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--build":
            i += 1
            build = argv[i]
        elif a == "--dot":
            dot = True
        elif a in ("-h", "--help"):
            print(__doc__)
            return 0
        else:
            want.append(a)
        i += 1
    bad = 0
    seen = 0
    for folder in want or FOLDERS:
        g = folder_graph(build, folder)
        if g is None:
            continue
        seen += 1
        nodes, edges = g
        narrows = sum(len(v) for v in edges.values())
        found = loops(nodes, edges)
        if dot:
            print("digraph %s {" % folder)
            for a in sorted(edges):
                for b in sorted(edges[a]):
                    print('  "%s" -> "%s";' % (a, b))
            print("}")
            continue
        print("%s: %d files, %d arrows, %d loop%s" %
              (folder, len(nodes), narrows, len(found),
               "" if len(found) == 1 else "s"))
        for comp in found:
            bad += 1
            print("  loop: " + " ".join(comp))
            for a in comp:
                for b in sorted(edges.get(a, ())):
                    if b in comp:
                        print("    %s -> %s" % (a, b))
    if seen == 0:
        print("layers.py: no objects under %s/obj: build first" % build,
              file=sys.stderr)
        return 2
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
