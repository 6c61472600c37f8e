#!/usr/bin/env python3
"""The table of lmac's GPU benchmark against transformers, from the JSON files bench/gpu/run_bench.sh writes.

Reads from each DIR given (a later DIR's file replaces an earlier one's of the same name): gemm.json,
lmac_{7b,7b_b1,8b,framework}.json (lmac eval --output_file), hf_{7b_b,7b_c,8b_c}.json (hf_peer.py),
config_{7b,8b,framework}.json (the models' shapes) and steps.tsv (each step's exit status). Prints a markdown
table in the layout of bench/results/gpu_vs_transformers.md and writes it with --md; --json writes every input in
one file.

  (a) lmac eval end to end (model plus arithmetic coding; loading timed apart)
  (b) transformers, the seed's pattern: batch 1, full-vocabulary float32 log_softmax copied to the host
  (c) transformers at its best: batch 8, bf16, SDPA, 256 byte columns sliced on the device

FLOP per token, from the config: 2 x (weights in matmuls, embedding excluded; the output layer counted for 256
rows for lmac, which computes only the byte tokens, and for the full vocabulary for transformers) + attention
2 x 2 x layers x (heads x head_dim) x T/2, T = 2048 (the causal average context).
MFU = tokens/s x FLOP/token / the card's fastest bf16 GEMM rate measured in the same run (gemm_peak.py).

Usage: python3 bench/gpu/summarize.py .cache/gpu/results [MORE_DIRS...] [--md table.md] [--json all.json]
"""
import argparse
import glob
import json
import os
import sys

T = 2048


def load_dirs(dirs):
    docs, steps = {}, {}
    for d in dirs:
        for path in sorted(glob.glob(os.path.join(d, "*.json"))):
            name = os.path.basename(path)[:-5]
            if name == "results":  # our own output
                continue
            try:
                with open(path) as f:
                    docs[name] = json.load(f)
            except (OSError, ValueError) as e:
                print(f"summarize: {path}: {e}", file=sys.stderr)
        tsv = os.path.join(d, "steps.tsv")
        if os.path.exists(tsv):
            for line in open(tsv):
                parts = line.rstrip("\n").split("\t")
                if len(parts) >= 2:
                    steps[parts[0]] = parts[1]  # the last attempt of a step wins
    return docs, steps


def lmac_record(doc):
    """The model's record in an lmac eval JSON (the one that is not a baseline compressor)."""
    for r in doc.get("results", []):
        if r.get("compressor_type") == "language_model":
            return r
    return None


def llama_shape(cfg):
    heads = cfg["num_attention_heads"]
    return {"D": cfg["hidden_size"], "L": cfg["num_hidden_layers"], "H": heads,
            "KV": cfg.get("num_key_value_heads") or heads, "F": cfg["intermediate_size"], "V": cfg["vocab_size"],
            "hd": cfg.get("head_dim") or cfg["hidden_size"] // heads}


def flop_per_token(cfg, output_rows):
    """Forward FLOP per token of a Llama config (see the module docstring); output_rows: 256 or the vocabulary."""
    s = llama_shape(cfg)
    q, kv = s["H"] * s["hd"], s["KV"] * s["hd"]
    per_layer = s["D"] * q + 2 * s["D"] * kv + q * s["D"] + 3 * s["D"] * s["F"]
    matmul = s["L"] * per_layer + output_rows * s["D"]
    return 2 * matmul + 2 * 2 * s["L"] * q * T // 2


def framework_flop_per_token(arch):
    """The framework transformer (SPEC-LMIC section 4): attention 4 D^2, FFN 2 w D^2, output D x 256 per token."""
    d, layers, w = arch["embedding_dim"], arch["num_layers"], arch.get("widening_factor", 4)
    matmul = layers * (4 * d * d + 2 * w * d * d) + d * arch.get("vocab", 256)
    return 2 * matmul + 2 * 2 * layers * d * T // 2


def gib(x):
    return f"{x / 2**30:.1f} GiB" if x else "-"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dirs", nargs="+")
    ap.add_argument("--md", help="write the markdown there")
    ap.add_argument("--json", help="write every input JSON there, in one object keyed by file name")
    args = ap.parse_args()
    docs, steps = load_dirs(args.dirs)

    gemm = docs.get("gemm")
    peak = gemm["peak_tflops"] * 1e12 if gemm else None
    cards = {d.get("card") for d in docs.values() if isinstance(d, dict) and d.get("card")}

    rows = []  # (key, label, tokens/s, flop/token, peak memory, load s, bits/symbol, batch, chunks)

    def add_lmac(key, label, cfg_key, framework=False):
        doc = docs.get(key)
        r = lmac_record(doc) if doc else None
        if not r:
            rows.append((key, label, None))
            return
        cfg = docs.get(cfg_key)
        flop = None
        if cfg:
            flop = framework_flop_per_token(cfg) if framework else flop_per_token(cfg, 256)
        rows.append((key, label, dict(
            tps=r.get("symbols_per_second"), sec=r.get("compression_time"), flop=flop, mem=r.get("peak_device_memory_bytes"),
            load=r.get("load_time"), bits=r.get("bits_per_symbol"), batch=r.get("batch_size"),
            chunks=r.get("num_chunks"), device=r.get("device"), dtype=r.get("dtype"))))

    def add_hf(key, label, cfg_key):
        h = docs.get(key)
        if not h:
            rows.append((key, label, None))
            return
        cfg = h.get("config") or docs.get(cfg_key)
        rows.append((key, label, dict(
            tps=h["tokens_per_s"], sec=h.get("seconds"), flop=flop_per_token(cfg, cfg["vocab_size"]) if cfg else None,
            mem=h.get("peak_device_memory_bytes"), load=h.get("load_seconds"), bits=h.get("bits_per_symbol"),
            batch=h.get("batch_size"), chunks=h.get("chunks"),
            device="cpu" if h.get("card") == "cpu" else "cuda", dtype="bf16")))

    add_lmac("lmac_7b", "(a) lmac eval, Llama-2-7B shape", "config_7b")
    add_hf("hf_7b_b", "(b) transformers, seed pattern, 7B", "config_7b")
    add_hf("hf_7b_c", "(c) transformers at its best, 7B", "config_7b")
    add_lmac("lmac_7b_b1", "lmac eval batch 1, 7B (memory)", "config_7b")
    add_lmac("lmac_8b", "(a) lmac eval, Llama-3-8B shape", "config_8b")
    add_hf("hf_8b_c", "(c) transformers at its best, 8B", "config_8b")
    add_lmac("lmac_framework", "lmac eval, framework model (speech 8-bit)", "config_framework", framework=True)

    out = ["# lmac on the GPU against Hugging Face transformers", ""]
    out.append(f"Card: {', '.join(sorted(cards)) if cards else 'unknown'}. "
               f"bf16 GEMM peak (gemm_peak.py, fastest shape): "
               + (f"**{gemm['peak_tflops']:.0f} TFLOP/s**" if gemm else "not measured") + ".")
    if gemm:
        out.append("GEMM shapes: " + "; ".join(f"{s['m']}x{s['n']}x{s['k']} {s['tflops']:.0f} TFLOP/s"
                                            for s in gemm["shapes"]) + ".")
    out += ["", "| measurement | device, dtype | chunks | batch | timed s | tokens/s | GFLOP/token | MFU "
            "| peak device memory | load s | bits/symbol |", "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    by_key = {}
    for key, label, m in rows:
        if m is None:
            status = steps.get(key)
            why = {None: "not run", "skipped": "skipped (time budget)", "0": "no result"}.get(
                status, f"failed (exit {status})")
            out.append(f"| {label} | {why} | | | | | | | | | |")
            continue
        by_key[key] = m
        mfu = m["tps"] * m["flop"] / peak if (peak and m["flop"] and m["tps"]) else None
        out.append("| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |".format(
            label, f"{m['device'] or '?'}, {m['dtype'] or '?'}", m["chunks"] if m["chunks"] is not None else "-",
            m["batch"] if m["batch"] is not None else "-", f"{m['sec']:.2f}" if m["sec"] else "-",
            f"{m['tps']:,.0f}" if m["tps"] else "-", f"{m['flop'] / 1e9:.3g}" if m["flop"] else "-",
            f"{100 * mfu:.1f}%" if mfu is not None else "-", gib(m["mem"]),
            f"{m['load']:.1f}" if m["load"] is not None else "-",
            f"{m['bits']:.4f}" if m["bits"] is not None else "-"))

    def ratio(a, b):
        if a in by_key and b in by_key and by_key[a]["tps"] and by_key[b]["tps"]:
            return f"{by_key[a]['tps'] / by_key[b]['tps']:.3f}x"
        return "n/a"

    out += ["", "| ratio | value |", "|---|---:|",
            f"| a/b, 7B (lmac / transformers seed pattern) | {ratio('lmac_7b', 'hf_7b_b')} |",
            f"| a/c, 7B (lmac / transformers at its best) | {ratio('lmac_7b', 'hf_7b_c')} |",
            f"| a/c, 8B (lmac / transformers at its best) | {ratio('lmac_8b', 'hf_8b_c')} |", ""]
    out.append("tokens/s: symbols (bytes) per second over the timed chunks; lmac's is symbols_per_second of its eval "
               "record (model plus arithmetic coding), transformers' the forward passes plus log-probs on the host. "
               "FLOP/token counts the output layer for 256 rows for lmac and the full vocabulary for transformers. "
               "bits/symbol: lmac's coded size; transformers' ideal code length under the same renormalisation over "
               "the 256 byte tokens (random weights: about 8).")
    text = "\n".join(out) + "\n"
    print(text)
    if args.md:
        with open(args.md, "w") as f:
            f.write(text)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"steps": steps, **docs}, f, indent=1)


if __name__ == "__main__":
    main()
