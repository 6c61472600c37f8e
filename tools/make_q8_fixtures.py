#!/usr/bin/env python3
"""Reference fixtures for `--weights q8_0` (tests/data/q8/), all from llama.cpp's own Python package `gguf`.

  quantize_input.npy     float32 [16, 256]: random normals, each 32-weight block at its own scale between 2^-32 and
                         2^24 (so the fp16 scale d covers zero, subnormals, normals and overflow to infinity), plus
                         hand-made blocks: all zeros, signed zeros, exact halves (ties of roundf), a lone maximum.
  quantize_expected.npy  uint8 [16, 8 * 34]: gguf.quants.quantize(input, Q8_0), the raw blocks (fp16 d, 32 x int8).
  tiny-llama2.q8_0.bytes.npy
                         float32 [2, 128, 256]: log-probs over the byte tokens of tests/data/llama/tiny-llama2 as
                         Hugging Face transformers computes them in float64 after every linear layer (q, k, v, o,
                         gate, up, down) was replaced by gguf.quants.dequantize(gguf.quants.quantize(W, Q8_0)); the
                         embedding and lm_head stay as stored, as lmac keeps them. Same speech sequences as
                         tests/data/llama (tools/make_llama_fixtures.py).
  expected.json          versions, and how far the q8_0 reference lies from the stored-weights reference.

Run with the reference venv:  /work/venv-ref/bin/python tools/make_q8_fixtures.py tests/data/q8
"""
import importlib.metadata
import json
import os
import sys

import numpy as np
import torch
import transformers
from gguf import GGMLQuantizationType
from gguf.quants import dequantize, quantize
from transformers import LlamaForCausalLM

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_llama_fixtures import sequences  # noqa: E402  (the same real speech bytes as tests/data/llama)

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
LLAMA = os.path.join(ROOT, "tests", "data", "llama")
Q8 = GGMLQuantizationType.Q8_0
LINEAR = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


def quantizer_input():
    rng = np.random.default_rng(8)
    rows, cols = 16, 256
    x = rng.standard_normal((rows, cols)).astype(np.float32)
    blocks = x.reshape(-1, 32)
    scales = np.exp2(rng.uniform(-32, 24, size=(blocks.shape[0], 1))).astype(np.float32)
    blocks *= scales
    blocks[0] = 0.0                                   # d = 0: id = 0, every q = 0
    blocks[1] = np.where(np.arange(32) % 2 == 0, -0.0, 0.0)
    # amax 127 -> d = 1, id = 1: x * id is exactly k + 0.5, where roundf goes away from zero (rint would not).
    blocks[2] = np.array([127.0] + [(k % 20) - 9.5 for k in range(31)], dtype=np.float32)
    blocks[3] = 0.0
    blocks[3, 17] = -3.0e-3                           # a lone negative maximum
    blocks[4] *= 1e-30 / np.abs(blocks[4]).max()      # d far below fp16's smallest subnormal
    blocks[5] *= 7.0e-6 / np.abs(blocks[5]).max()     # d a fp16 subnormal
    blocks[6] *= 8.4e6 / np.abs(blocks[6]).max()      # d = 66142 > 65504: infinity in fp16
    return x


def quantized_log_probs(bos, token_of_symbol, symbols):
    model = LlamaForCausalLM.from_pretrained(os.path.join(LLAMA, "tiny-llama2"), dtype=torch.float64)
    model.eval()
    count = 0
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() == 2 and any(name.endswith(k + ".weight") for k in LINEAR):
                w = p.detach().numpy().astype(np.float32)  # fp16 -> float64 -> float32 is exact
                p.copy_(torch.from_numpy(dequantize(quantize(w, Q8), Q8).astype(np.float64)))
                count += 1
    assert count == 7 * model.config.num_hidden_layers, count
    ids = np.array([[bos] + [token_of_symbol[s] for s in seq[:-1]] for seq in symbols])
    with torch.no_grad():
        logits = model(torch.tensor(ids)).logits
    return torch.log_softmax(logits[:, :, torch.tensor(token_of_symbol)], dim=-1).numpy()


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "tests", "data", "q8")
    os.makedirs(out, exist_ok=True)
    x = quantizer_input()
    q = quantize(x, Q8)
    assert q.dtype == np.uint8 and q.shape == (16, 8 * 34), q.shape
    np.save(os.path.join(out, "quantize_input.npy"), x)
    np.save(os.path.join(out, "quantize_expected.npy"), q)

    meta = json.load(open(os.path.join(LLAMA, "expected.json")))["tiny-llama2"]
    lp = quantized_log_probs(meta["bos"], meta["bytes"], sequences())
    np.save(os.path.join(out, "tiny-llama2.q8_0.bytes.npy"), lp.astype(np.float32))
    stored = np.load(os.path.join(LLAMA, "tiny-llama2.bytes.npy")).astype(np.float64)
    diff = np.abs(lp - stored)
    # The code-length change in bits per symbol of the actual sequences, per the float64 references.
    seqs = sequences()
    idx = (np.arange(2)[:, None], np.arange(128)[None, :], seqs)
    bits_q8 = -lp[idx].sum() / np.log(2) / seqs.size
    bits_stored = -stored[idx].sum() / np.log(2) / seqs.size
    json.dump({
        "generator": "tools/make_q8_fixtures.py",
        "gguf": importlib.metadata.version("gguf"),
        "numpy": np.__version__, "transformers": transformers.__version__, "torch": torch.__version__,
        "q8_vs_stored_max_abs_log_prob": float(diff.max()),
        "q8_vs_stored_mean_abs_log_prob": float(diff.mean()),
        "bits_per_symbol_stored": float(bits_stored),
        "bits_per_symbol_q8_0": float(bits_q8),
    }, open(os.path.join(out, "expected.json"), "w"), indent=1)
    print(f"q8_0 vs stored: max |dlogp| {diff.max():.4g}, mean {diff.mean():.4g}; "
          f"bits/symbol {bits_stored:.5f} -> {bits_q8:.5f}")


if __name__ == "__main__":
    main()
