#!/usr/bin/env python3
"""The card's bf16 GEMM rate, the denominator of the benchmark's MFU, measured in the same run as the models.

torch.matmul of random bf16 matrices (random, not zeros: zeros let the tensor cores idle on some cards and
overstate the rate) for M x N x K = 8192 x 8192 x 8192, 16384 x 4096 x 4096 (a 7B attention projection over
16384 tokens) and 16384 x 11008 x 4096 (the 7B MLP's up projection). 3 warm-ups, then 20 runs each timed with
CUDA events; the median counts. TFLOP/s = 2 M N K / seconds / 1e12. "peak_tflops" is the fastest shape's.

Usage: python3 bench/gpu/gemm_peak.py --out gemm.json [--device cpu --sizes 256x256x256]  (cpu: a dry run)
"""
import argparse
import json
import os
import statistics
import time

import torch

SIZES = [(8192, 8192, 8192), (16384, 4096, 4096), (16384, 11008, 4096)]


def time_gemm(m, n, k, dev, warmup, runs):
    g = torch.Generator(device=dev).manual_seed(0)
    a = torch.randn(m, k, device=dev, dtype=torch.bfloat16, generator=g)
    b = torch.randn(k, n, device=dev, dtype=torch.bfloat16, generator=g)
    c = torch.empty(m, n, device=dev, dtype=torch.bfloat16)
    for _ in range(warmup):
        torch.matmul(a, b, out=c)
    times = []
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)
        for _ in range(runs):
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            torch.matmul(a, b, out=c)
            end.record()
            end.synchronize()
            times.append(start.elapsed_time(end) / 1e3)
    else:
        for _ in range(runs):
            t = time.perf_counter()
            torch.matmul(a, b, out=c)
            times.append(time.perf_counter() - t)
    if not torch.isfinite(c.float()).all():
        raise SystemExit(f"{m}x{n}x{k}: non-finite result")
    sec = statistics.median(times)
    return {"m": m, "n": n, "k": k, "median_seconds": sec, "min_seconds": min(times), "runs": runs,
            "tflops": 2.0 * m * n * k / sec / 1e12}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--sizes", nargs="*", help="MxNxK, default: " + " ".join("x".join(map(str, s)) for s in SIZES))
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--runs", type=int, default=20)
    args = ap.parse_args()
    dev = torch.device(args.device)
    sizes = [tuple(int(x) for x in s.split("x")) for s in args.sizes] if args.sizes else SIZES
    results = []
    for m, n, k in sizes:
        r = time_gemm(m, n, k, dev, args.warmup, args.runs)
        results.append(r)
        print(f"gemm bf16 {m}x{n}x{k}: {r['tflops']:.1f} TFLOP/s (median of {r['runs']}, "
              f"{r['median_seconds'] * 1e3:.3f} ms)", flush=True)
    card = torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu"
    out = {"card": card, "torch": torch.__version__, "dtype": "bf16", "shapes": results,
           "peak_tflops": max(r["tflops"] for r in results),
           "tflops_8192": next((r["tflops"] for r in results if (r["m"], r["n"], r["k"]) == (8192,) * 3), None)}
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(out, f, indent=1)
    print(f"gemm peak on {card}: {out['peak_tflops']:.1f} TFLOP/s bf16", flush=True)


if __name__ == "__main__":
    main()
