#!/usr/bin/env python3
"""Writes the bad-input fuzz corpus tests/fuzz/ (issue 16): tests/fuzz/corpus.json and tests/fuzz/cases/NNNN/.

Standard library only, deterministic (fixed seed, no clock, no environment): running it twice gives the same bytes.

    python3 tools/fuzz/generate.py          # from the repository root

Every case mutates a shipped input (workloads/, arch/, Timeloop's tutorial files under tests/.../Reference/timeloop)
or a seed under tools/fuzz/seed/ and names the class it must fall in:
  bad  -> exit 2 and exactly one located line on stderr;
  good -> exit 0 (with `contains`: strings stdout must hold, so a control checks that a real result came out).

Case fields (read by tests/AccelSim.Tests/Fuzz/FuzzCorpusTests.cs):
  id, kind, expect, what, args (tokens {repo}, {in}, {out}), files (names written under cases/ID/),
  generate (large inputs built at test time from a recipe: text = prefix + open*count + middle + close*count + suffix),
  setup (steps run first: {"run": args} must exit 0, {"append": path, "text": s}, {"replace": path, "old": s, "new": s}),
  isolate (run as a child process: deep inputs that may overflow the stack), contains.
The harness copies cases/ID/ to a temp folder {in} (replacing the text {repo} in its files by the repository root)
and gives each case an empty output folder {out}.
"""
import csv
import io
import json
import os
import random
import re
import shutil

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "fuzz")
SEED = os.path.join(ROOT, "tools", "fuzz", "seed")
TL = "tests/AccelSim.Tests/Reference/timeloop"
rng = random.Random(16)

cases = []


def read(rel):
    with open(os.path.join(ROOT, rel), encoding="utf-8") as f:
        return f.read()


def seed(name):
    with open(os.path.join(SEED, name), encoding="utf-8") as f:
        return f.read()


def add(kind, expect, what, args, files=None, generate=None, setup=None, isolate=False, contains=None):
    c = {"id": "%04d" % (len(cases) + 1), "kind": kind, "expect": expect, "what": what, "args": args}
    if files:
        c["files"] = files
    if generate:
        c["generate"] = generate
    if setup:
        c["setup"] = setup
    if isolate:
        c["isolate"] = True
    if contains:
        c["contains"] = contains
    cases.append(c)


# ---------------------------------------------------------------- text mutations (line based, no YAML library)

def _key_re(key):
    return re.compile(r"^(?P<ind>[ \t]*(?:- )?)" + re.escape(key) + r":(?P<rest>.*)$", re.M)


def set_value(text, key, value, nth=0):
    """Replaces the value of `key:` (block or flow style) by `value`."""
    m = list(_key_re(key).finditer(text))
    if len(m) > nth:
        x = m[nth]
        rest = x.group("rest")
        comment = ""
        if " #" in rest:
            comment = rest[rest.index(" #"):]
        return text[:x.start()] + x.group("ind") + key + ": " + value + comment + text[x.end():]
    flow = list(re.finditer(r"(?P<pre>[{,]\s*)" + re.escape(key) + r":\s*(?P<val>\[[^\]]*\]|\{[^}]*\}|[^,}\n]+)", text))
    if len(flow) <= nth:
        raise KeyError(key)
    x = flow[nth]
    return text[:x.start()] + x.group("pre") + key + ": " + value + text[x.end():]


def rename_key(text, key, new, nth=0):
    m = list(re.finditer(r"(?<![\w.])" + re.escape(key) + r":", text))
    if len(m) <= nth:
        raise KeyError(key)
    x = m[nth]
    return text[:x.start()] + new + ":" + text[x.end():]


def drop_key(text, key, nth=0):
    """Removes the block-style line `key: ...` and every more-indented line after it."""
    lines = text.split("\n")
    hits = [i for i, l in enumerate(lines) if _key_re(key).match(l)]
    if len(hits) <= nth:
        raise KeyError(key)
    i = hits[nth]
    ind = len(lines[i]) - len(lines[i].lstrip(" -"))
    j = i + 1
    while j < len(lines) and (lines[j].strip() == "" or lines[j].lstrip().startswith("#")
                              or len(lines[j]) - len(lines[j].lstrip(" ")) > ind):
        j += 1
    return "\n".join(lines[:i] + lines[j:])


def dup_key(text, key):
    lines = text.split("\n")
    i = next(i for i, l in enumerate(lines) if _key_re(key).match(l))
    return "\n".join(lines[:i + 1] + [lines[i]] + lines[i + 1:])


def tab_indent(text, key):
    lines = text.split("\n")
    i = next(i for i, l in enumerate(lines) if _key_re(key).match(l) and l.startswith(" "))
    lines[i] = "\t" + lines[i].lstrip(" ")
    return "\n".join(lines)


def truncate(text, frac):
    return text[: int(len(text) * frac)]


def unclose(text):
    """Drops the first closing bracket of a flow collection."""
    lines = text.split("\n")
    for n, line in enumerate(lines):
        code = line.split("#")[0]
        for close in "]}":
            if close in code and not line.lstrip().startswith("#"):
                i = code.rindex(close)
                lines[n] = line[:i] + line[i + 1:]
                return "\n".join(lines)
    raise KeyError("no flow collection")


def junk(n=600):
    return bytes(rng.randrange(256) for _ in range(n))


STRUCTURAL = [  # mutations any YAML input must reject, as (what, function)
    ("empty file", lambda t: ""),
    ("only a comment", lambda t: "# nothing here\n"),
    ("a bare scalar", lambda t: "hello\n"),
    ("a list at the top", lambda t: "- 1\n- 2\n"),
    ("truncated at 40%", lambda t: truncate(t, 0.4)),
    ("unclosed flow bracket", unclose),
    ("stray closing bracket", lambda t: t + "\n]\n"),
    ("two documents", lambda t: t + "\n---\n" + t),
]


def yaml_structural(kind, base, name, argv, extra=None, others=None):
    """The structural mutations of one YAML input; argv(path) builds the command line; others: files it also needs."""
    others = others or {}
    for what, f in STRUCTURAL + (extra or []):
        try:
            text = f(base)
        except (KeyError, StopIteration):
            continue
        add(kind, "bad", f"{name}: {what}", argv("{in}/" + name), dict(others, **{name: text}))
    add(kind, "bad", f"{name}: binary junk", argv("{in}/" + name), dict(others, **{name: junk()}))
    add(kind, "bad", f"{name}: missing file", argv("{in}/missing-" + name), others or None)
    add(kind, "bad", f"{name}: a folder instead of a file", argv("{in}/sub"), dict(others, **{"sub/placeholder.txt": "x\n"}))


def repo_paths(text, pairs):
    for old, new in pairs:
        text = text.replace(old, new)
    return text


# ------------------------------------------------------------------------------------------------ workloads

def workloads():
    k = "workload"
    att = read("workloads/attention/attention-1pass.yaml")
    analyze = lambda p: ["analyze", p, "--json"]
    for f in sorted(os.listdir(os.path.join(ROOT, "workloads/attention"))):
        add(k, "good", f"analyze shipped {f}", ["analyze", "{repo}/workloads/attention/" + f], contains=["QK" if "decode" not in f else "Q"])
    add(k, "good", "analyze the transformer layer", ["analyze", "{repo}/workloads/layers/transformer-layer.yaml", "--json"], contains=["\"einsums\""])
    for m in sorted(os.listdir(os.path.join(ROOT, "workloads/models"))):
        add(k, "good", f"analyze with --model {m}", ["analyze", "{repo}/workloads/attention/attention-1pass.yaml", "--model", "{repo}/workloads/models/" + m], contains=["AV"])
    add(k, "good", "GPU eval of the 1-pass cascade", ["eval", "--arch", "{repo}/arch/gpu/h100.yaml", "--workload", "{repo}/workloads/attention/attention-1pass.yaml", "--kernel", "fa3"], contains=["fa3"])
    yaml_structural(k, att, "attention.yaml", analyze,
                    [("tab indentation", lambda t: tab_indent(t, "heads")),
                     ("duplicate key seq_len", lambda t: dup_key(t, "seq_len"))])
    for key in ["ranks", "einsums", "tensors", "params"]:
        add(k, "bad", f"drop required key {key}", analyze("{in}/w.yaml"), {"w.yaml": drop_key(att, key)})
    for key, typo in [("ranks", "rankz"), ("einsums", "einsum"), ("tensors", "tensor"), ("params", "param"),
                      ("outputs", "output"), ("attention", "atention"), ("where", "wher"), ("description", "descripton")]:
        add(k, "bad", f"typo'd key {key} -> {typo}", analyze("{in}/w.yaml"), {"w.yaml": rename_key(att, key, typo)})
    for key, vals in [("seq_len", ["-5", "0", "abc", "1e400", ".nan", ".inf", "99999999999999999999999", "[1, 2]", "{a: 1}", "1024.5", "''"]),
                      ("head_dim", ["0", "-64"]), ("heads", ["0", "-1"]), ("tile", ["0", "-256"]), ("batch", ["-1"]),
                      ("word_bits", ["0", "-16"]), ("window", ["-5"]), ("causal", ["maybe"]),
                      ("scale", ["1 / 0", "sqrt(-1)", "log(0)", "exp(1000)"])]:
        for v in vals:
            add(k, "bad", f"{key}: {v}", analyze("{in}/w.yaml"), {"w.yaml": set_value(att, key, v)})
    exprs = [
        ("unknown tensor KK", "QK[b,h,m1,m0,p] = QS[b,h,p,e] * K[b,h,m,e]", "QK[b,h,m1,m0,p] = QS[b,h,p,e] * KK[b,h,m,e]"),
        ("unknown function expo", "exp(RM[b,h,m1,p] - RM[b,h,m1+1,p])", "expo(RM[b,h,m1,p] - RM[b,h,m1+1,p])"),
        ("unbalanced parenthesis", "exp(QK[b,h,m1,m0,p] - RM[b,h,m1+1,p])", "exp((QK[b,h,m1,m0,p] - RM[b,h,m1+1,p])"),
        ("index variable z of no rank", "LM[b,h,m1,p] = max[m0](QK[b,h,m1,m0,p])", "LM[b,h,m1,p] = max[m0](QK[b,h,m1,z,p])"),
        ("wrong arity of Q", "Q[b,h,p,e] * scale", "Q[b,h,p] * scale"),
        ("recurrence offset out of range", "RM[b,h,m1+1,p] = max(", "RM[b,h,m1+7,p] = max("),
        ("negative recurrence offset", "RD[b,h,m1+1,p] = SPD", "RD[b,h,m1-3,p] = SPD"),
        ("two Einsums write AV", "  - AV[b,h,p,f] = RNV", "  - AV[b,h,p,f] = SPD[b,h,m1,p]\n  - AV[b,h,p,f] = RNV"),
        ("cyclic dependency", "SPD[b,h,m1,p] = PRM[b,h,m1,p] * RD[b,h,m1,p]", "SPD[b,h,m1,p] = PRM[b,h,m1,p] * SLD2[b,h,m1,p]\n  - SLD2[b,h,m1,p] = SPD[b,h,m1,p] + 1"),
        ("empty expression", "QS[b,h,p,e] = Q[b,h,p,e] * scale", "QS[b,h,p,e] ="),
        ("mask of unknown variable", "(not causal or causal(p, m, kv_len - seq_len))", "(not causal or causal(p, q))"),
        ("undefined parameter in where", "window == 0 or", "windw == 0 or"),
        ("reduction over an absent variable", "max[m0](QK", "max[z0](QK"),
        ("trailing operator", "SLD[b,h,m1,p] = sum[m0](SLN[b,h,m1,m0,p])", "SLD[b,h,m1,p] = sum[m0](SLN[b,h,m1,m0,p]) +"),
        ("division by a zero literal", "RNV[b,h,M1,p,f] / RD[b,h,M1,p]", "RNV[b,h,M1,p,f] / 0"),
    ]
    for what, old, new in exprs:
        assert old in att, old
        add(k, "bad", "einsum: " + what, analyze("{in}/w.yaml"), {"w.yaml": att.replace(old, new, 1)})
    # Deep and long inputs, built at test time (a child process each: a stack overflow must fail one case only).
    head = att.replace("  - QS[b,h,p,e] = Q[b,h,p,e] * scale", "  - QS[b,h,p,e] = Q[b,h,p,e] * @@")
    pre, post = head.split("@@")
    add(k, "bad", "10k nested parentheses in an expression (scale)", analyze("{in}/deep.yaml"),
        generate=[{"file": "deep.yaml", "prefix": pre, "open": "(", "count": 10000, "middle": "scale", "close": ")", "suffix": post}], isolate=True)
    add(k, "good", "100 nested parentheses in an expression", analyze("{in}/deep.yaml"),
        generate=[{"file": "deep.yaml", "prefix": pre, "open": "(", "count": 100, "middle": "scale", "close": ")", "suffix": post}], isolate=True, contains=["QS"])
    add(k, "bad", "flat 50k-term sum in an expression", analyze("{in}/long.yaml"),
        generate=[{"file": "long.yaml", "prefix": pre + "(", "open": "scale + ", "count": 50000, "middle": "scale", "close": "", "suffix": ")" + post}], isolate=True)
    add(k, "bad", "10k nested unary minus", analyze("{in}/neg.yaml"),
        generate=[{"file": "neg.yaml", "prefix": pre, "open": "-", "count": 10000, "middle": "scale", "close": "", "suffix": post}], isolate=True)
    add(k, "bad", "10k nested exp() calls", analyze("{in}/exp.yaml"),
        generate=[{"file": "exp.yaml", "prefix": pre, "open": "exp(", "count": 10000, "middle": "scale", "close": ")", "suffix": post}], isolate=True)
    add(k, "bad", "YAML block sequences nested 100k deep", analyze("{in}/nest.yaml"),
        generate=[{"file": "nest.yaml", "prefix": "", "open": "- ", "count": 100000, "middle": "1", "close": "", "suffix": "\n"}], isolate=True)
    add(k, "bad", "YAML flow sequences nested 100k deep", analyze("{in}/nest.yaml"),
        generate=[{"file": "nest.yaml", "prefix": "params: ", "open": "[", "count": 100000, "middle": "1", "close": "]", "suffix": "\n"}], isolate=True)
    add(k, "bad", "YAML flow mappings nested 100k deep", analyze("{in}/nest.yaml"),
        generate=[{"file": "nest.yaml", "prefix": "", "open": "{a: ", "count": 100000, "middle": "1", "close": "}", "suffix": "\n"}], isolate=True)
    # models
    bert = read("workloads/models/bert-base.yaml")
    with_model = lambda p: ["analyze", "{repo}/workloads/attention/attention-1pass.yaml", "--model", p]
    for key, v in [("heads", "-12"), ("heads", "abc"), ("head_dim", "0"), ("batch", ".inf"), ("batch", "1e400")]:
        add(k, "bad", f"model {key}: {v}", with_model("{in}/m.yaml"), {"m.yaml": set_value(bert, key, v)})
    add(k, "bad", "model: typo'd key params -> parms", with_model("{in}/m.yaml"), {"m.yaml": rename_key(bert, "params", "parms")})
    add(k, "bad", "model: missing file", with_model("{in}/nope.yaml"))
    add(k, "bad", "model: empty file", with_model("{in}/m.yaml"), {"m.yaml": ""})
    add(k, "bad", "model: malformed YAML", with_model("{in}/m.yaml"), {"m.yaml": truncate(bert, 0.5) + "\n  heads: [12\n"})
    add(k, "bad", "README's bert.yaml (the file is bert-base.yaml)", ["eval", "--arch", "{repo}/arch/gpu/h100.yaml", "--workload", "{repo}/workloads/attention/attention-1pass.yaml", "--kernel", "fa2", "--model", "{repo}/workloads/models/bert.yaml"])
    # a layer
    layer = repo_paths(read("workloads/layers/transformer-layer.yaml"), [("../models/", "{repo}/workloads/models/")])
    add(k, "bad", "layer: truncated at 60%", analyze("{in}/l.yaml"), {"l.yaml": truncate(layer, 0.6)})
    add(k, "bad", "layer: typo'd key einsums", analyze("{in}/l.yaml"), {"l.yaml": rename_key(layer, "einsums", "einsumz")})
    add(k, "bad", "layer: its model file is missing", analyze("{in}/l.yaml"), {"l.yaml": layer.replace("models/bert-base.yaml", "models/bert.yaml")})
    # the same bad workloads through map and GPU eval
    add(k, "bad", "map of a workload with seq_len -5", ["map", "--arch", "{repo}/arch/timeloop-3level.yaml", "--workload", "{in}/w.yaml", "--einsum", "QK", "--budget", "100", "--threads", "1"], {"w.yaml": set_value(att, "seq_len", "-5")})
    add(k, "bad", "map of a workload with an unknown tensor", ["map", "--arch", "{repo}/arch/timeloop-3level.yaml", "--workload", "{in}/w.yaml", "--einsum", "QK", "--budget", "100", "--threads", "1"], {"w.yaml": att.replace("* K[b,h,m,e]", "* KK[b,h,m,e]")})
    add(k, "bad", "GPU eval of a workload with head_dim 0", ["eval", "--arch", "{repo}/arch/gpu/h100.yaml", "--workload", "{in}/w.yaml", "--kernel", "fa2"], {"w.yaml": set_value(att, "head_dim", "0")})
    add(k, "bad", "GPU eval of a workload whose attention block names an absent tensor", ["eval", "--arch", "{repo}/arch/gpu/h100.yaml", "--workload", "{in}/w.yaml", "--kernel", "fa2"], {"w.yaml": set_value(att, "query", "QQ")})


# ------------------------------------------------------------------------------------------------ architectures

CONV = "problem: {name: conv1d, dims: {K: 32, R: 3, P: 16}, tensors: {Weights: [K, R], Inputs: ['R + P'], Outputs: {ranks: [K, P], output: true}}}\n"


def architectures():
    k = "arch"
    tl3 = repo_paths(read("arch/timeloop-3level.yaml"), [("[energy/", "[{repo}/arch/energy/")])
    ev = lambda p: ["eval", "--arch", p, "--workload", "{in}/conv.yaml", "--mapping", "{repo}/arch/mappings/timeloop-3level-conv1d.yaml", "--json"]

    def spatial(what, text, expect="bad"):
        add(k, expect, "timeloop-3level: " + what, ev("{in}/a.yaml"), {"a.yaml": text, "conv.yaml": CONV}, contains=["\"cycles\""] if expect == "good" else None)

    spatial("unchanged (control)", tl3, "good")
    for a in ["eyeriss-like.yaml", "simba-like.yaml", "timeloop-3level.yaml"]:
        add(k, "good", f"map QK on shipped {a}", ["map", "--arch", "{repo}/arch/" + a, "--workload", "{repo}/workloads/attention/attention-1pass.yaml",
                                                 "--einsum", "QK", "--set", "seq_len=256", "--budget", "300", "--seed", "1", "--threads", "1"], contains=["QK"])
    yaml_structural(k, tl3, "a.yaml", ev, [("tab indentation", lambda t: tab_indent(t, "block_size"))], {"conv.yaml": CONV})
    for key, v in [("capacity_words", "-1"), ("capacity_words", "0"), ("capacity_words", "abc"), ("capacity_words", "1e400"),
                   ("capacity_words", "99999999999999999999999"), ("block_size", "0"), ("block_size", "-32"), ("clock_hz", "0"),
                   ("clock_hz", "-1e9"), ("clock_hz", ".nan"), ("clock_hz", ".inf"), ("word_bits", "0"), ("word_bits", "8.5"),
                   ("class", "flux-capacitor"), ("technology_nm", "-40"), ("energy", "timeloop-tutorial/no_such_entry"),
                   ("energy_tables", "[{repo}/arch/energy/missing.yaml]"), ("mac", "0")]:
        spatial(f"{key}: {v}", set_value(tl3, key, v))
    for key, typo in [("storage", "storag"), ("capacity_words", "capacity_word"), ("block_size", "blocksize"), ("compute", "compte"), ("clock_hz", "clock")]:
        spatial(f"typo'd key {key} -> {typo}", rename_key(tl3, key, typo))
    spatial("drop storage", drop_key(tl3, "storage"))
    spatial("drop compute", drop_key(tl3, "compute"))
    spatial("zero read bandwidth", tl3.replace("      capacity_words: 262144", "      capacity_words: 262144\n      read_bandwidth: 0"))
    spatial("negative write bandwidth", tl3.replace("      capacity_words: 262144", "      capacity_words: 262144\n      write_bandwidth: -4"))
    spatial("NaN bandwidth", tl3.replace("      capacity_words: 262144", "      capacity_words: 262144\n      read_bandwidth: .nan"))
    spatial("two levels with one name", tl3.replace("- name: RegisterFile", "- name: GlobalBuffer"))
    spatial("parent names an absent level", tl3.replace("      capacity_words: 64\n", "      capacity_words: 64\n      parent: Nowhere\n"))
    spatial("instances 0", tl3.replace("      capacity_words: 64\n", "      capacity_words: 64\n      instances: 0\n"))
    spatial("mesh_x does not divide instances", tl3.replace("      capacity_words: 64\n", "      capacity_words: 64\n      instances: 4\n      mesh_x: 3\n"))
    # GPU specs
    h100 = repo_paths(read("arch/gpu/h100.yaml"), [("kernels: kernels.yaml", "kernels: {repo}/arch/gpu/kernels.yaml")])
    gpu = lambda p, kernel="fa3": ["eval", "--arch", p, "--workload", "{repo}/workloads/attention/attention-1pass.yaml", "--kernel", kernel, "--json"]
    add(k, "good", "h100 copy (control)", gpu("{in}/g.yaml"), {"g.yaml": h100}, contains=["latency"])
    for g in ["a100", "h100", "h200", "b200"]:
        add(k, "good", f"shipped {g} with fa2", gpu("{repo}/arch/gpu/%s.yaml" % g, "fa2"), contains=["latency"])

    def gpu_value(key, v):
        return re.sub(r"^(" + re.escape(key) + r":\s*\{value:\s*)[^,}]+", lambda m: m.group(1) + v, h100, count=1, flags=re.M)
    for key, v in [("sm_count", "13.2"), ("sm_count", "0"), ("sm_count", "-132"), ("sm_count", "abc"), ("clock_mhz", "0"),
                   ("hbm_tbps", "0"), ("hbm_tbps", ".nan"), ("smem_kib_per_sm", "-1"), ("l2_mib", "1e400"), ("mufu_exp2_per_clk_per_sm", ".inf")]:
        add(k, "bad", f"h100 {key}: {v}", gpu("{in}/g.yaml"), {"g.yaml": gpu_value(key, v)})
    add(k, "bad", "h100 fp16 tensor tflops abc", gpu("{in}/g.yaml"), {"g.yaml": h100.replace("fp16: {value: 989.4", "fp16: {value: abc")})
    add(k, "bad", "h100 typo'd key sm_count", gpu("{in}/g.yaml"), {"g.yaml": rename_key(h100, "sm_count", "sm_cont")})
    add(k, "bad", "h100 drop sm_count", gpu("{in}/g.yaml"), {"g.yaml": drop_key(h100, "sm_count")})
    add(k, "bad", "h100 kernels file missing", gpu("{in}/g.yaml"), {"g.yaml": h100.replace("{repo}/arch/gpu/kernels.yaml", "missing-kernels.yaml")})
    add(k, "bad", "h100 truncated", gpu("{in}/g.yaml"), {"g.yaml": truncate(h100, 0.3)})
    # cascade (study) architectures, priced through a one-point `fusemax` sweep
    fm = repo_paths(read("arch/fusemax/fusemax.yaml"), [("hardware: hardware/", "hardware: {repo}/arch/fusemax/hardware/"),
                                                       ("../../workloads/", "{repo}/workloads/"), ("end_to_end: layer-gemms.yaml", "end_to_end: {repo}/arch/fusemax/layer-gemms.yaml")])
    sweep = ("name: cascade-fuzz\nengine: fusemax\narch: {cascade: c.yaml}\nworkload: {BERT: {repo}/workloads/models/bert-base.yaml}\n"
             "parameters:\n  grid:\n    +workload.params.seq_len: [1024]\nmetrics: [latency_s, energy_pJ]\n")
    cas = lambda: ["sweep", "{in}/s.yaml", "--out", "{out}/run", "--progress", "none", "--jobs", "1"]
    add(k, "good", "fusemax cascade copy (control)", cas(), {"c.yaml": fm, "s.yaml": sweep})
    for what, text in [
        ("binding names an absent Einsum", fm.replace("2d: [QK, LM, SLN, SLD, SLNV]", "2d: [QK, LM, SLN, SLD, SLNV, NOPE]")),
        ("keep names an absent tensor", fm.replace("keep: [Q, K, V, RM, RD, RNV]}", "keep: [Q, K, V, RM, RD, RNV, NOPE]}", 1)),
        ("an Einsum bound to no array", fm.replace("2d: [QK, LM, SLN, SLD, SLNV]", "2d: [QK, LM, SLN, SLD]")),
        ("spill -1", set_value(fm, "spill", "-1")),
        ("spill 2", set_value(fm, "spill", "2")),
        ("buffer names an absent level", set_value(fm, "buffer", "L9")),
        ("array compute names an absent unit", fm.replace("{compute: PE2D, issue: serial}", "{compute: PE9D, issue: serial}")),
        ("issue: sideways", fm.replace("{compute: PE2D, issue: serial}", "{compute: PE2D, issue: sideways}")),
        ("schedule memory: sideways", set_value(fm, "memory", "sideways")),
        ("stage names an absent Einsum", fm.replace("- {1d: [RM]}", "- {1d: [RM, NOPE]}")),
        ("typo'd key binding", rename_key(fm, "binding", "bindng")),
        ("typo'd key cascade_architecture", rename_key(fm, "cascade_architecture", "cascade_architectur")),
        ("drop hardware", drop_key(fm, "hardware")),
        ("hardware file missing", fm.replace("{repo}/arch/fusemax/hardware/fusemax-hardware.yaml", "missing.yaml")),
        ("query_tile fit over an absent rank", fm.replace("query_tile: {fit: P}", "query_tile: {fit: Z}")),
        ("truncated", truncate(fm, 0.5)),
    ]:
        add(k, "bad", "cascade fusemax.yaml: " + what, cas(), {"c.yaml": text, "s.yaml": sweep})
    # SpAtten architecture
    sp = read("arch/spatten.yaml")
    spr = lambda: ["reproduce", "spatten", "--arch", "{in}/sp.yaml", "--workload", "{repo}/workloads/spatten/trace-demo.yaml", "--out", "{out}/sp", "--no-plots", "--no-engines"]
    add(k, "good", "spatten.yaml copy (control)", spr(), {"sp.yaml": sp})
    for what, text in [("clock_ghz 0", sp.replace("  value: 1.0\n", "  value: 0\n", 1)),
                       ("multipliers -512", sp.replace("value: 512", "value: -512", 1)),
                       ("channels abc", sp.replace("value: 16\n", "value: abc\n", 1)),
                       ("typo'd key datapath_bits", rename_key(sp, "datapath_bits", "datapath_bit")),
                       ("drop dram", drop_key(sp, "dram")),
                       ("format 9", sp.replace("format: accelsim-spatten-arch 1", "format: accelsim-spatten-arch 9")),
                       ("empty", "")]:
        add(k, "bad", "spatten.yaml: " + what, spr(), {"sp.yaml": text})


# ------------------------------------------------------------------------------------------------ mappings, constraints

def mappings():
    k = "mapping"
    tl3 = "{repo}/arch/timeloop-3level.yaml"
    m = read("arch/mappings/timeloop-3level-conv1d.yaml")
    ev = lambda p: ["eval", "--arch", tl3, "--workload", "{in}/conv.yaml", "--mapping", p, "--json"]
    add(k, "good", "conv1d mapping copy (control)", ev("{in}/m.yaml"), {"m.yaml": m, "conv.yaml": CONV}, contains=["\"cycles\""])
    add(k, "good", "shipped FuseMax QK mapping", ["eval", "--arch", "{repo}/arch/fusemax/hardware/fusemax-hardware.yaml", "--workload", "{repo}/workloads/attention/attention-1pass.yaml",
                                                  "--einsum", "QK", "--mapping", "{repo}/arch/mappings/fusemax-qk.yaml", "--json"], contains=["\"cycles\""])
    yaml_structural(k, m, "m.yaml", ev, others={"conv.yaml": CONV})
    for what, old, new in [("factor does not divide (K=5)", "K=2 R=3", "K=5 R=3"), ("factors overshoot the rank (K=4)", "K=2 R=3", "K=4 R=3"),
                           ("factor 0", "K=2 R=3", "K=0 R=3"), ("negative factor", "K=2 R=3", "K=-2 R=3"), ("non-numeric factor", "K=2 R=3", "K=two R=3"),
                           ("unknown dimension Q", "K=2 R=3", "K=2 R=3 Q=2"), ("unknown level", "level: RegisterFile", "level: RegFile"),
                           ("level listed twice", "    - level: RegisterFile", "    - level: GlobalBuffer"),
                           ("spatial factor beyond the fan-out", "temporal: K=2 R=3", "temporal: R=3\n      spatial_x: K=2"),
                           ("huge factor", "K=2 R=3", "K=99999999999999999999 R=3"),
                           ("typo'd key levels", "levels:", "levls:"), ("typo'd key temporal", "temporal: K=16", "temporl: K=16"),
                           ("keep names an absent tensor", "temporal: K=2 R=3", "temporal: K=2 R=3\n      keep: [Nope]"),
                           ("bypass and keep the same tensor", "temporal: K=2 R=3", "temporal: K=2 R=3\n      keep: [Outputs]\n      bypass: [Outputs]"),
                           ("temporal as a number", "temporal: K=2 R=3", "temporal: 7"), ("duplicate dimension", "K=2 R=3", "K=2 R=3 K=1")]:
        assert old in m, old
        add(k, "bad", "conv1d mapping: " + what, ev("{in}/m.yaml"), {"m.yaml": m.replace(old, new, 1), "conv.yaml": CONV})
    fq = read("arch/mappings/fusemax-qk.yaml")
    fev = lambda: ["eval", "--arch", "{repo}/arch/fusemax/hardware/fusemax-hardware.yaml", "--workload", "{repo}/workloads/attention/attention-1pass.yaml",
                   "--einsum", "QK", "--mapping", "{in}/m.yaml"]
    for what, old, new in [("spatial_x beyond 256 columns", "spatial_x: M0=256", "spatial_x: M0=256 P=2"), ("compute names an absent unit", "compute: PE2D", "compute: PE3D"),
                           ("keep names an absent tensor", "keep: [QK]", "keep: [QKX]"), ("H factor 13", "temporal: H=12", "temporal: H=13")]:
        add(k, "bad", "fusemax-qk mapping: " + what, fev(), {"m.yaml": fq.replace(old, new, 1)})
    add(k, "bad", "eval --einsum names an absent Einsum", ["eval", "--arch", "{repo}/arch/fusemax/hardware/fusemax-hardware.yaml", "--workload", "{repo}/workloads/attention/attention-1pass.yaml", "--einsum", "QKK", "--mapping", "{repo}/arch/mappings/fusemax-qk.yaml"])
    # Timeloop mappings on Timeloop's exercise 03
    d = TL + "/03-model-conv1d+oc-3level/legacy-v0.2"
    tm = read(d + "/map/conv1d+oc-3level.map.yaml")
    tev = lambda: ["eval", "--arch", "{repo}/" + d + "/arch/3level.arch.yaml", "--workload", "{repo}/" + d + "/prob/conv1d+oc.prob.yaml", "--mapping", "{in}/m.yaml",
                   "--ert", "{repo}/" + d + "/ref-output/no-bypass/timeloop-model.ERT.yaml", "--json"]
    add(k, "good", "Timeloop mapping copy (control)", tev(), {"m.yaml": tm}, contains=["\"energy_pJ\""])
    for what, old, new in [("factors K=5", "factors: R=3 P=1 K=2", "factors: R=3 P=1 K=5"), ("target Nowhere", "target: RegisterFile", "target: Nowhere"),
                           ("permutation with an unknown letter", "permutation: RPK", "permutation: RPZ"), ("type sideways", "type: temporal", "type: sideways"),
                           ("factors with a typo'd dimension", "factors: R=3 P=1 K=2", "factors: R=3 P=1 KK=2"), ("factor abc", "factors: R=3 P=1 K=2", "factors: R=3 P=1 K=abc"),
                           ("typo'd key factors", "factors: R=3", "factrs: R=3"), ("typo'd key mapping", "mapping:", "mappin:")]:
        assert old in tm, old
        add(k, "bad", "Timeloop mapping: " + what, tev(), {"m.yaml": tm.replace(old, new, 1)})
    # constraints (ours) through map
    cons = ("constraints:\n  einsum: QK\n  levels:\n    - level: GlobalBuffer\n      temporal: M0=rest\n    - level: RegisterFile\n      keep: [QK]\n")
    mp = lambda files: ["map", "--arch", tl3, "--workload", "{repo}/workloads/attention/attention-1pass.yaml", "--einsum", "QK", "--set", "seq_len=256",
                        "--budget", "200", "--seed", "1", "--threads", "1", "--constraints"] + files
    add(k, "good", "our constraints (control)", mp(["{in}/c.yaml"]), {"c.yaml": cons}, contains=["QK"])
    for what, text in [("einsum: NOPE", cons.replace("einsum: QK", "einsum: NOPE")),
                       ("min_utilization 2", cons.replace("  levels:", "  min_utilization: 2\n  levels:")),
                       ("min_utilization -1", cons.replace("  levels:", "  min_utilization: -1\n  levels:")),
                       ("min_utilization .nan", cons.replace("  levels:", "  min_utilization: .nan\n  levels:")),
                       ("unknown level", cons.replace("level: GlobalBuffer", "level: Nowhere")),
                       ("unknown dimension", cons.replace("M0=rest", "Q=2")), ("non-divisor factor", cons.replace("M0=rest", "E=3")),
("bound E<=-1", cons.replace("M0=rest", "E<=-1")),
                       ("order with an unknown rank", cons.replace("temporal: M0=rest", "order: \"* Z\"")),
                       ("keep names an absent tensor", cons.replace("keep: [QK]", "keep: [NOPE]")),
                       ("typo'd key levels", cons.replace("  levels:", "  levles:")), ("typo'd key temporal", cons.replace("temporal:", "temporl:")),
                       ("empty", ""), ("truncated", truncate(cons, 0.5) + "["), ("tab indentation", cons.replace("    - level: RegisterFile", "\t- level: RegisterFile"))]:
        add(k, "bad", "constraints: " + what, mp(["{in}/c.yaml"]), {"c.yaml": text})
    add(k, "bad", "constraints file missing", mp(["{in}/missing.yaml"]))
    # Timeloop constraints on exercise 05
    d5 = TL + "/05-mapper-conv1d+oc-3level/legacy-v0.2"
    tc = read(d5 + "/constraints/conv1d+oc-3level-freebypass.constraints.yaml")
    tmp = lambda: ["map", "--arch", "{repo}/" + d5 + "/arch/3level.arch.yaml", "--workload", "{repo}/" + d5 + "/prob/conv1d+oc.prob.yaml",
                   "--constraints", "{in}/c.yaml", "--search", "exhaustive", "--threads", "1"]
    add(k, "good", "Timeloop freebypass constraints copy (control)", tmp(), {"c.yaml": tc}, contains=["MainMemory"])
    for what, old, new in [("factors K=5", "factors: R=3 P=1 K=2", "factors: R=3 P=1 K=5"), ("target Nowhere", "target: RegisterFile", "target: Nowhere"),
                           ("type sideways", "type: temporal", "type: sideways"), ("permutation XYZ", "permutation: RPK", "permutation: XYZ"),
                           ("typo'd key mapspace_constraints", "mapspace_constraints:", "mapspace_constraint:")]:
        assert old in tc, old
        add(k, "bad", "Timeloop constraints: " + what, tmp(), {"c.yaml": tc.replace(old, new, 1)})
    add(k, "bad", "map --save under a regular file", mp(["{in}/c.yaml"])[:-2] + ["--save", "{in}/file.txt/qk.yaml"], {"file.txt": "a regular file\n"})
    add(k, "good", "map --save into a missing folder (created, as sweep --out is)", mp(["{in}/c.yaml"])[:-2] + ["--save", "{out}/no/such/folder/qk.yaml"], contains=["QK"])


# ------------------------------------------------------------------------------------------------ sweeps

def sweeps():
    k = "sweep"
    tiny = seed("tiny-roofline.yaml")
    sw = lambda p, *extra: ["sweep", p, "--out", "{out}/run", "--progress", "none"] + list(extra if "--jobs" in extra else extra + ("--jobs", "1"))
    add(k, "good", "tiny roofline sweep (control)", sw("{in}/s.yaml", "--json"), {"s.yaml": tiny}, contains=["\"points\""])
    pm = repo_paths(read("workloads/sweeps/passes-and-masks.yaml"), [("../attention/", "{repo}/workloads/attention/")])
    pm_small = pm.replace("[1024, 4096, 16384, 65536]", "[1024, 4096]")
    add(k, "good", "passes-and-masks at two lengths (control)", sw("{in}/s.yaml"), {"s.yaml": pm_small})
    gk = repo_paths(read("workloads/sweeps/gpu-kernels.yaml"), [("../../arch/", "{repo}/arch/"), ("../attention/", "{repo}/workloads/attention/")])
    gk_small = gk.replace("[1024, 4096, 16384]", "[1024]")
    add(k, "good", "gpu-kernels at one length (control)", sw("{in}/s.yaml"), {"s.yaml": gk_small})
    yaml_structural(k, tiny, "s.yaml", lambda p: sw(p), [("tab indentation", lambda t: tab_indent(t, "a100")), ("duplicate key engine", lambda t: dup_key(t, "engine"))])
    for what, text in [
        ("engine nope", set_value(tiny, "engine", "nope")), ("drop engine", drop_key(tiny, "engine")), ("drop workload", drop_key(tiny, "workload")),
        ("typo'd key parameters", rename_key(tiny, "parameters", "paramters")), ("typo'd key metrics", rename_key(tiny, "metrics", "metric")),
        ("typo'd key baseline", rename_key(tiny, "baseline", "baselin")), ("unknown metric", tiny.replace("[latency_s,", "[latency_ss,")),
        ("baseline names an absent value", tiny.replace("  arch: a100", "  arch: a200")), ("baseline names an absent column", tiny.replace("  arch: a100", "  arch2: a100")),
        ("zip lists of unequal length", tiny.replace("workload.k: [64, 512, 4096]", "workload.k: [64, 512]")),
        ("empty value list", tiny.replace("workload.k: [64, 512, 4096]", "workload.k: []")),
        ("unknown parameter path", tiny.replace("workload.k:", "workload.kk:")),
        ("parameter of wrong type", tiny.replace("workload.k: [64, 512, 4096]", "workload.k: [64, abc, 4096]")),
        ("negative GEMM size", tiny.replace("workload.k: [64, 512, 4096]", "workload.k: [64, -512, 4096]")),
        ("huge GEMM size", tiny.replace("workload.k: [64, 512, 4096]", "workload.k: [64, 1e400, 4096]")),
        ("arch file missing", tiny.replace("machines/a100.yaml", "machines/a1000.yaml")),
        ("descending range", tiny.replace("workload.m: [64, 512, 4096]", "workload.m: {from: 4096, to: 64, factor: 2}").replace("    workload.n: [64, 512, 4096]\n    workload.k: [64, 512, 4096]\n", "")),
        ("range factor 1", tiny.replace("workload.m: [64, 512, 4096]", "workload.m: {from: 64, to: 4096, factor: 1}").replace("    workload.n: [64, 512, 4096]\n    workload.k: [64, 512, 4096]\n", "")),
        ("range factor 0", tiny.replace("workload.m: [64, 512, 4096]", "workload.m: {from: 64, to: 4096, factor: 0}").replace("    workload.n: [64, 512, 4096]\n    workload.k: [64, 512, 4096]\n", "")),
        ("range step -1", tiny.replace("workload.m: [64, 512, 4096]", "workload.m: {from: 64, to: 4096, step: -1}").replace("    workload.n: [64, 512, 4096]\n    workload.k: [64, 512, 4096]\n", "")),
        ("range of 10^12 points", tiny.replace("workload.m: [64, 512, 4096]", "workload.m: {from: 1, to: 1000000000000, step: 1}").replace("    workload.n: [64, 512, 4096]\n    workload.k: [64, 512, 4096]\n", "")),
        ("a machine with zero bandwidth", tiny.replace("  h100: {repo}/workloads/sweeps/roofline/machines/h100.yaml", "  h100: zero.yaml")),
    ]:
        files = {"s.yaml": text}
        if "zero.yaml" in text:
            files["zero.yaml"] = "name: zero\npeak_flops: 989e12\nmemory_bandwidth: 0\n"
        add(k, "bad", "tiny sweep: " + what, sw("{in}/s.yaml"), files)
    add(k, "bad", "passes-and-masks: window -5", sw("{in}/s.yaml"), {"s.yaml": pm_small.replace("[0, 512]", "[0, -5]")})
    add(k, "bad", "gpu-kernels: options.kernal typo", sw("{in}/s.yaml"), {"s.yaml": gk_small.replace("options.kernel:", "options.kernal:")})
    add(k, "bad", "gpu-kernels: kernel fa9", sw("{in}/s.yaml"), {"s.yaml": gk_small.replace("[fa2,  fa3,  fa4]", "[fa2,  fa3,  fa9]")})
    for what, extra in [("--shard 3/2", ["--shard", "3/2"]), ("--shard a/b", ["--shard", "a/b"]), ("--shard 0/0", ["--shard", "0/0"]),
                        ("--shard -1/2", ["--shard", "-1/2"]), ("--jobs 0", ["--jobs", "0"]), ("--jobs -1", ["--jobs", "-1"]),
                        ("--resume with --force", ["--resume", "--force"]), ("--jobs abc", ["--jobs", "abc"])]:
        add(k, "bad", "tiny sweep " + what, sw("{in}/s.yaml", *extra), {"s.yaml": tiny})
    add(k, "bad", "sweep --out under a regular file", ["sweep", "{in}/s.yaml", "--out", "{in}/file.txt/run", "--progress", "none", "--jobs", "1"], {"s.yaml": tiny, "file.txt": "x\n"})
    run0 = {"run": sw("{in}/s.yaml")}
    rerun = sw("{in}/s.yaml", "--resume")
    for what, step in [("a row with a missing field", {"append": "{out}/run/results.csv", "text": "6,abc,a100,64\n"}),
                       ("a row with a point index out of range", {"append": "{out}/run/results.csv", "text": "99,3820006099d57ba5,a100,64,64,64,1,1,1,1,1,1,1,1,memory,\n"}),
                       ("a duplicated row that disagrees", {"append": "{out}/run/results.csv", "text": "0,3820006099d57ba5,a100,64,64,64,5,5,5,5,5,5,5,5,compute,\n"}),
                       ("interleaved rows of two writers", {"append": "{out}/run/results.csv", "text": "1,4107eecaa1e1bd78,a100,512,5121,4107eecaa1e1bd78,a100\n"}),
                       ("a non-numeric point index", {"append": "{out}/run/results.csv", "text": "x,3820006099d57ba5,a100,64,64,64,1,1,1,1,1,1,1,1,memory,\n"}),
                       ("a corrupt sweep.json", {"replace": "{out}/run/sweep.json", "old": "\"format\": 1,", "new": "\"format\": 1,,"})]:
        add(k, "bad", "--resume on results with " + what, rerun, {"s.yaml": tiny}, setup=[run0, step])
    # measurement CSVs for `validate`
    k = "measurements"
    full = read("arch/gpu/measurements/h200-sdpa/measurements.csv").split("\n")
    header, rows = full[0], [r for r in full[1:] if r.strip()]
    small = "\n".join([header] + rows[:12]) + "\n"
    val = lambda p, *extra: ["validate", "--measurements", p] + list(extra if "--arch-dir" in extra else extra + ("--arch-dir", "{repo}/arch/gpu"))
    for f in ["published-attention.csv", "h100-sdpa/measurements.csv", "h200-sdpa/measurements.csv"]:
        add(k, "good", "validate shipped " + f, val("{repo}/arch/gpu/measurements/" + f), contains=["MAPE"])
    add(k, "good", "12-row h200 subset with --out (control)", val("{in}/m.csv", "--out", "{out}/v"), {"m.csv": small}, contains=["MAPE"])
    cols = header.split(",")

    table = list(csv.reader(io.StringIO(small)))

    def write(t):
        b = io.StringIO()
        csv.writer(b, lineterminator="\n").writerows(t)
        return b.getvalue()

    def edit(col, value, row=1):
        t = [list(r) for r in table]
        t[row][cols.index(col)] = value
        return write(t)

    def drop_col(col):
        i = cols.index(col)
        return write([[c for j, c in enumerate(r) if j != i] for r in table])
    for col in ["tflops", "seq_len", "gpu", "kernel", "head_dim", "causal"]:
        add(k, "bad", f"missing column {col}", val("{in}/m.csv"), {"m.csv": drop_col(col)})
    for col, v in [("tflops", "0"), ("tflops", "-5"), ("tflops", "abc"), ("tflops", "nan"), ("tflops", "inf"), ("tflops", ""),
                   ("seq_len", "0"), ("seq_len", "-512"), ("seq_len", "abc"), ("seq_len", "1e400"), ("seq_len", "99999999999999999999"),
                   ("batch", "0"), ("batch", "abc"), ("tflops", "1e400"), ("heads", "-1"), ("gpu", "NVIDIA Z9000"), ("kernel", "fa9"),
                   ("direction", "sideways"), ("dtype", "fp7"), ("causal", "maybe"), ("approx", "perhaps")]:
        add(k, "bad", f"{col} = {v!r}", val("{in}/m.csv"), {"m.csv": edit(col, v)})
    fa3_hd3 = [list(r) for r in table]
    fa3_hd3[1][cols.index("kernel")], fa3_hd3[1][cols.index("head_dim")] = "fa3", "3"
    add(k, "bad", "head_dim = '3' on an fa3 row (fa3 needs multiples of 8)", val("{in}/m.csv"), {"m.csv": write(fa3_hd3)})
    add(k, "bad", "header only", val("{in}/m.csv"), {"m.csv": header + "\n"})
    add(k, "bad", "empty file", val("{in}/m.csv"), {"m.csv": ""})
    add(k, "bad", "binary junk", val("{in}/m.csv"), {"m.csv": junk()})
    add(k, "bad", "unclosed quote", val("{in}/m.csv"), {"m.csv": small.replace(",no,", ",no,\"unclosed ", 1)})
    add(k, "bad", "a row with too few fields", val("{in}/m.csv"), {"m.csv": small + "NVIDIA H200,fa2,bf16\n"})
    add(k, "bad", "a row with too many fields", val("{in}/m.csv"), {"m.csv": small + rows[0] + ",extra,fields\n"})
    add(k, "bad", "duplicate header column", val("{in}/m.csv"), {"m.csv": small.replace("gpu,kernel,", "gpu,gpu,", 1)})
    add(k, "bad", "missing file", val("{in}/missing.csv"))
    add(k, "bad", "--arch-dir missing", val("{in}/m.csv", "--arch-dir", "{in}/nope"), {"m.csv": small})
    add(k, "bad", "--out under a regular file", val("{in}/m.csv", "--out", "{in}/file.txt/v"), {"m.csv": small, "file.txt": "x\n"})


# ------------------------------------------------------------------------------------------------ SpAtten

def spatten():
    k = "spatten"
    demo = repo_paths(read("workloads/spatten/trace-demo.yaml"), [("trace: traces/", "trace: {repo}/workloads/spatten/traces/"), ("../attention/", "{repo}/workloads/attention/")])
    rp = lambda p, *extra: ["reproduce", "spatten", "--workload", p, "--out", "{out}/sp", "--no-plots", "--no-engines"] + list(extra)
    add(k, "good", "trace demo copy (control)", rp("{in}/b.yaml"), {"b.yaml": demo}, contains=["DRAM"])
    add(k, "good", "shipped trace demo with engines", ["reproduce", "spatten", "--workload", "{repo}/workloads/spatten/trace-demo.yaml", "--out", "{out}/sp", "--no-plots"], contains=["DRAM"])
    yaml_structural(k, demo, "b.yaml", lambda p: rp(p), [("tab indentation", lambda t: tab_indent(t, "dense_bits"))])
    for what, text in [
        ("token keep 1.5", demo.replace("token: {keep: [1.0, 0.75, 0.5, 0.5]}", "token: {keep: [1.0, 1.5, 0.5, 0.5]}")),
        ("token keep -0.1", demo.replace("token: {keep: [1.0, 0.75, 0.5, 0.5]}", "token: {keep: [1.0, -0.1, 0.5, 0.5]}")),
        ("token keep NaN", demo.replace("token: {keep: [1.0, 0.75, 0.5, 0.5]}", "token: {keep: [1.0, .nan, 0.5, 0.5]}")),
        ("token keep list shorter than the layers", demo.replace("token: {keep: [1.0, 0.75, 0.5, 0.5]}", "token: {keep: [1.0, 0.75, 0.5]}")),
        ("head keep 0", demo.replace("head: {keep: [1.0, 1.0, 0.75, 0.75]}", "head: {keep: [1.0, 1.0, 0, 0.75]}")),
        ("value keep_ratio 2", demo.replace("value: {keep_ratio: 0.5}", "value: {keep_ratio: 2}")),
        ("mode nope", demo.replace("mode: trace", "mode: nope", 1)),
        ("trace file missing", demo.replace("synthetic-bert-tiny.trace", "missing.trace")),
        ("dense_bits 0", demo.replace("dense_bits: 32", "dense_bits: 0", 1)),
        ("dense_bits -8", demo.replace("dense_bits: 32", "dense_bits: -8", 1)),
        ("quant kind nope", demo.replace("kind: progressive", "kind: nope", 1)),
        ("msb_bits -1", demo.replace("msb_bits: 8", "msb_bits: -1")),
        ("lsb_bits above msb_bits", demo.replace("msb_bits: 8, lsb_bits: 4", "msb_bits: 8, lsb_bits: 40")),
        ("threshold 2", demo.replace("threshold: 0.1", "threshold: 2", 1)),
        ("benchmark names an absent model", demo.replace("model: tiny-bert, task", "model: tiny-bart, task")),
        ("benchmark names an absent pruning", demo.replace("pruning: bert-tiny-trace}", "pruning: bert-tiny-trac}")),
        ("tokens 0", demo.replace("tokens: 32", "tokens: 0")),
        ("tokens -32", demo.replace("tokens: 32", "tokens: -32")),
        ("tokens abc", demo.replace("tokens: 32", "tokens: abc")),
        ("tokens 1e400", demo.replace("tokens: 32", "tokens: 1e400")),
        ("generate_tokens -8", demo.replace("generate_tokens: 8", "generate_tokens: -8")),
        ("task nope", demo.replace("task: summarization", "task: nope")),
        ("format 9", demo.replace("accelsim-spatten-benchmarks 1", "accelsim-spatten-benchmarks 9")),
        ("model layers 0", demo.replace("tiny-bert: {layers: 4", "tiny-bert: {layers: 0")),
        ("model heads -4", demo.replace("tiny-bert: {layers: 4, heads: 4", "tiny-bert: {layers: 4, heads: -4")),
        ("model head_dim 2.5", demo.replace("tiny-bert: {layers: 4, heads: 4, head_dim: 16", "tiny-bert: {layers: 4, heads: 4, head_dim: 2.5")),
        ("typo'd key pruning", rename_key(demo, "pruning", "prunning")),
        ("typo'd key keep_ratio", demo.replace("keep_ratio: 0.5", "keep_ration: 0.5")),
        ("typo'd key benchmarks", rename_key(demo, "benchmarks", "benchmark")),
        ("cascade file missing", demo.replace("attention-3pass.yaml", "attention-9pass.yaml")),
        ("cascade set of an unknown parameter", demo.replace("set: {heads: 4,", "set: {headz: 4,")),
        ("cascade layers 0", demo.replace("    layers: 4\n", "    layers: 0\n")),
        ("no benchmarks", demo.split("benchmarks:")[0] + "benchmarks: []\n"),
    ]:
        assert text != demo, what
        add(k, "bad", "trace-demo: " + what, rp("{in}/b.yaml"), {"b.yaml": text})
    trace = read("workloads/spatten/traces/synthetic-bert-tiny.trace")
    lines = trace.split("\n")
    with_trace = demo.replace("{repo}/workloads/spatten/traces/synthetic-bert-tiny.trace", "t.trace")
    probs_i = next(i for i, l in enumerate(lines) if l.startswith("probs "))
    row = lines[probs_i + 1].split(" ")
    for what, text in [
        ("wrong magic line", trace.replace("accelsim-attention-trace 1", "accelsim-attention-trace 7", 1)),
        ("truncated in the middle of a block", "\n".join(lines[:probs_i + 5]) + "\n"),
        ("a negative probability", "\n".join(lines[:probs_i + 1] + [" ".join(["-0.5"] + row[1:])] + lines[probs_i + 2:])),
        ("a NaN probability", "\n".join(lines[:probs_i + 1] + [" ".join(["nan"] + row[1:])] + lines[probs_i + 2:])),
        ("a non-numeric probability", "\n".join(lines[:probs_i + 1] + [" ".join(["abc"] + row[1:])] + lines[probs_i + 2:])),
        ("a short row", "\n".join(lines[:probs_i + 1] + [" ".join(row[:5])] + lines[probs_i + 2:])),
        ("a probs header with a wrong size", trace.replace(lines[probs_i], "probs 0 0 0 33 32", 1)),
        ("a probs header of an absent layer", trace.replace(lines[probs_i], "probs 0 9 0 32 32", 1)),
        ("a model line that disagrees with the benchmark", trace.replace("model tiny-bert 4 4 16", "model tiny-bert 4 8 16", 1)),
        ("an empty trace", ""),
        ("binary junk", None),
    ]:
        add(k, "bad", "trace: " + what, rp("{in}/b.yaml"), {"b.yaml": with_trace, "t.trace": junk() if text is None else text})
    add(k, "bad", "--settings nope", ["reproduce", "spatten", "--settings", "nope", "--out", "{out}/sp", "--no-plots", "--no-engines"])
    add(k, "bad", "--settings with --workload", rp("{repo}/workloads/spatten/trace-demo.yaml", "--settings", "rtl"))
    add(k, "bad", "--out under a regular file", ["reproduce", "spatten", "--workload", "{repo}/workloads/spatten/trace-demo.yaml", "--out", "{in}/file.txt/sp", "--no-plots", "--no-engines"], {"file.txt": "x\n"})


# ------------------------------------------------------------------------------------------------ Timeloop import

def timeloop():
    k = "timeloop-import"
    imp = lambda a, p, m=None, ert=None: ["import", "timeloop", a, p] + ([m] if m else []) + ["--out", "{out}/imp"] + (["--ert", ert] if ert else [])
    for case in ["00-model-conv1d-1level", "01-model-conv1d-2level", "02-model-conv1d+oc-2level", "03-model-conv1d+oc-3level", "04-model-conv1d+oc-3levelspatial"]:
        for ver in ["legacy-v0.2", "v0.4"]:
            d = os.path.join(ROOT, TL, case, ver)
            if not os.path.isdir(d):
                continue
            a = sorted(os.listdir(d + "/arch"))[0]
            p = sorted(os.listdir(d + "/prob"))[0]
            m = sorted(os.listdir(d + "/map"))[0]
            rel = "{repo}/" + TL + "/" + case + "/" + ver
            add(k, "good", f"import {case} {ver}", imp(f"{rel}/arch/{a}", f"{rel}/prob/{p}", f"{rel}/map/{m}"), contains=["arch.yaml"])
    d = TL + "/03-model-conv1d+oc-3level/legacy-v0.2"
    arch = read(d + "/arch/3level.arch.yaml")
    prob = read(d + "/prob/conv1d+oc.prob.yaml")
    mp = read(d + "/map/conv1d+oc-3level.map.yaml")
    ert = read(d + "/ref-output/no-bypass/timeloop-model.ERT.yaml")
    R = "{repo}/" + d
    A, P, M, E = R + "/arch/3level.arch.yaml", R + "/prob/conv1d+oc.prob.yaml", R + "/map/conv1d+oc-3level.map.yaml", R + "/ref-output/no-bypass/timeloop-model.ERT.yaml"
    add(k, "good", "exercise 03 with its ERT (control)", imp(A, P, M, E), contains=["mapping.yaml"])
    for what, text in [("word-bits 0", set_value(arch, "word-bits", "0")), ("word-bits -8", set_value(arch, "word-bits", "-8")),
                       ("depth -1", set_value(arch, "depth", "-1")), ("depth 0", set_value(arch, "depth", "0")), ("depth abc", set_value(arch, "depth", "abc")),
                       ("depth 1e400", set_value(arch, "depth", "1e400")), ("width 0", set_value(arch, "width", "0", 1)),
                       ("block-size 0", set_value(arch, "block-size", "0")), ("block-size -32", set_value(arch, "block-size", "-32", 1)),
                       ("block-size wider than width", set_value(arch, "block-size", "64", 1)),
                       ("class nope", set_value(arch, "class", "flux-capacitor", 1)), ("technology abc", set_value(arch, "technology", "abcnm")),
                       ("version 9.9", set_value(arch, "version", "9.9")), ("typo'd key subtree", rename_key(arch, "subtree", "subtre")),
                       ("typo'd key attributes", rename_key(arch, "attributes", "atributes")), ("drop local", drop_key(arch, "local")),
                       ("datawidth 0", set_value(arch, "datawidth", "0")), ("tabs", arch.replace("        class: SRAM", "\tclass: SRAM")),
                       ("truncated", truncate(arch, 0.5)), ("empty", "")]:
        add(k, "bad", "arch: " + what, imp("{in}/a.yaml", P, M, E), {"a.yaml": text})
    for what, text in [("instance K 0", set_value(prob, "K", "0", 0).replace("K: 0", "K: 32", 0)), ("instance P -16", set_value(prob, "P", "-16")),
                       ("instance R abc", set_value(prob, "R", "abc")), ("instance K 1e30", set_value(prob, "K", "1e30")),
                       ("projection over an unknown dimension", prob.replace("- [ [R], [P] ]", "- [ [R], [Z] ]")),
                       ("typo'd key data-spaces", prob.replace("data-spaces:", "data-space:")), ("typo'd key instance", prob.replace("instance:", "instanse:")),
                       ("drop instance", drop_key(prob, "instance")), ("empty", "")]:
        if text == prob:
            text = prob.replace("    K: 32", "    K: 0")
        add(k, "bad", "problem: " + what, imp(A, "{in}/p.yaml", M, E), {"p.yaml": text})
    for what, old, new in [("factors K=5", "factors: R=3 P=1 K=2", "factors: R=3 P=1 K=5"), ("target Nowhere", "target: RegisterFile", "target: Nowhere"),
                           ("permutation XYZ", "permutation: RPK", "permutation: XYZ"), ("type sideways", "type: temporal", "type: sideways")]:
        add(k, "bad", "mapping: " + what, imp(A, P, "{in}/m.yaml", E), {"m.yaml": mp.replace(old, new, 1)})
    for what, text in [("energy abc", ert.replace("energy: 0.073", "energy: abc", 1)), ("energy -1", ert.replace("energy: 0.073", "energy: -1", 1)),
                       ("energy .nan", ert.replace("energy: 0.073", "energy: .nan", 1)), ("typo'd key tables", ert.replace("tables:", "table:", 1)),
                       ("empty", ""), ("truncated", truncate(ert, 0.3))]:
        add(k, "bad", "ERT: " + what, imp(A, P, M, "{in}/e.yaml"), {"e.yaml": text})
    add(k, "bad", "arch file missing", imp("{in}/missing.yaml", P, M))
    add(k, "bad", "our own arch given as a Timeloop one", imp("{repo}/arch/timeloop-3level.yaml", P, M))
    add(k, "bad", "--out under a regular file", ["import", "timeloop", A, P, M, "--out", "{in}/file.txt/imp"], {"file.txt": "x\n"})
    add(k, "bad", "README-style names of files that do not exist", ["import", "timeloop", "3level.arch.yaml", "conv1d.prob.yaml", "conv1d.map.yaml", "--out", "{out}/imp"])


# ------------------------------------------------------------------------------------------------ --set values

def sets():
    k = "set"
    att = "{repo}/workloads/attention/attention-1pass.yaml"
    an = lambda *s: ["analyze", att] + [x for v in s for x in ("--set", v)]
    for v in ["seq_len=4096", "causal=true", "window=512", "batch=2", "seq_len=2048 ".strip()]:
        add(k, "good", f"analyze --set {v} (control)", an(v), contains=["AV"])
    for v in ["seq_len=1e30", "seq_len=99999999999999999999", "seq_len=abc", "seq_len=", "=5", "seq_lenn=1024", "seq_len=-1024", "seq_len=0",
              "seq_len=1024.5", "seq_len=nan", "seq_len=inf", "heads=0", "window=-5", "scale=1/0", "scale=sqrt(-1)", "causal=maybe",
              "noequals", "tile=0", "head_dim=1e400", "batch=-1"]:
        add(k, "bad", f"analyze --set {v}", an(v))
    gpu = lambda *s: ["eval", "--arch", "{repo}/arch/gpu/h100.yaml", "--workload", att, "--kernel", "fa3"] + [x for v in s for x in ("--set", v)]
    add(k, "good", "GPU eval --set seq_len=8192 (control)", gpu("seq_len=8192"), contains=["fa3"])
    for v in ["head_dim=3", "seq_len=99999999999999999999", "arch.sm_count=13.2", "arch.hbm_tbps=0", "arch.sm_cont=132", "options.kernal=fa3", "seq_len=1e30", "heads=-1"]:
        add(k, "bad", f"GPU eval --set {v}", gpu(v))
    add(k, "good", "GPU eval --set arch.sm_count=66 (README: arch.<field> works everywhere)", gpu("arch.sm_count=66"), contains=["fa3"])
    sp = lambda *s: ["eval", "--arch", "{repo}/arch/timeloop-3level.yaml", "--workload", "{in}/conv.yaml", "--mapping", "{repo}/arch/mappings/timeloop-3level-conv1d.yaml", "--json"] + [x for v in s for x in ("--set", v)]
    add(k, "good", "spatial eval --set GlobalBuffer.capacity_words=131072 (control)", sp("GlobalBuffer.capacity_words=131072"), {"conv.yaml": CONV}, contains=["\"cycles\""])
    add(k, "good", "spatial eval --set clock_hz=2e9 (control)", sp("clock_hz=2e9"), {"conv.yaml": CONV}, contains=["\"cycles\""])
    for v in ["GlobalBuffer.capacity_words=-1", "GlobalBuffer.read_bandwidth=0", "MainMemory.read_bandwidth=0", "MainMemory.write_bandwidth=0", "clock_hz=0",
              "clock_hz=-1", "GlobalBuffer.capacity_words=abc", "GlobalBuffer.capacity_word=1", "Nowhere.capacity_words=1", "GlobalBuffer.block_size=0",
              "GlobalBuffer.capacity_words=99999999999999999999", "clock_hz=nan", "arch.nope=1", "K=0"]:
        add(k, "bad", f"spatial eval --set {v}", sp(v), {"conv.yaml": CONV})
    tiny = seed("tiny-roofline.yaml")
    sw = lambda *s: ["sweep", "{in}/s.yaml", "--out", "{out}/run", "--progress", "none", "--jobs", "1"] + [x for v in s for x in ("--set", v)]
    add(k, "good", "sweep --set workload.word_bytes=4 (control)", sw("workload.word_bytes=4"), {"s.yaml": tiny})
    for v in ["workload.word_bytes=abc", "workload.word_bytez=4", "workload.word_bytes=0", "arch.peak_flops=0", "arch.memory_bandwidth=-1", "options.kernal=fa3",
              "workload.word_bytes=99999999999999999999", "nodot=1"]:
        add(k, "bad", f"sweep --set {v}", sw(v), {"s.yaml": tiny})
    mp = lambda *s: ["map", "--arch", "{repo}/arch/timeloop-3level.yaml", "--workload", att, "--einsum", "QK", "--budget", "100", "--threads", "1"] + [x for v in s for x in ("--set", v)]
    for v in ["seq_len=99999999999999999999", "seq_len=abc", "GlobalBuffer.capacity_words=0", "RegisterFile.capacity_words=-5"]:
        add(k, "bad", f"map --set {v}", mp(v))


# ------------------------------------------------------------------------------------------------ plot, report, merge

def results():
    k = "results"
    csv = seed("results.csv")
    sj = seed("sweep.json")
    s0c, s0j, s1c, s1j = seed("shard-0/results.csv"), seed("shard-0/sweep.json"), seed("shard-1/results.csv"), seed("shard-1/sweep.json")
    head, *rows = [l for l in csv.split("\n") if l]
    folder = lambda c=csv, j=sj: {"r/results.csv": c, "r/sweep.json": j}
    pl = lambda kind, *extra: ["plot", kind, "--in", "{in}/r", "--out", "{out}/p.png"] + list(extra)
    add(k, "good", "plot speedup (control)", pl("speedup", "--x", "workload.m", "--group", "arch", "--y", "latency_s"), folder())
    add(k, "good", "plot utilization as svg (control)", ["plot", "utilization", "--in", "{in}/r", "--out", "{out}/p.svg", "--x", "workload.m", "--group", "arch", "--y", "utilization"], folder())
    add(k, "good", "plot roofline (control)", pl("roofline", "--x", "intensity", "--y", "attained_flops_per_s", "--group", "arch"), folder())
    add(k, "good", "plot line with --where (control)", pl("line", "--x", "workload.m", "--y", "latency_s", "--where", "arch=h100"), folder())
    add(k, "good", "report (control)", ["report", "{in}/r"], folder(), contains=["report.md"])
    add(k, "good", "merge two shards (control)", ["merge", "{in}/s0", "{in}/s1", "--out", "{out}/m"],
        {"s0/results.csv": s0c, "s0/sweep.json": s0j, "s1/results.csv": s1c, "s1/sweep.json": s1j}, contains=["merged 6 of 6"])
    sp = lambda *extra: pl("speedup", *(([] if "--x" in extra else ["--x", "workload.m"]) + ([] if "--group" in extra else ["--group", "arch"])), *extra)
    for what, extra in [("--y absent column", ["--y", "latency_ss"]), ("--x absent column", ["--y", "latency_s", "--x", "nope"]),
                        ("--group absent column", ["--y", "latency_s", "--group", "nope"]), ("--y non-numeric column", ["--y", "bound"]),
                        ("--baseline of an absent value", ["--y", "latency_s", "--baseline", "arch=a200"]),
                        ("--baseline of an absent column", ["--y", "latency_s", "--baseline", "nope=a100"]),
                        ("--where of an absent column", ["--y", "latency_s", "--where", "nope=1"]),
                        ("--where keeps no rows", ["--y", "latency_s", "--where", "arch=a200"]),
                        ("--where without =", ["--y", "latency_s", "--where", "arch"]),
                        ("--width 0", ["--y", "latency_s", "--width", "0"]), ("--height -5", ["--y", "latency_s", "--height", "-5"]),
                        ("--width 10^6", ["--y", "latency_s", "--width", "1000000"]),
                        ("--x-scale sideways", ["--y", "latency_s", "--x-scale", "sideways"]), ("--width abc", ["--y", "latency_s", "--width", "abc"])]:
        add(k, "bad", "plot speedup " + what, sp(*extra), folder())
    add(k, "bad", "plot speedup blending rows of an unnamed column", pl("speedup", "--x", "arch", "--y", "latency_s"), folder())
    add(k, "bad", "plot roofline without peak columns", pl("roofline", "--x", "intensity", "--y", "latency_s", "--peak", "nope", "--bandwidth", "nope"), folder())
    add(k, "bad", "plot --out .jpg", ["plot", "speedup", "--in", "{in}/r", "--out", "{out}/p.jpg", "--x", "workload.m", "--group", "arch", "--y", "latency_s"], folder())
    add(k, "bad", "plot --out under a regular file", ["plot", "speedup", "--in", "{in}/r", "--out", "{in}/file.txt/p.png", "--x", "workload.m", "--group", "arch", "--y", "latency_s"], dict(folder(), **{"file.txt": "x\n"}))
    add(k, "bad", "plot --in missing", ["plot", "speedup", "--in", "{in}/nope.csv", "--out", "{out}/p.png", "--y", "latency_s"])
    add(k, "bad", "plot kind nope", ["plot", "nope", "--in", "{in}/r", "--out", "{out}/p.png"], folder())
    cols = head.split(",")

    def with_cell(col, value, row=0):
        r = rows[row].split(",")
        r[cols.index(col)] = value
        return "\n".join([head] + rows[:row] + [",".join(r)] + rows[row + 1:]) + "\n"

    def without_col(col):
        i = cols.index(col)
        return "\n".join(",".join(c for j, c in enumerate(l.split(",")) if j != i) for l in [head] + rows) + "\n"
    bad_csvs = [
        ("a non-numeric latency", with_cell("latency_s", "abc")), ("a NaN latency", with_cell("latency_s", "NaN")),
        ("an Infinity latency", with_cell("latency_s", "Infinity")),
        ("a row with too few fields", csv + "6,abc,a100\n"),
        ("a row with too many fields", csv + rows[0] + ",1,2,3\n"), ("an unclosed quote", csv.replace(",memory,", ",\"memory,", 1)),
        ("no latency column", without_col("latency_s")), ("header only", head + "\n"), ("empty", ""), ("binary junk", None),
        ("duplicate header column", csv.replace("latency_s,compute_s", "latency_s,latency_s", 1)),
        ("a duplicated point that disagrees", csv + rows[0].replace(rows[0].split(",")[6], "5", 1) + "\n"),
    ]
    for what, text in bad_csvs:
        c = junk() if text is None else text
        add(k, "bad", "plot: results.csv with " + what, sp("--y", "latency_s"), folder(c))
        if what != "header only":  # a report of a sweep with no rows yet is allowed
            add(k, "bad", "report: results.csv with " + what, ["report", "{in}/r"], folder(c))
    add(k, "bad", "report: corrupt sweep.json", ["report", "{in}/r"], folder(j=sj.replace("\"format\": 1,", "\"format\": 1,,")))
    add(k, "bad", "report: folder without results.csv", ["report", "{in}/r"], {"r/sweep.json": sj})
    add(k, "bad", "report: folder missing", ["report", "{in}/nope"])
    add(k, "bad", "report: --in names an absent file", ["report", "{in}/r", "--in", "nope.csv"], folder())
    add(k, "bad", "report: --max-rows -1", ["report", "{in}/r", "--max-rows", "-1"], folder())
    add(k, "bad", "report: a folder under a regular file", ["report", "{in}/file.txt/r"], {"file.txt": "x\n"})
    mg = lambda: ["merge", "{in}/s0", "{in}/s1", "--out", "{out}/m"]
    shards = lambda c0=s0c, j0=s0j, c1=s1c, j1=s1j: {"s0/results.csv": c0, "s0/sweep.json": j0, "s1/results.csv": c1, "s1/sweep.json": j1}
    s1rows = [l for l in s1c.split("\n") if l]
    for what, files in [
        ("shards of different sweeps", shards(j1=s1j.replace(json.loads(s1j)["spec_hash"], "0" * 64))),
        ("a row with too few fields", shards(c1=s1c + "7,abc,h100\n")),
        ("a row with a point index out of range", shards(c1=s1c + s1rows[1].replace(s1rows[1].split(",")[0], "99", 1) + "\n")),
        ("a non-numeric point index", shards(c1=s1c + "x" + s1rows[1][s1rows[1].index(","):] + "\n")),
        ("duplicate rows that disagree", shards(c1=s1c + s1rows[1].replace(s1rows[1].split(",")[6], "5", 1) + "\n")),
        ("interleaved rows of two writers", shards(c1=s1c.rstrip("\n") + s1rows[1] + "\n")),
        ("a header that differs", shards(c1=s1c.replace("latency_s", "latency", 1))),
        ("a corrupt sweep.json", shards(j1=s1j[: len(s1j) // 2])),
        ("a missing sweep.json", {"s0/results.csv": s0c, "s0/sweep.json": s0j, "s1/results.csv": s1c}),
        ("binary junk for results", shards(c1=junk())),
        ("an unclosed quote", shards(c1=s1c.replace(",memory,", ",\"memory,", 1) if ",memory," in s1c else s1c.replace(",compute,", ",\"compute,", 1))),
    ]:
        add(k, "bad", "merge: " + what, mg(), files)
    add(k, "bad", "merge: --out under a regular file", ["merge", "{in}/s0", "{in}/s1", "--out", "{in}/file.txt/m"], dict(shards(), **{"file.txt": "x\n"}))
    add(k, "bad", "merge: a folder that does not exist", ["merge", "{in}/s0", "{in}/nope", "--out", "{out}/m"], shards())


# ------------------------------------------------------------------------------------------------ the command line itself

HELP = {
    "analyze": ["--set", "--model", "--json"],
    "eval": ["--arch", "--workload", "--mapping", "--einsum", "--set", "--model", "--ert", "--json", "--kernel", "--direction", "--dtype"],
    "map": ["--arch", "--workload", "--constraints", "--einsum", "--objective", "--search", "--budget", "--timeout", "--seed", "--threads", "--save", "--json", "--set", "--model", "--ert", "--compute"],
    "sweep": ["--out", "--jobs", "--shard", "--resume", "--force", "--report", "--progress", "--set", "--json"],
    "merge": ["--out", "--force", "--json"],
    "plot": ["--in", "--x", "--y", "--group", "--baseline", "--where", "--peak", "--bandwidth", "--title", "--x-scale", "--y-scale", "--width", "--height", "--out", "--json"],
    "report": ["--in", "--redraw", "--max-rows", "--json"],
    "validate": ["--measurements", "--out", "--arch-dir"],
    "import timeloop": ["--out", "--ert"],
    "reproduce spatten": ["--out", "--arch", "--workload", "--no-plots", "--settings", "--no-engines"],
    "reproduce fusemax": ["--out", "--reference", "--no-plots"],
    "completion": ["bash", "zsh"],
}


def cli():
    k = "cli"
    add(k, "good", "accelsim --help", ["--help"], contains=[v.split()[0] for v in HELP])
    for verb, opts in HELP.items():
        add(k, "good", f"{verb} --help lists its options", verb.split() + ["--help"], contains=opts + ["Example"])
    for shell in ["bash", "zsh"]:
        add(k, "good", f"completion {shell}", ["completion", shell], contains=["accelsim"])
    att = "{repo}/workloads/attention/attention-1pass.yaml"
    mp = ["map", "--arch", "{repo}/arch/timeloop-3level.yaml", "--workload", att, "--einsum", "QK", "--set", "seq_len=256", "--threads", "1"]
    add(k, "good", "map on a Timeloop arch without --ert: energy unavailable (null), never 0",
        ["map", "--arch", "{repo}/" + TL + "/05-mapper-conv1d+oc-3level/legacy-v0.2/arch/3level.arch.yaml",
         "--workload", "{repo}/" + TL + "/05-mapper-conv1d+oc-3level/legacy-v0.2/prob/conv1d+oc.prob.yaml", "--budget", "100", "--threads", "1", "--json"],
        contains=['"energy_pJ": null'])
    for what, args in [
        ("unknown verb", ["frobnicate"]), ("completion fish", ["completion", "fish"]), ("analyze without a workload", ["analyze"]),
        ("analyze with an unknown option", ["analyze", att, "--bogus"]), ("eval without --arch", ["eval", "--workload", att]),
        ("eval without --workload", ["eval", "--arch", "{repo}/arch/gpu/h100.yaml"]),
        ("eval --kernel fa9", ["eval", "--arch", "{repo}/arch/gpu/h100.yaml", "--workload", att, "--kernel", "fa9"]),
        ("eval --direction sideways", ["eval", "--arch", "{repo}/arch/gpu/h100.yaml", "--workload", att, "--kernel", "fa2", "--direction", "sideways"]),
        ("eval --dtype fp7", ["eval", "--arch", "{repo}/arch/gpu/h100.yaml", "--workload", att, "--kernel", "fa2", "--dtype", "fp7"]),
        ("eval --arch of a workload file", ["eval", "--arch", att, "--workload", att]),
        ("eval --arch missing", ["eval", "--arch", "{in}/nope.yaml", "--workload", att]),
        ("map --budget abc", mp + ["--budget", "abc"]), ("map --budget 0", mp + ["--budget", "0"]), ("map --budget -1", mp + ["--budget", "-1"]),
        ("map --budget 10^20", mp + ["--budget", "100000000000000000000"]), ("map --seed abc", mp + ["--seed", "abc"]),
        ("map --threads -1", mp[:-2] + ["--budget", "100", "--threads", "-1"]), ("map --timeout 0", mp + ["--budget", "100", "--timeout", "0"]),
        ("map --timeout nan", mp + ["--budget", "100", "--timeout", "nan"]), ("map --objective nope", mp + ["--budget", "100", "--objective", "nope"]),
        ("map --search nope", mp + ["--budget", "100", "--search", "nope"]), ("map --compute nope", mp + ["--budget", "100", "--compute", "nope"]),
        ("map --arch of a GPU", ["map", "--arch", "{repo}/arch/gpu/h100.yaml", "--workload", att, "--budget", "100"]),
        ("sweep --progress sideways", ["sweep", "{repo}/workloads/sweeps/passes-and-masks.yaml", "--out", "{out}/run", "--progress", "sideways"]),
        ("sweep without a file", ["sweep", "--out", "{out}/run"]), ("merge without --out", ["merge", "{in}"]),
        ("plot without --in", ["plot", "speedup", "--out", "{out}/p.png"]), ("validate without --measurements", ["validate"]),
        ("import without a format", ["import"]), ("import timeloop without files", ["import", "timeloop", "--out", "{out}/imp"]),
        ("reproduce nope", ["reproduce", "nope"]), ("reproduce fusemax --reference missing", ["reproduce", "fusemax", "--reference", "{in}/nope", "--out", "{out}/fm", "--no-plots"]),
        ("reproduce fusemax --out under a regular file", ["reproduce", "fusemax", "--out", "{in}/file.txt/fm", "--no-plots"]),
    ]:
        add(k, "bad", what, args, {"file.txt": "x\n"} if "file.txt" in " ".join(args) else None)
    add(k, "good", "README example: plot of the roofline-attention sweep", ["sweep", "{repo}/workloads/sweeps/passes-and-masks.yaml", "--out", "{out}/run", "--progress", "none", "--jobs", "1"])


def main():
    workloads()
    architectures()
    mappings()
    sweeps()
    spatten()
    timeloop()
    sets()
    results()
    cli()
    if os.path.isdir(os.path.join(OUT, "cases")):
        shutil.rmtree(os.path.join(OUT, "cases"))
    manifest = []
    for c in cases:
        files = c.pop("files", None) or {}
        names = []
        for name, content in sorted(files.items()):
            path = os.path.join(OUT, "cases", c["id"], name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as f:
                f.write(content if isinstance(content, bytes) else content.encode("utf-8"))
            names.append(name)
        if names:
            c["files"] = names
        manifest.append(c)
    with open(os.path.join(OUT, "corpus.json"), "w", encoding="utf-8", newline="\n") as f:
        json.dump({"format": 1, "generator": "tools/fuzz/generate.py", "seed": 16, "cases": manifest}, f, indent=1, ensure_ascii=True)
        f.write("\n")
    kinds = {}
    for c in manifest:
        kinds.setdefault(c["kind"], [0, 0])[0 if c["expect"] == "bad" else 1] += 1
    print(f"{len(manifest)} cases: " + ", ".join(f"{k} {b} bad + {g} good" for k, (b, g) in kinds.items()))


if __name__ == "__main__":
    main()
