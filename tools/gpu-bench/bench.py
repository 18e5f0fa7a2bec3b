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


def reference(q, k, v, causal, chunk_elements=1 << 28):
    """FP32 attention on (b, h, n, d) tensors; K/V heads are repeated for GQA; causal is bottom-right aligned.

    Computed a few (batch, head) slices at a time so the FP32 score matrix stays under ~1 GiB at 16k tokens."""
    import torch
    b, h, n, d = q.shape
    nkv = k.shape[2]
    rep = h // k.shape[1]
    out = torch.empty(b, h, n, d, dtype=torch.float32, device=q.device)
    heads_per_chunk = max(1, chunk_elements // (n * nkv))
    mask = None
    if causal:
        mask = torch.ones(n, nkv, dtype=torch.bool, device=q.device).tril(diagonal=nkv - n)
    for bi in range(b):
        for h0 in range(0, h, heads_per_chunk):
            h1 = min(h, h0 + heads_per_chunk)
            qf = q[bi, h0:h1].float()
            kv_heads = torch.arange(h0, h1, device=q.device) // rep
            kf, vf = k[bi, kv_heads].float(), v[bi, kv_heads].float()
            s = qf @ kf.transpose(-1, -2) / math.sqrt(d)
            if mask is not None:
                s = s.masked_fill(~mask, float("-inf"))
            out[bi, h0:h1] = torch.softmax(s, dim=-1) @ vf
            del s
    return out


def pack_qkv(q, k, v):
    """(b, h, n, d) q, k, v -> one packed (b, n, 3, h, d) tensor, the layout the FlashAttention benchmarks feed."""
    import torch
    return torch.stack((q, k, v), dim=2).permute(0, 3, 2, 1, 4).contiguous()


def standard_attention(qkv, causal):
    """The FlashAttention benchmarks' unfused PyTorch attention ('attention_pytorch' of
    benchmarks/benchmark_flash_attention.py, restated from its description): q and k copied out of the packed
    tensor as (b*h, n, d) and (b*h, d, n), scores by baddbmm with alpha = 1/sqrt(d), the causal mask built per call
    as an FP32 triu matrix of -10000 added to the scores, softmax, and P·V by einsum. Returns (b, h, n, d)."""
    import torch
    b, n, _, h, d = qkv.shape
    q = qkv[:, :, 0].permute(0, 2, 1, 3).reshape(b * h, n, d)
    k = qkv[:, :, 1].permute(0, 2, 3, 1).reshape(b * h, d, n)
    scores = torch.empty(b * h, n, n, dtype=qkv.dtype, device=qkv.device)
    scores = torch.baddbmm(scores, q, k, beta=0, alpha=1.0 / math.sqrt(d))
    if causal:
        mask = torch.triu(torch.full((n, n), -10000.0, device=qkv.device), 1)
        scores = scores + mask.to(dtype=scores.dtype)
    attention = torch.softmax(scores.view(b, h, n, n), dim=-1)
    out = torch.einsum("bhts,bshd->bthd", attention, qkv[:, :, 2])
    return out.transpose(1, 2)


def backends(device):
    """(name, prepare(q, k, v) -> leaf tensors, run(*leaves, causal) -> (b, h, n, d) output, source, MHA only).

    prepare runs outside the timed region (the benchmarks' input layout); the leaves get gradients for fwd+bwd."""
    import torch.nn.functional as F
    separate = lambda q, k, v: (q, k, v)  # noqa: E731
    out = [("standard", lambda q, k, v: (pack_qkv(q, k, v),), standard_attention,
            "FlashAttention benchmarks' unfused PyTorch attention (packed qkv, baddbmm, softmax, einsum)", True)]

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
        out += [("fa2", separate, sdpa("flash"), "PyTorch SDPA FLASH_ATTENTION backend (FlashAttention-2)", False),
                ("cudnn", separate, sdpa("cudnn"), "PyTorch SDPA CUDNN_ATTENTION backend", False),
                ("xformers", separate, sdpa("efficient"),
                 "PyTorch SDPA EFFICIENT_ATTENTION backend (xFormers CUTLASS kernel)", False)]
        try:
            from flash_attn import flash_attn_func  # FlashAttention-2 package

            def fa2(q, k, v, causal):
                return flash_attn_func(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), causal=causal).transpose(1, 2)
            out.append(("fa2", separate, fa2, "flash_attn.flash_attn_func", False))
        except ImportError:
            pass
        try:
            from flash_attn_interface import flash_attn_func as fa3_func  # FlashAttention-3 (hopper/)

            def fa3(q, k, v, causal):
                r = fa3_func(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), causal=causal)
                return (r[0] if isinstance(r, tuple) else r).transpose(1, 2)
            out.append(("fa3", separate, fa3, "flash_attn_interface.flash_attn_func (FlashAttention-3)", False))
        except ImportError:
            pass
    else:
        out.append(("sdpa-math", separate, sdpa("math"), "PyTorch SDPA MATH backend (CPU dry run)", False))
    return out


class Timer:
    """Median time of one call. On the GPU, calls are queued back to back in batches of at least ~3 ms between two
    CUDA events (as torch.utils.benchmark, which the FlashAttention benchmarks use, times many calls in a row), so
    the host's launch overhead overlaps the previous call instead of being timed as idle GPU time."""

    def __init__(self, device, batch_ms=3.0, max_batch=64):
        self.device = device
        self.batch_ms = batch_ms
        self.max_batch = max_batch

    def measure(self, fn, warmup, repeats):
        import torch
        for _ in range(warmup):
            fn()
        if self.device != "cuda":
            times = []
            for _ in range(repeats):
                t0 = time.perf_counter()
                fn()
                times.append((time.perf_counter() - t0) * 1e3)
            return statistics.median(times)
        torch.cuda.synchronize()
        single = self._batch(fn, 1)
        calls = max(1, min(self.max_batch, math.ceil(self.batch_ms / max(single, 1e-3))))
        return statistics.median(self._batch(fn, calls) / calls for _ in range(repeats))

    @staticmethod
    def _batch(fn, calls):
        import torch
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(calls):
            fn()
        end.record()
        torch.cuda.synchronize()
        return start.elapsed_time(end)


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


def measure_one(timer, prepare, fn, q, k, v, ref, causal, direction, warmup, repeats, atol, label):
    """(median ms, max abs error) of one kernel on one shape, or None when it cannot run or is wrong."""
    import torch
    try:
        leaves = prepare(q, k, v)
        with torch.no_grad():
            err = (fn(*leaves, causal).float() - ref).abs().max().item()
    except (RuntimeError, ValueError, TypeError) as e:  # backend does not support this shape/dtype, or out of memory
        print(f"skip {label}: {str(e).splitlines()[0][:100]}", flush=True)
        return None
    if not err <= atol:
        print(f"WRONG {label}: max abs err {err:.3g} > {atol}", flush=True)
        return None
    if direction == "fwd":
        def step():
            with torch.no_grad():
                fn(*leaves, causal)
    else:
        leaves = tuple(t.detach().clone().requires_grad_(True) for t in leaves)
        grad = torch.randn_like(q)

        def step():
            for t in leaves:   # as the FlashAttention benchmarks do: no gradient accumulation kernels in the timing
                t.grad = None
            fn(*leaves, causal).backward(grad)
    try:
        return timer.measure(step, warmup, repeats), err
    except (RuntimeError, ValueError, TypeError) as e:  # e.g. out of memory in the backward pass
        print(f"skip {label}: {str(e).splitlines()[0][:100]}", flush=True)
        return None
    finally:
        del leaves
        if q.is_cuda:
            torch.cuda.empty_cache()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True, help="output directory")
    ap.add_argument("--dry-run", action="store_true", help="CPU, tiny shapes, no CUDA events (for CI)")
    ap.add_argument("--dtypes", default="bf16,fp16")
    ap.add_argument("--directions", default="fwd,fwd+bwd")
    ap.add_argument("--kernels", default="", help="comma-separated subset of backend names")
    ap.add_argument("--warmup", type=int, default=None)
    ap.add_argument("--repeats", type=int, default=None)
    ap.add_argument("--atol", type=float, default=None,
                    help="max |out - fp32 reference| accepted (default 0.02 for fp16, 0.05 for bf16: 8-bit mantissa)")
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
    atol = {"fp16": 2e-2, "bf16": 5e-2} if args.atol is None else {"fp16": args.atol, "bf16": args.atol}
    os.makedirs(args.out, exist_ok=True)
    meta = metadata(device)
    gpu_name = meta["gpu"]
    timer = Timer(device)
    wanted = set(k for k in args.kernels.split(",") if k)
    with open(os.path.join(args.out, "metadata.json"), "w") as f:   # first, so a cut-off run keeps it
        json.dump(meta, f, indent=2)
    kernels = [kern for kern in backends(device) if not wanted or kern[0] in wanted]
    rows = 0
    csv_path = os.path.join(args.out, "measurements.csv")
    # Rows are written (and flushed) as they are measured: a run cut off by a time limit keeps what it timed.
    with open(csv_path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS)
        w.writeheader()
        f.flush()
        for dname in chosen:
            dt = dtypes[dname]
            for (b, h, hkv, n, nkv, d, causal) in grid(args.dry_run):
                # One input set and one FP32 reference per shape, shared by every kernel and direction.
                torch.manual_seed(hash((b, h, hkv, n, nkv, d, causal)) & 0xFFFF)
                q = torch.randn(b, h, n, d, device=device, dtype=dt)
                k = torch.randn(b, hkv, nkv, d, device=device, dtype=dt)
                v = torch.randn(b, hkv, nkv, d, device=device, dtype=dt)
                ref = reference(q, k, v, causal)
                for name, prepare, fn, src, mha_only in kernels:
                    if mha_only and hkv != h:
                        continue
                    for direction in args.directions.split(","):
                        if n == 1 and direction != "fwd":
                            continue
                        row = measure_one(timer, prepare, fn, q, k, v, ref, causal, direction, warmup, repeats,
                                          atol[dname],
                                          f"{name} {dname} {direction} {b}x{h}x{n}x{d} kv={hkv}x{nkv} causal={causal}")
                        if row is None:
                            continue
                        ms, err = row
                        tf = flops(b, h, n, nkv, d, causal, direction) / (ms * 1e-3) / 1e12
                        w.writerow({"gpu": gpu_name, "kernel": name, "dtype": dname, "direction": direction, "batch": b,
                                    "heads": h, "seq_len": n, "head_dim": d, "causal": str(causal).lower(),
                                    "tflops": f"{tf:.4g}", "approx": "no",
                                    "source": f"tools/gpu-bench {src}; torch {torch.__version__}; median of {repeats} batches of back-to-back calls",
                                    "kv_heads": hkv, "kv_len": nkv, "median_ms": f"{ms:.5g}", "max_abs_err": f"{err:.3g}"})
                        f.flush()
                        rows += 1
                        print(f"{name:10s} {dname} {direction:7s} b={b} h={h} n={n} kv={nkv} d={d} causal={causal}: "
                              f"{ms:.3f} ms {tf:.1f} TFLOP/s", flush=True)
                del q, k, v, ref
                if device == "cuda":
                    torch.cuda.empty_cache()
    print(f"wrote {rows} rows to {csv_path}")
    return 0 if rows else 1


if __name__ == "__main__":
    sys.exit(main())
