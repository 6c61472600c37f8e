#!/usr/bin/env python3
"""Writes a Llama-2-7B-shaped checkpoint with random bf16 weights, for memory and speed measurements only.

Hugging Face layout: config.json (transformers 4.x field names, like meta-llama/Llama-2-7b-hf), two safetensors
shards with model.safetensors.index.json, and a byte-fallback tokenizer.json (<unk>, <s>, </s>, <0x00>..<0xFF>,
then filler pieces up to 32000). About 13.5 GB on disk.

Streaming: each tensor is produced and written on its own, so memory stays at one tensor (at most 262 MB for the
embedding) whatever the checkpoint size. Values are slices of one pool of N(0, 0.02) bf16 numbers at random
offsets: random enough to exercise the kernels, and fast to produce.

Usage: python tools/make_llama7b_checkpoint.py /work/ckpt7b
"""
import json
import os
import struct
import sys

import numpy as np

D, F, LAYERS, HEADS, VOCAB = 4096, 11008, 32, 32, 32000


def tensor_shapes():
    yield "model.embed_tokens.weight", (VOCAB, D)
    for l in range(LAYERS):
        p = f"model.layers.{l}."
        yield p + "self_attn.q_proj.weight", (D, D)
        yield p + "self_attn.k_proj.weight", (D, D)
        yield p + "self_attn.v_proj.weight", (D, D)
        yield p + "self_attn.o_proj.weight", (D, D)
        yield p + "mlp.gate_proj.weight", (F, D)
        yield p + "mlp.up_proj.weight", (F, D)
        yield p + "mlp.down_proj.weight", (D, F)
        yield p + "input_layernorm.weight", (D,)
        yield p + "post_attention_layernorm.weight", (D,)
    yield "model.norm.weight", (D,)
    yield "lm_head.weight", (VOCAB, D)


class Pool:
    """bf16 bit patterns of N(0, 0.02), served as random slices."""

    def __init__(self, rng, size=1 << 26):
        f = (rng.standard_normal(size, dtype=np.float32) * 0.02).view(np.uint32)
        self.bits = ((f + 0x8000) >> 16).astype(np.uint16)  # round to nearest bf16
        self.bits = np.concatenate([self.bits, self.bits])   # so any slice of `size` values is contiguous
        self.size = size
        self.rng = rng

    def take(self, n):
        out = np.empty(n, dtype=np.uint16)
        done = 0
        while done < n:
            k = min(self.size, n - done)
            start = int(self.rng.integers(0, self.size))
            out[done:done + k] = self.bits[start:start + k]
            done += k
        return out


def write_shard(path, tensors, pool):
    header, offset = {"__metadata__": {"format": "pt"}}, 0
    for name, shape in tensors:
        n = int(np.prod(shape)) * 2
        header[name] = {"dtype": "BF16", "shape": list(shape), "data_offsets": [offset, offset + n]}
        offset += n
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for name, shape in tensors:
            if len(shape) == 1:  # RMSNorm scales: 1
                bits = np.full(shape[0], 0x3F80, dtype=np.uint16)  # bf16 1.0
            else:
                bits = pool.take(int(np.prod(shape)))
            f.write(bits.tobytes())
    return offset


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "/work/ckpt7b"
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(7)
    pool = Pool(rng)
    tensors = list(tensor_shapes())
    # Two shards, split after layer 23 like meta-llama/Llama-2-7b-hf (9.98 GB + 3.5 GB).
    split = next(i for i, (n, _) in enumerate(tensors) if n.startswith("model.layers.24."))
    shards = {"model-00001-of-00002.safetensors": tensors[:split], "model-00002-of-00002.safetensors": tensors[split:]}
    weight_map, total = {}, 0
    for shard, ts in shards.items():
        total += write_shard(os.path.join(out, shard), ts, pool)
        weight_map.update({n: shard for n, _ in ts})
        print("wrote", shard, flush=True)
    json.dump({"metadata": {"total_size": total}, "weight_map": weight_map},
              open(os.path.join(out, "model.safetensors.index.json"), "w"), indent=2)
    config = {
        "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": D, "intermediate_size": F,
        "num_hidden_layers": LAYERS, "num_attention_heads": HEADS, "num_key_value_heads": HEADS,
        "hidden_act": "silu", "max_position_embeddings": 4096, "rms_norm_eps": 1e-5, "rope_theta": 10000.0,
        "rope_scaling": None, "tie_word_embeddings": False, "vocab_size": VOCAB, "bos_token_id": 1,
        "eos_token_id": 2, "torch_dtype": "bfloat16", "attention_bias": False, "mlp_bias": False,
    }
    json.dump(config, open(os.path.join(out, "config.json"), "w"), indent=2)
    vocab = {"<unk>": 0, "<s>": 1, "</s>": 2}
    vocab.update({"<0x%02X>" % b: 3 + b for b in range(256)})
    vocab.update({"\u2581piece%d" % i: i for i in range(len(vocab), VOCAB)})
    tokenizer = {"version": "1.0", "model": {"type": "BPE", "vocab": vocab, "merges": [], "byte_fallback": True,
                                             "unk_token": "<unk>", "fuse_unk": True},
                 "added_tokens": [{"id": i, "content": t, "special": True} for t, i in list(vocab.items())[:3]]}
    json.dump(tokenizer, open(os.path.join(out, "tokenizer.json"), "w"))
    print(f"{total / 1e9:.2f} GB of tensors in {out}")


if __name__ == "__main__":
    main()
