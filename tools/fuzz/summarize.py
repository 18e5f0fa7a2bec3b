#!/usr/bin/env python3
"""Groups the per-case log of FuzzCorpusTests (ACCELSIM_FUZZ_LOG=FILE) by cause, as Markdown on stdout.

    ACCELSIM_FUZZ_LOG=/tmp/fuzz.tsv dotnet test tests/AccelSim.Tests --filter "FullyQualifiedName~FuzzCorpus"
    python3 tools/fuzz/summarize.py /tmp/fuzz.tsv > /tmp/fuzz-failures.md
"""
import json
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
cases = {c["id"]: c for c in json.load(open(os.path.join(ROOT, "tests/fuzz/corpus.json")))["cases"]}


def cause(verdict, line):
    m = re.match(r"exit (\d+)(?: \(timeout\))?: (.*)", line)
    code, err = (int(m.group(1)), m.group(2)) if m else (None, line)
    if "timeout" in line or "no exit within" in verdict:
        return "timeout (no exit within 20 s)"
    if code == 134:
        return "exit 134: stack overflow (process abort)"
    if code == 1:
        e = re.match(r"error: (\w+Exception)", err)
        if e:
            return f"exit 1: internal {e.group(1)} instead of a located exit 2"
        if "points failed" in err:
            return "exit 1: sweep finishes with failed points (bad input in some points) instead of exit 2"
        return "exit 1: other (" + err[:60] + ")"
    if "good input rejected" in verdict:
        return "good input rejected (exit 2)"
    if "bad input accepted" in verdict:
        extra = "; NaN/Infinity in the output" if "'NaN'" in verdict or "'Infinity'" in verdict else ""
        return "silent success: bad input exits 0" + extra
    if code == 2:
        if err.startswith("error: ") or "lines on stderr" in verdict:
            return "exit 2 but System.CommandLine's own multi-line, unlocated parse error (`error: ...` + `Run 'accelsim --help'`)"
        if err.startswith("stopped: "):
            return "exit 2 but the sweep wraps the located error in `stopped: ... first error: point 0: FILE:LINE:COL: ...`"
        return "exit 2 but the error line has no location"
    if "NaN" in verdict or "Infinity" in verdict:
        return "NaN/Infinity in an output"
    return verdict


def quote(a):
    return a if re.fullmatch(r"[\w./{}=:+,-]+", a) else "'" + a.replace("'", "'\\''") + "'"


groups = {}
total = 0
for row in open(sys.argv[1], encoding="utf-8"):
    cid, kind, expect, verdict, line, what = row.rstrip("\n").split("\t", 5)
    total += 1
    if verdict == "ok":
        continue
    groups.setdefault(cause(verdict, line), []).append((cid, kind, expect, verdict, line, what))
failed = sum(len(v) for v in groups.values())
print("# Fuzz corpus failures on this branch\n")
print(f"{failed} of {total} cases fail. Repro: `ACCELSIM_FUZZ_CASES=ID dotnet test tests/AccelSim.Tests --filter "
      "\"FullyQualifiedName~FuzzCorpus\"`, or by hand with the command shown, where {repo} is the checkout, "
      "{in} a copy of tests/fuzz/cases/ID/ (with {repo} in its files replaced) and {out} an empty folder.\n")
for g, rows in sorted(groups.items(), key=lambda kv: -len(kv[1])):
    print(f"## {g}: {len(rows)} cases\n")
    print(", ".join(r[0] for r in rows) + "\n")
    for cid, kind, expect, verdict, line, what in rows:
        c = cases[cid]
        cmd = "accelsim " + " ".join(quote(a) for a in c["args"])
        print(f"- {cid} [{kind}] {what}: {line[:160]}  \n  `{cmd}`")
    print()
