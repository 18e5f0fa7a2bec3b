#!/usr/bin/env python3
"""Time attention kernels on an NVIDIA GPU and write AccelSim's measurement CSV schema.

Backends: PyTorch SDPA (flash, cuDNN, memory-efficient), flash_attn (FA2) and flash_attn_interface (FA3) when
installed, and a naive unfused PyTorch reference. Inputs are random; every kernel's output is checked against an
FP32 reference before it is timed; timing uses CUDA events after warm-up, and the median of the repeats is kept.

    python3 tools/gpu-bench/bench.py --out results/gpu-bench            # full grid on the visible GPU
    python3 tools/gpu-bench/bench.py --dry-run --out /tmp/gpu-bench      # CPU, tiny shapes (CI)

Output: OUT/measurements.csv (gpu,kernel,dtype,direction,batch,heads,seq_len,head_dim,causal,tflops,approx,source,
kv_heads,kv_len,median_ms,max_abs_err) and OUT/metadata.json (GPU, clocks, driver, CUDA, library versions).
FLOPs follow the FlashAttention convention: 4*b*h*n*n_kv*d (halved for causal), backward = 2.5x forward.
"""
import argparse
import csv
import datetime
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time

COLUMNS = ["gpu", "kernel", "dtype", "direction", "batch", "heads", "seq_len", "head_dim", "causal", "tflops",
           "approx", "source", "kv_heads", "kv_len", "median_ms", "max_abs_err"]


def flops(b, h, n, nkv, d, causal, direction):
    f = 4.0 * b * h * n * nkv * d
    if causal:
        f /= 2
    return f * {"fwd": 1.0, "bwd": 2.5, "fwd+bwd": 3.5}[direction]


def grid(dry_run):
    """(batch, heads, kv_heads, seq_len, kv_len, head_dim, causal) with batch*seq = 16k tokens as in the FA papers."""
    if dry_run:
        return [(2, 2, 2, 64, 64, 32, c) for c in (False, True)] + [(1, 4, 2, 1, 128, 32, False)]
    shapes = []
    for d in (64, 128, 256):
        heads = 2048 // d
        for n in (512, 1024, 2048, 4096, 8192, 16384):
            for causal in (False, True):
                shapes.append((16384 // n, heads, heads, n, n, d, causal))
    for kv_len in (4096, 32768, 131072):            # decode: one query token, GQA 32/8
        shapes.append((8, 32, 8, 1, kv_len, 128, False))
    return shapes


def reference(q, k, v, causal):
    """FP32 attention on (b, h, n, d) tensors; K/V heads are repeated for GQA; causal is bottom-right aligned."""
    import torch
    qf, kf, vf = q.float(), k.float(), v.float()
    if kf.shape[1] != qf.shape[1]:
        rep = qf.shape[1] // kf.shape[1]
        kf, vf = kf.repeat_interleave(rep, dim=1), vf.repeat_interleave(rep, dim=1)
    s = qf @ kf.transpose(-1, -2) / math.sqrt(q.shape[-1])
    if causal:
        n, nkv = s.shape[-2], s.shape[-1]
        mask = torch.ones(n, nkv, dtype=torch.bool, device=s.device).tril(diagonal=nkv - n)
        s = s.masked_fill(~mask, float("-inf"))
    return torch.softmax(s, dim=-1) @ vf


def naive(q, k, v, causal):
    """Unfused PyTorch attention in the input dtype: S and P are materialised (the papers' 'standard attention')."""
    import torch
    if k.shape[1] != q.shape[1]:
        rep = q.shape[1] // k.shape[1]
        k, v = k.repeat_interleave(rep, dim=1), v.repeat_interleave(rep, dim=1)
    s = (q @ k.transpose(-1, -2)) * (1.0 / math.sqrt(q.shape[-1]))
    if causal:
        n, nkv = s.shape[-2], s.shape[-1]
        mask = torch.ones(n, nkv, dtype=torch.bool, device=s.device).tril(diagonal=nkv - n)
        s = s.masked_fill(~mask, float("-inf"))
    return torch.softmax(s, dim=-1) @ v


def backends(device):
    """(name, callable(q, k, v, causal) on (b, h, n, d) tensors, source description)."""
    import torch
    import torch.nn.functional as F
    out = [("standard", naive, "tools/gpu-bench naive unfused PyTorch")]

    def sdpa(kind):
        def run(q, k, v, causal):
            from torch.nn.attention import sdpa_kernel, SDPBackend
            backend = {"flash": SDPBackend.FLASH_ATTENTION, "cudnn": SDPBackend.CUDNN_ATTENTION,
                       "efficient": SDPBackend.EFFICIENT_ATTENTION, "math": SDPBackend.MATH}[kind]
            with sdpa_kernel(backend):
                return F.scaled_dot_product_attention(q, k, v, is_causal=causal and q.shape[2] == k.shape[2],
                                                      enable_gqa=k.shape[1] != q.shape[1])
        return run

    if device == "cuda":
        out += [("fa2", sdpa("flash"), "PyTorch SDPA FLASH_ATTENTION backend (FlashAttention-2)"),
                ("cudnn", sdpa("cudnn"), "PyTorch SDPA CUDNN_ATTENTION backend"),
                ("xformers", sdpa("efficient"), "PyTorch SDPA EFFICIENT_ATTENTION backend (xFormers CUTLASS kernel)")]
        try:
            from flash_attn import flash_attn_func  # FlashAttention-2 package

            def fa2(q, k, v, causal):
                return flash_attn_func(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), causal=causal).transpose(1, 2)
            out.append(("fa2", fa2, "flash_attn.flash_attn_func"))
        except ImportError:
            pass
        try:
            from flash_attn_interface import flash_attn_func as fa3_func  # FlashAttention-3 (hopper/)

            def fa3(q, k, v, causal):
                r = fa3_func(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), causal=causal)
                return (r[0] if isinstance(r, tuple) else r).transpose(1, 2)
            out.append(("fa3", fa3, "flash_attn_interface.flash_attn_func (FlashAttention-3)"))
        except ImportError:
            pass
    else:
        out.append(("sdpa-math", sdpa("math"), "PyTorch SDPA MATH backend (CPU dry run)"))
    return out


class Timer:
    def __init__(self, device):
        self.device = device

    def measure(self, fn, warmup, repeats):
        import torch
        for _ in range(warmup):
            fn()
        times = []
        for _ in range(repeats):
            if self.device == "cuda":
                start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                start.record()
                fn()
                end.record()
                torch.cuda.synchronize()
                times.append(start.elapsed_time(end))
            else:
                t0 = time.perf_counter()
                fn()
                times.append((time.perf_counter() - t0) * 1e3)
        return statistics.median(times)


def metadata(device):
    import torch
    meta = {"date_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(), "host": platform.node(),
            "python": sys.version.split()[0], "torch": torch.__version__, "device": device,
            "cuda_runtime": torch.version.cuda, "cudnn": torch.backends.cudnn.version() if device == "cuda" else None}
    for mod in ("flash_attn", "flash_attn_interface", "triton", "xformers"):
        try:
            meta[mod] = getattr(__import__(mod), "__version__", "installed")
        except ImportError:
            meta[mod] = None
    if device == "cuda":
        p = torch.cuda.get_device_properties(0)
        meta.update({"gpu": p.name, "sm_count": p.multi_processor_count, "memory_bytes": p.total_memory,
                     "compute_capability": f"{p.major}.{p.minor}"})
        try:
            q = subprocess.run(["nvidia-smi", "--query-gpu=driver_version,clocks.max.sm,clocks.sm,clocks.max.mem,power.limit",
                                "--format=csv,noheader"], capture_output=True, text=True, timeout=20).stdout.strip()
            meta["nvidia_smi"] = q
        except (OSError, subprocess.SubprocessError):
            meta["nvidia_smi"] = None
    else:
        meta["gpu"] = "CPU (dry run)"
    return meta


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True, help="output directory")
    ap.add_argument("--dry-run", action="store_true", help="CPU, tiny shapes, no CUDA events (for CI)")
    ap.add_argument("--dtypes", default="bf16,fp16")
    ap.add_argument("--directions", default="fwd,fwd+bwd")
    ap.add_argument("--kernels", default="", help="comma-separated subset of backend names")
    ap.add_argument("--warmup", type=int, default=None)
    ap.add_argument("--repeats", type=int, default=None)
    ap.add_argument("--atol", type=float, default=None, help="max |out - fp32 reference| accepted")
    args = ap.parse_args(argv)

    import torch
    device = "cpu" if args.dry_run else "cuda"
    if device == "cuda" and not torch.cuda.is_available():
        sys.exit("no CUDA device visible; use --dry-run on a CPU-only machine")
    warmup = args.warmup if args.warmup is not None else (1 if args.dry_run else 10)
    repeats = args.repeats if args.repeats is not None else (3 if args.dry_run else 30)
    dtypes = {"bf16": torch.bfloat16, "fp16": torch.float16}
    chosen = [d for d in args.dtypes.split(",") if d]
    if args.dry_run:
        chosen = ["bf16"]
    atol = args.atol if args.atol is not None else 2e-2
    os.makedirs(args.out, exist_ok=True)
    meta = metadata(device)
    gpu_name = meta["gpu"]
    timer = Timer(device)
    wanted = set(k for k in args.kernels.split(",") if k)
    torch.manual_seed(0)
    rows = []
    for name, fn, src in backends(device):
        if wanted and name not in wanted:
            continue
        for dname in chosen:
            dt = dtypes[dname]
            for (b, h, hkv, n, nkv, d, causal) in grid(args.dry_run):
                for direction in args.directions.split(","):
                    if n == 1 and direction != "fwd":
                        continue
                    q = torch.randn(b, h, n, d, device=device, dtype=dt, requires_grad=direction != "fwd")
                    k = torch.randn(b, hkv, nkv, d, device=device, dtype=dt, requires_grad=direction != "fwd")
                    v = torch.randn(b, hkv, nkv, d, device=device, dtype=dt, requires_grad=direction != "fwd")
                    try:
                        with torch.no_grad():
                            out = fn(q, k, v, causal)
                            err = (out.float() - reference(q, k, v, causal)).abs().max().item()
                    except (RuntimeError, ValueError, TypeError) as e:  # backend does not support this shape/dtype
                        print(f"skip {name} {dname} {b}x{h}x{n}x{d} causal={causal}: {str(e).splitlines()[0][:100]}")
                        continue
                    if not err <= atol:
                        print(f"WRONG {name} {dname} {b}x{h}x{n}x{d} causal={causal}: max abs err {err:.3g} > {atol}")
                        continue
                    if direction == "fwd":
                        def step():
                            with torch.no_grad():
                                fn(q, k, v, causal)
                    else:
                        grad = torch.randn(b, h, n, d, device=device, dtype=dt)

                        def step():
                            o = fn(q, k, v, causal)
                            o.backward(grad)
                    ms = timer.measure(step, warmup, repeats)
                    tf = flops(b, h, n, nkv, d, causal, direction) / (ms * 1e-3) / 1e12
                    rows.append({"gpu": gpu_name, "kernel": name, "dtype": dname, "direction": direction, "batch": b,
                                 "heads": h, "seq_len": n, "head_dim": d, "causal": str(causal).lower(),
                                 "tflops": f"{tf:.4g}", "approx": "no",
                                 "source": f"tools/gpu-bench {src}; torch {torch.__version__}; median of {repeats}",
                                 "kv_heads": hkv, "kv_len": nkv, "median_ms": f"{ms:.5g}", "max_abs_err": f"{err:.3g}"})
                    print(f"{name:10s} {dname} {direction:7s} b={b} h={h} n={n} kv={nkv} d={d} causal={causal}: {ms:.3f} ms {tf:.1f} TFLOP/s")
    with open(os.path.join(args.out, "measurements.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS)
        w.writeheader()
        w.writerows(rows)
    with open(os.path.join(args.out, "metadata.json"), "w") as f:
        json.dump(meta, f, indent=2)
    print(f"wrote {len(rows)} rows to {os.path.join(args.out, 'measurements.csv')}")
    return 0 if rows else 1


if __name__ == "__main__":
    sys.exit(main())
