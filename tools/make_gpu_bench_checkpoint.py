#!/usr/bin/env python3
"""Writes a Llama-2-7B- or Llama-3-8B-shaped checkpoint with random bf16 weights, for the GPU benchmark only.

The weights come from transformers itself: LlamaForCausalLM is built from a LlamaConfig directly on the device in
bf16 (normal init, std 0.02, seeded), then saved with save_pretrained as safetensors shards. Building on the GPU
keeps host memory at one shard's bytes while writing, never two copies of the model. A tokenizer.json that lmac
and `tokenizers` both read goes beside it:

  llama2-7b  BPE with byte_fallback: <unk>=0, <s>=1, </s>=2, <0x00>..<0xFF> at 3..258, filler pieces to 32000
  llama3-8b  byte-level BPE: the 256 GPT-2 byte characters at 0..255, filler pieces to 128000, then
             <|begin_of_text|>=128000, <|end_of_text|>=128001 and reserved special tokens up to 128256

--tiny keeps the vocabulary, the tokenizer and the rope settings but shrinks hidden size, layers and the MLP, so
that the whole path can be tried on a CPU in seconds.

Usage: python tools/make_gpu_bench_checkpoint.py llama2-7b OUTDIR [--device cuda|cpu] [--tiny] [--seed 7]
"""
import argparse
import inspect
import json
import os
import time

import torch
import transformers

SHAPES = {
    # meta-llama/Llama-2-7b-hf
    "llama2-7b": dict(hidden_size=4096, num_hidden_layers=32, num_attention_heads=32, num_key_value_heads=32,
                      intermediate_size=11008, vocab_size=32000, rope_theta=10000.0, rope_scaling=None,
                      max_position_embeddings=4096, rms_norm_eps=1e-5, bos_token_id=1, eos_token_id=2),
    # meta-llama/Llama-3.1-8B (rope_scaling as published there)
    "llama3-8b": dict(hidden_size=4096, num_hidden_layers=32, num_attention_heads=32, num_key_value_heads=8,
                      intermediate_size=14336, vocab_size=128256, rope_theta=500000.0,
                      rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                                    "high_freq_factor": 4.0, "original_max_position_embeddings": 8192},
                      max_position_embeddings=131072, rms_norm_eps=1e-5, bos_token_id=128000, eos_token_id=128001),
}
# --tiny: the same GQA ratio (4 heads of 64), far fewer weights.
TINY = dict(hidden_size=256, num_hidden_layers=2, intermediate_size=512)


def make_config(shape, tiny):
    s = dict(SHAPES[shape])
    if tiny:
        heads_per_kv = s["num_attention_heads"] // s["num_key_value_heads"]
        s.update(TINY, num_attention_heads=4, num_key_value_heads=4 // heads_per_kv)
    rope_theta, rope_scaling = s.pop("rope_theta"), s.pop("rope_scaling")
    params = inspect.signature(transformers.LlamaConfig.__init__).parameters
    if "rope_parameters" in params:  # transformers 5.x: theta lives inside rope_parameters
        rope = dict(rope_scaling or {"rope_type": "default"}, rope_theta=rope_theta)
        s["rope_parameters"] = rope
    else:  # 4.x
        s.update(rope_theta=rope_theta, rope_scaling=rope_scaling)
    return transformers.LlamaConfig(architectures=["LlamaForCausalLM"], hidden_act="silu", initializer_range=0.02,
                                    tie_word_embeddings=False, attention_bias=False, mlp_bias=False, **s)


def gpt2_bytes_to_unicode():
    """GPT-2's byte-level alphabet: printable Latin-1 bytes stand for themselves, the rest take 256, 257, ..."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    table, n = {}, 0
    for b in range(256):
        if b in printable:
            table[b] = chr(b)
        else:
            table[b] = chr(256 + n)
            n += 1
    return table


def tokenizer_json(shape, vocab_size):
    added = []
    if shape == "llama2-7b":
        vocab = {"<unk>": 0, "<s>": 1, "</s>": 2}
        vocab.update({"<0x%02X>" % b: 3 + b for b in range(256)})
        vocab.update({"\u2581piece%d" % i: i for i in range(len(vocab), vocab_size)})
        added = [{"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False,
                  "normalized": False, "special": True} for t, i in list(vocab.items())[:3]]
        model = {"type": "BPE", "dropout": None, "unk_token": "<unk>", "continuing_subword_prefix": None,
                 "end_of_word_suffix": None, "fuse_unk": True, "byte_fallback": True, "vocab": vocab, "merges": []}
        return {"version": "1.0", "truncation": None, "padding": None, "added_tokens": added,
                "normalizer": {"type": "Sequence", "normalizers": [
                    {"type": "Prepend", "prepend": "\u2581"}, {"type": "Replace", "pattern": {"String": " "},
                                                               "content": "\u2581"}]},
                "pre_tokenizer": None, "post_processor": None,
                "decoder": {"type": "Sequence", "decoders": [
                    {"type": "Replace", "pattern": {"String": "\u2581"}, "content": " "}, {"type": "ByteFallback"},
                    {"type": "Fuse"}]},
                "model": model}
    # llama3-8b: 128000 BPE pieces, then 256 special tokens as in Meta-Llama-3.
    chars = gpt2_bytes_to_unicode()
    vocab = {chars[b]: b for b in range(256)}
    vocab.update({"\u0120piece%d" % i: i for i in range(256, 128000)})
    names = ["<|begin_of_text|>", "<|end_of_text|>"]
    names += ["<|reserved_special_token_%d|>" % i for i in range(vocab_size - 128000 - 2)]
    added = [{"id": 128000 + k, "content": t, "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": False, "special": True} for k, t in enumerate(names)]
    model = {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
             "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False, "ignore_merges": True,
             "vocab": vocab, "merges": []}
    return {"version": "1.0", "truncation": None, "padding": None, "added_tokens": added, "normalizer": None,
            "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True,
                              "use_regex": True},
            "post_processor": None, "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True,
                                                "use_regex": True},
            "model": model}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("shape", choices=sorted(SHAPES))
    ap.add_argument("outdir")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--tiny", action="store_true", help="the vocabulary and tokenizer, with a tiny transformer")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--max_shard_size", default="5GB")
    args = ap.parse_args()

    t0 = time.perf_counter()
    config = make_config(args.shape, args.tiny)
    torch.manual_seed(args.seed)
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.bfloat16)
    with torch.device(args.device):
        model = transformers.LlamaForCausalLM(config)
    torch.set_default_dtype(previous)
    model = model.to(torch.bfloat16).eval()  # a no-op when the default dtype took; a guard when it did not
    if hasattr(model.config, "dtype"):
        model.config.dtype = torch.bfloat16
    else:
        model.config.torch_dtype = torch.bfloat16
    # The std-0.02 normal init is transformers' own (_init_weights with initializer_range); check it took.
    w = model.model.layers[0].mlp.up_proj.weight
    std = float(w.detach().float().std())
    if not 0.015 < std < 0.025:
        raise SystemExit(f"unexpected init: std of up_proj is {std:.4f}, not about 0.02")
    n = sum(p.numel() for p in model.parameters())
    if args.device.startswith("cuda"):
        torch.cuda.synchronize()
    print(f"built {args.shape}{' (tiny)' if args.tiny else ''}: {n / 1e9:.3f} G parameters on {args.device} "
          f"in {time.perf_counter() - t0:.1f} s", flush=True)

    t1 = time.perf_counter()
    save_kwargs = {"max_shard_size": args.max_shard_size}
    if "safe_serialization" in inspect.signature(model.save_pretrained).parameters:  # 4.x; 5.x writes only safetensors
        save_kwargs["safe_serialization"] = True
    model.save_pretrained(args.outdir, **save_kwargs)
    del model
    with open(os.path.join(args.outdir, "tokenizer.json"), "w") as f:
        json.dump(tokenizer_json(args.shape, config.vocab_size), f, ensure_ascii=False)
    size = sum(os.path.getsize(os.path.join(args.outdir, x)) for x in os.listdir(args.outdir))
    print(f"wrote {size / 1e9:.2f} GB to {args.outdir} in {time.perf_counter() - t1:.1f} s", flush=True)


if __name__ == "__main__":
    main()
