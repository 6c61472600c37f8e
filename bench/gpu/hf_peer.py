#!/usr/bin/env python3
"""The Hugging Face transformers peer of lmac's GPU benchmark: the same checkpoint, the same 2048-byte chunks.

  --mode b  the seed's pattern: batch 1, model(ids).logits, log_softmax over the full vocabulary in float32,
            copied to the host every chunk (32 to 64 chunks are enough to see its rate)
  --mode c  transformers at its best: batch 8, bf16, SDPA attention, no KV cache, the 256 byte-token columns
            picked on the device, log_softmax over them in float32, only those copied to the host

Input per chunk: [BOS] + tokens(bytes[:-1]), BOS = config.json bos_token_id, each byte mapped to its token from
the checkpoint's tokenizer.json (<0xNN> byte-fallback pieces, else GPT-2 byte-level characters), as lmac's
default --byte_mapping bytes does. The code length (-log2 p of each byte, renormalised over the 256 byte tokens,
as lmac does) is summed outside the timed part, so that it can be set beside lmac's bits_per_symbol.

Timing: 2 untimed warm-up batches, then every batch timed from the host-to-device copy of its ids to the log-probs
on the host (each .cpu() synchronises). tokens/s = chunks * 2048 / timed seconds.

Usage: python3 bench/gpu/hf_peer.py --model DIR --chunks chunks.bin --mode c --num_chunks 256 --out hf.json
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import transformers

# GPT-2's byte-level alphabet, shared with the checkpoint writer that made the tokenizer.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
from make_gpu_bench_checkpoint import gpt2_bytes_to_unicode  # noqa: E402

CHUNK = 2048


def byte_token_ids(model_dir):
    """Token id of each byte value, as lmac's --byte_mapping bytes picks them (model/byte_map.cpp)."""
    with open(os.path.join(model_dir, "tokenizer.json"), encoding="utf-8") as f:
        tok = json.load(f)
    vocab = dict(tok["model"]["vocab"])
    for t in tok.get("added_tokens", []):
        vocab[t["content"]] = t["id"]
    fallback = ["<0x%02X>" % b for b in range(256)]
    if all(p in vocab for p in fallback):
        return [vocab[p] for p in fallback], "byte-fallback <0xNN>"
    chars = gpt2_bytes_to_unicode()
    missing = [b for b in range(256) if chars[b] not in vocab]
    if missing:  # lmac gives such bytes stand-in tokens; this benchmark's checkpoints have none
        sys.exit(f"{model_dir}/tokenizer.json: no token for bytes {missing}")
    return [vocab[chars[b]] for b in range(256)], "byte-level BPE"


def read_chunks(path, n):
    data = np.fromfile(path, dtype=np.uint8)
    available = len(data) // CHUNK
    if n is None:
        n = available
    if n > available:
        sys.exit(f"{path}: {available} chunks of {CHUNK} bytes, {n} asked for")
    return torch.from_numpy(data[: n * CHUNK].reshape(n, CHUNK).astype(np.int64))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True)
    ap.add_argument("--chunks", required=True, help="N x 2048 raw symbol bytes, back to back")
    ap.add_argument("--mode", required=True, choices=["b", "c"])
    ap.add_argument("--num_chunks", type=int, help="default: 32 for mode b, all for mode c")
    ap.add_argument("--batch", type=int, default=8, help="mode c only; mode b is batch 1")
    ap.add_argument("--warmup", type=int, default=2, help="untimed batches first")
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    batch = 1 if args.mode == "b" else args.batch
    num_chunks = args.num_chunks if args.num_chunks is not None else (32 if args.mode == "b" else None)
    dev = torch.device(args.device)
    cuda = dev.type == "cuda"

    def sync():
        if cuda:
            torch.cuda.synchronize(dev)

    with open(os.path.join(args.model, "config.json")) as f:
        cfg = json.load(f)
    bos = cfg["bos_token_id"]
    byte_ids, vocab_kind = byte_token_ids(args.model)
    chunks = read_chunks(args.chunks, num_chunks)
    n = len(chunks)
    token_of = torch.tensor(byte_ids, dtype=torch.int64)
    ids_all = torch.cat([torch.full((n, 1), bos, dtype=torch.int64), token_of[chunks[:, :-1]]], dim=1)
    byte_cols = token_of.to(dev)

    # dtype= is the transformers 5.x name (4.56+ accept it too); torch_dtype= before that.
    major = int(transformers.__version__.split(".")[0])
    dtype_kw = {"dtype": torch.bfloat16} if major >= 5 else {"torch_dtype": torch.bfloat16}
    sync()
    t0 = time.perf_counter()
    model = transformers.AutoModelForCausalLM.from_pretrained(args.model, attn_implementation="sdpa", **dtype_kw)
    model = model.to(dev).eval()
    sync()
    load_s = time.perf_counter() - t0
    print(f"hf_peer: loaded {args.model} in {load_s:.1f} s ({vocab_kind}, BOS {bos})", file=sys.stderr, flush=True)

    def step(ids):
        """One batch: ids on the host in, float32 log-probs on the host out."""
        x = ids.to(dev, non_blocking=False)
        if args.mode == "b":  # the seed: full vocabulary, float32, to the host
            out = model(x).logits
            return torch.log_softmax(out.float(), -1).cpu()
        logits = model(x, use_cache=False).logits
        return torch.log_softmax(logits[..., byte_cols].float(), -1).cpu()

    def code_bits(logp, raw):
        """-log2 p of each actual byte, renormalised over the 256 byte tokens."""
        if logp.shape[-1] != 256:
            logp = torch.log_softmax(logp[..., token_of], -1)
        return -float(logp.gather(-1, raw.unsqueeze(-1)).sum()) / math.log(2)

    batches = [(s, min(s + batch, n)) for s in range(0, n, batch)]
    with torch.inference_mode():
        for s, e in batches[: args.warmup]:
            step(ids_all[s:e])
        sync()
        if cuda:
            torch.cuda.reset_peak_memory_stats(dev)
        timed, bits = 0.0, 0.0
        wall0 = time.perf_counter()
        for i, (s, e) in enumerate(batches):
            t = time.perf_counter()
            logp = step(ids_all[s:e])
            timed += time.perf_counter() - t
            bits += code_bits(logp, chunks[s:e])
            del logp
            if i % max(1, len(batches) // 8) == 0:
                print(f"hf_peer: batch {i + 1}/{len(batches)}, {(e * CHUNK) / timed:.0f} tokens/s so far",
                      file=sys.stderr, flush=True)
        sync()
        wall = time.perf_counter() - wall0

    symbols = n * CHUNK
    arch = {k: cfg.get(k) for k in ("hidden_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads",
                                    "intermediate_size", "vocab_size", "head_dim", "tie_word_embeddings")}
    if not arch["head_dim"]:
        arch["head_dim"] = arch["hidden_size"] // arch["num_attention_heads"]
    result = {
        "tool": "transformers",
        "mode": args.mode,
        "pattern": ("batch 1, full-vocabulary float32 log_softmax copied to the host" if args.mode == "b" else
                    f"batch {batch}, bf16, SDPA, 256 byte columns sliced on the device, float32 log_softmax"),
        "shape": "llama D{hidden_size} L{num_hidden_layers} H{num_attention_heads}/{num_key_value_heads} "
                 "F{intermediate_size} V{vocab_size}".format(**arch),
        "config": arch,
        "model_path": args.model,
        "card": torch.cuda.get_device_name(dev) if cuda else "cpu",
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "attn_implementation": getattr(model.config, "_attn_implementation", "sdpa"),
        "batch_size": batch,
        "chunks": n,
        "symbols": symbols,
        "seconds": timed,
        "wall_seconds": wall,
        "tokens_per_s": symbols / timed,
        "bits": bits,
        "bits_per_symbol": bits / symbols,
        "peak_device_memory_bytes": torch.cuda.max_memory_allocated(dev) if cuda else None,
        "peak_device_memory_reserved_bytes": torch.cuda.max_memory_reserved(dev) if cuda else None,
        "load_seconds": load_s,
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)
    mem = result["peak_device_memory_bytes"]
    print(f"hf_peer mode {args.mode} {result['shape']} on {result['card']}: {n} chunks, batch {batch}, "
          f"{timed:.2f} s, {result['tokens_per_s']:.0f} tokens/s, {result['bits_per_symbol']:.4f} bits/symbol, "
          f"peak {mem / 2**30 if mem else 0:.2f} GiB, load {load_s:.1f} s", flush=True)


if __name__ == "__main__":
    main()
