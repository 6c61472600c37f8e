#!/usr/bin/env python3
"""Reference fixtures for lmac's GGUF reader (tests/unit/model/gguf_*_test.cpp), from llama.cpp's own Python
package `gguf` and Hugging Face transformers; never from lmac's output.

  python tools/make_gguf_fixtures.py [--smollm2 PATH/SmolLM2-135M-Instruct.Q4_1.gguf]

Writes tests/data/gguf/:
  dequant.gguf        for each supported type T: tensor "T.raw" (3 x 256 random raw blocks of type T, written
                      through GGUFWriter's raw_dtype path; the fp16 scale fields set to finite values so the output is
                      meaningful) and tensor "T.expected" (F32, gguf.quants.dequantize of the raw bytes).
  tiny-gpt2.gguf      random Llama models written by GGUFWriter, Q8_0 / Q4_K weights (Q4_K as random raw blocks):
  tiny-spm.gguf         gpt2 = byte-level BPE vocabulary, tokenizer.ggml.bos_token_id set, tied embeddings;
                        spm  = SentencePiece <0xNN> vocabulary, no BOS id (BOS falls back to EOS), untied F16 output.
  tiny-*.npy          float64 log-probs [2, 24, 256] of transformers loading that .gguf (gguf_file=...), on real
                      speech bytes (tiny-symbols.npy, two sequences of 24), restricted to the 256 byte tokens and
                      log-softmaxed.
  smollm2_*.npy       with --smollm2: the same for SmolLM2-135M-Instruct.Q4_1.gguf on one 2048-byte chunk of real
                      speech and on a text sample: *_symbols.npy (uint8 input), *_logp.npy (float64 log-prob of each
                      actual symbol), *_rows.npy (float64 full 256-wide rows at positions *_positions.npy).
And fuzz/corpus/gguf/*.gguf: small valid seeds for the fuzzer (fuzz/gguf_fuzz.cpp).
Speech bytes: b = ((s >> 8) + 128) % 256 of the 16-bit samples of a pocketsphinx-testdata LibriVox WAV.
"""
import argparse
import os
import wave

import numpy as np
import torch
import gguf
from gguf import GGMLQuantizationType as Q
from transformers import AutoModelForCausalLM

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "data", "gguf")
LIBRIVOX = "/usr/share/pocketsphinx/test/data/librivox"

# Where the fp16 scale fields sit in a block, per type (ggml-common.h).
SCALE_FIELDS = {Q.Q4_0: [0], Q.Q4_1: [0, 2], Q.Q5_0: [0], Q.Q5_1: [0, 2], Q.Q8_0: [0], Q.Q4_K: [0, 2],
                Q.Q5_K: [0, 2], Q.Q6_K: [208]}
SUPPORTED = [Q.F32, Q.F16, Q.BF16, Q.Q8_0, Q.Q4_0, Q.Q4_1, Q.Q5_0, Q.Q5_1, Q.Q4_K, Q.Q5_K, Q.Q6_K]


def speech_bytes(name, offset, n):
    with wave.open(os.path.join(LIBRIVOX, name)) as w:
        assert w.getsampwidth() == 2 and w.getnchannels() == 1
        s = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.int32)
    return (((s >> 8) + 128) % 256)[offset:offset + n].astype(np.uint8)


def random_raw(rng, qtype, rows, cols, scale_range):
    """rows x cols weights of `qtype` as random raw blocks; fp16 scale fields drawn from U(scale_range)."""
    block, size = gguf.GGML_QUANT_SIZES[qtype]
    nb = rows * cols // block
    raw = rng.integers(0, 256, size=(nb, size), dtype=np.uint8)
    for off in SCALE_FIELDS[qtype]:
        raw[:, off:off + 2] = rng.uniform(*scale_range, size=(nb, 1)).astype(np.float16).view(np.uint8)
    return raw.reshape(rows, cols // block * size)


def make_dequant(rng):
    w = gguf.GGUFWriter(os.path.join(OUT, "dequant.gguf"), "dequant-test")
    rows, cols = 3, 256
    for qtype in SUPPORTED:
        if qtype == Q.F32:
            raw = rng.standard_normal((rows, cols)).astype(np.float32)
            w.add_tensor("F32.raw", raw)
            expected = raw
        elif qtype == Q.F16:
            bits = rng.integers(0, 1 << 16, size=(rows, cols), dtype=np.uint16)
            bits[0, :4] = [0x7C00, 0xFC00, 0x0001, 0x8000]  # +inf, -inf, smallest subnormal, -0
            raw = bits.view(np.float16)
            w.add_tensor("F16.raw", raw)
            expected = raw.astype(np.float32)
        else:
            if qtype == Q.BF16:
                raw = rng.integers(0, 256, size=(rows, cols * 2), dtype=np.uint8)
            else:
                raw = random_raw(rng, qtype, rows, cols, (-2.0, 2.0))
            w.add_tensor(f"{qtype.name}.raw", raw, raw_dtype=qtype)
            expected = gguf.quants.dequantize(raw, qtype)
        assert expected.shape == (rows, cols), (qtype, expected.shape)
        w.add_tensor(f"{qtype.name}.expected", np.ascontiguousarray(expected, dtype=np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def gpt2_byte_chars():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    cs, n = bs[:], 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    table = dict(zip(bs, cs))
    return [chr(table[b]) for b in range(256)]


def make_tiny(rng, kind):
    """A random Llama in GGUF, laid out as llama.cpp's converter writes it. Q4_K rows need 256 columns, so the gpt2
    model (D = 256) has one layer and Q4_K almost everywhere; the spm model (D = 64) has two layers of Q8_0 with a
    Q4_K ffn_down (F = 256). Grouped-query attention in both."""
    if kind == "gpt2":
        D, F, L, H, KV, ctx = 256, 256, 1, 4, 2, 256
        types = {"attn_q": Q.Q4_K, "attn_k": Q.Q8_0, "attn_v": Q.Q4_K, "attn_output": Q.Q4_K, "ffn_gate": Q.Q4_K,
                 "ffn_up": Q.Q4_K, "ffn_down": Q.Q4_K}
    else:
        D, F, L, H, KV, ctx = 64, 256, 2, 4, 2, 256
        types = {"attn_q": Q.Q8_0, "attn_k": Q.Q8_0, "attn_v": Q.Q8_0, "attn_output": Q.Q8_0, "ffn_gate": Q.Q8_0,
                 "ffn_up": Q.Q8_0, "ffn_down": Q.Q4_K}
    hd = D // H
    name = f"tiny-{kind}.gguf"
    w = gguf.GGUFWriter(os.path.join(OUT, name), "llama")
    w.add_name(f"lmac tiny {kind}")
    if kind == "gpt2":
        # Byte-level BPE: specials first, the 256 byte characters in a shuffled order, then a few merges.
        chars = gpt2_byte_chars()
        order = rng.permutation(256)
        tokens = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"] + [chars[b] for b in order] + ["Ġt", "he", "Ġthe"]
        w.add_tokenizer_model("gpt2")
        w.add_token_list(tokens)
        w.add_token_merges(["Ġ t", "h e", "Ġt he"])
        w.add_bos_token_id(1)
        w.add_eos_token_id(0)
    else:
        tokens = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)] + ["▁", "e", "t", "▁t", "a"]
        w.add_tokenizer_model("llama")
        w.add_token_list(tokens)
        w.add_token_scores([0.0] * len(tokens))
        w.add_eos_token_id(2)  # no bos_token_id: lmac's BOS falls back to the end-of-text token
    V = len(tokens)
    w.add_context_length(ctx)
    w.add_embedding_length(D)
    w.add_block_count(L)
    w.add_feed_forward_length(F)
    w.add_head_count(H)
    w.add_head_count_kv(KV)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_rope_freq_base(10000.0 if kind == "spm" else 100000.0)
    w.add_rope_dimension_count(hd)
    w.add_vocab_size(V)
    w.add_file_type(gguf.LlamaFileType.MOSTLY_Q8_0)

    def q8(shape, gain):
        x = (rng.standard_normal(shape) * gain).astype(np.float32)
        return gguf.quants.quantize(x, Q.Q8_0), Q.Q8_0

    def q4k(rows, cols):
        # Weights d * sc * q - dmin * m with q in 0..15 and 6-bit sc, m: dmin = 7.5 d centres them on zero on
        # average, and d about 2e-4 gives them a spread near 1 / sqrt(256).
        raw = random_raw(rng, Q.Q4_K, rows, cols, (1e-4, 3e-4)).reshape(-1, 144)
        d = raw[:, 0:2].copy().view(np.float16).astype(np.float32)
        raw[:, 2:4] = (d * 7.5).astype(np.float16).view(np.uint8)
        return raw.reshape(rows, -1), Q.Q4_K

    # Tied (gpt2) embeddings double as the output projection: keep their logits moderate.
    w.add_tensor("token_embd.weight", q8((V, D), 0.25 if kind == "gpt2" else 1.0)[0], raw_dtype=Q.Q8_0)
    for l in range(L):
        p = f"blk.{l}."
        w.add_tensor(p + "attn_norm.weight", (1 + 0.2 * rng.standard_normal(D)).astype(np.float32))
        shapes = {"attn_q": (H * hd, D), "attn_k": (KV * hd, D), "attn_v": (KV * hd, D), "attn_output": (D, H * hd),
                  "ffn_gate": (F, D), "ffn_up": (F, D), "ffn_down": (D, F)}
        for t, shape in shapes.items():
            raw, qtype = q4k(*shape) if types[t] == Q.Q4_K else q8(shape, (2.0 if t == "attn_k" else 1.5) / np.sqrt(shape[1]))
            w.add_tensor(p + t + ".weight", raw, raw_dtype=qtype)
        w.add_tensor(p + "ffn_norm.weight", (1 + 0.2 * rng.standard_normal(D)).astype(np.float32))
    w.add_tensor("output_norm.weight", (1 + 0.2 * rng.standard_normal(D)).astype(np.float32))
    if kind == "spm":
        w.add_tensor("output.weight", (rng.standard_normal((V, D)) * 3 / np.sqrt(D)).astype(np.float16))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()

    if kind == "gpt2":
        byte_tokens, bos = [3 + int(np.where(order == b)[0][0]) for b in range(256)], 1
    else:
        byte_tokens, bos = [3 + b for b in range(256)], 2
    return name, byte_tokens, bos


def load_model(path, loader):
    """transformers loading the GGUF. loader "gguf": its legacy loader, which reads and dequantizes through llama.cpp's
    `gguf` package and undoes the Q/K row permutation itself (modeling_gguf_pytorch_utils), in float64. loader
    "native": transformers 5's own GGUF reader and torch dequantization kernels (integrations/gguf), in float32: a
    second, independent reading of the same file, reported beside the first."""
    import transformers.quantizers.quantizer_gguf as qg
    supported = qg.is_gguf_arch_supported
    if loader == "gguf":
        qg.is_gguf_arch_supported = lambda arch: False  # route llama through load_gguf_checkpoint
    try:
        model = AutoModelForCausalLM.from_pretrained(os.path.dirname(path), gguf_file=os.path.basename(path),
                                                     dtype=torch.float64 if loader == "gguf" else torch.float32)
    finally:
        qg.is_gguf_arch_supported = supported
    print(f"loader {loader}: q_proj is {type(model.model.layers[0].self_attn.q_proj).__name__} "
          f"{getattr(model.model.layers[0].self_attn.q_proj, 'weight').dtype}")
    return model.eval()


def reference(path, byte_tokens, bos, symbols, loader="gguf"):
    """Log-probs of a forward on [BOS] + x[0..T-2], restricted to the byte tokens, log-softmaxed in float64."""
    model = load_model(path, loader)
    ids = torch.tensor([[bos] + [byte_tokens[s] for s in seq[:-1]] for seq in symbols])
    with torch.no_grad():
        logits = model(ids).logits
    return torch.log_softmax(logits[:, :, torch.tensor(byte_tokens)].double(), dim=-1).numpy()


def make_smollm2(path):
    # The byte tokens of SmolLM2's byte-level BPE vocabulary, BOS = tokenizer.ggml.bos_token_id.
    r = gguf.GGUFReader(path)
    tokens = r.fields["tokenizer.ggml.tokens"].contents()
    index = {t: i for i, t in enumerate(tokens)}
    # SmolLM2's vocabulary lacks the byte-level tokens of 21 bytes (4, 6, 19, 20, 22, 29, 192, 193, 241, 242,
    # 245..255: bytes that never occur in its UTF-8 training text). Parity does not depend on the mapping, so these
    # fixtures give missing byte number i (in byte order) the token V-1-i, which no byte token uses; the mapping is
    # saved as smollm2_byte_tokens.npy and the test loads the model with it.
    chars = gpt2_byte_chars()
    missing = [b for b in range(256) if chars[b] not in index]
    substitute = {b: len(tokens) - 1 - i for i, b in enumerate(missing)}
    byte_tokens = [index.get(chars[b], substitute.get(b))
                   for b in range(256)]
    assert len(set(byte_tokens)) == 256
    print("missing byte tokens", missing)
    bos = int(r.fields["tokenizer.ggml.bos_token_id"].contents())
    speech = speech_bytes("sense_and_sensibility_01_austen_64kb-0870.wav", 4096, 2048)
    text = np.frombuffer(open(os.path.join(LIBRIVOX, "transcription"), "rb").read()[:512], dtype=np.uint8)
    for tag, x in (("speech", speech), ("text", text)):
        lp = reference(path, byte_tokens, bos, x[None, :])[0]
        native = reference(path, byte_tokens, bos, x[None, :], loader="native")[0]
        print(tag, "max |gguf - native| log-prob", np.abs(lp - native).max())
        positions = np.array([0, 1, 7, len(x) // 2, len(x) - 1], dtype=np.int64)
        np.save(os.path.join(OUT, f"smollm2_{tag}_symbols.npy"), x.astype(np.uint8))
        np.save(os.path.join(OUT, f"smollm2_{tag}_logp.npy"), lp[np.arange(len(x)), x].astype(np.float64))
        np.save(os.path.join(OUT, f"smollm2_{tag}_rows.npy"), lp[positions].astype(np.float64))
        np.save(os.path.join(OUT, f"smollm2_{tag}_positions.npy"), positions)
        print(tag, "mean bits/byte", -lp[np.arange(len(x)), x].mean() / np.log(2))
    np.save(os.path.join(OUT, "smollm2_byte_tokens.npy"), np.array(byte_tokens, dtype=np.int64))


def make_fuzz_seeds(rng):
    """Small valid files for fuzz/gguf_fuzz.cpp (fuzz/corpus/gguf/): every metadata value type, and a complete
    two-token-kind llama header with one tensor of each block family."""
    out = os.path.join(ROOT, "fuzz", "corpus", "gguf")
    os.makedirs(out, exist_ok=True)
    w = gguf.GGUFWriter(os.path.join(out, "values.gguf"), "llama")
    w.add_uint8("u8", 7)
    w.add_int8("i8", -7)
    w.add_uint16("u16", 700)
    w.add_int16("i16", -700)
    w.add_uint32("u32", 70000)
    w.add_int32("i32", -70000)
    w.add_uint64("u64", 1 << 40)
    w.add_int64("i64", -(1 << 40))
    w.add_float32("f32", 0.5)
    w.add_float64("f64", 0.25)
    w.add_bool("bool", True)
    w.add_string("string", "h\u00e9llo")
    w.add_array("ints", [1, 2, 3])
    w.add_array("strings", ["a", "bc"])
    w.add_array("nested", [[1, 2], [3]])
    w.add_custom_alignment(64)  # sets general.alignment and pads the data to it
    w.add_tensor("f16", np.arange(32, dtype=np.float16))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    for kind, tokens in (("gpt2", gpt2_byte_chars()), ("llama", [f"<0x{b:02X}>" for b in range(256)])):
        w = gguf.GGUFWriter(os.path.join(out, f"llama_{kind}.gguf"), "llama")
        w.add_context_length(64)
        w.add_embedding_length(256)
        w.add_block_count(1)
        w.add_feed_forward_length(256)
        w.add_head_count(4)
        w.add_head_count_kv(2)
        w.add_layer_norm_rms_eps(1e-5)
        w.add_rope_freq_base(10000.0)
        w.add_rope_dimension_count(64)
        w.add_rope_scaling_type(gguf.RopeScalingType.LINEAR)
        w.add_rope_scaling_factor(2.0)
        w.add_tokenizer_model(kind)
        w.add_token_list(tokens)
        w.add_bos_token_id(1)
        w.add_eos_token_id(2)
        w.add_tensor("blk.0.attn_norm.weight", np.ones(256, dtype=np.float32))
        for qtype in (Q.Q8_0, Q.Q4_K, Q.Q5_1, Q.Q6_K):
            w.add_tensor(f"{qtype.name}.weight", random_raw(rng, qtype, 1, 256, (-1.0, 1.0)), raw_dtype=qtype)
        w.write_header_to_file()
        w.write_kv_data_to_file()
        w.write_tensors_to_file()
        w.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--smollm2", help="path of SmolLM2-135M-Instruct.Q4_1.gguf (tools/fetch_smollm2.sh)")
    args = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(20240607)
    make_dequant(rng)
    symbols = np.stack([speech_bytes("sense_and_sensibility_01_austen_64kb-0870.wav", 12000, 24),
                        speech_bytes("sense_and_sensibility_01_austen_64kb-0920.wav", 20000, 24)])
    np.save(os.path.join(OUT, "tiny-symbols.npy"), symbols)
    for kind in ("gpt2", "spm"):
        name, byte_tokens, bos = make_tiny(rng, kind)
        lp = reference(os.path.join(OUT, name), byte_tokens, bos, symbols)
        np.save(os.path.join(OUT, f"tiny-{kind}.npy"), lp.astype(np.float64))
        native = reference(os.path.join(OUT, name), byte_tokens, bos, symbols, loader="native")
        print(name, "bos", bos, "lp range", lp.min(), lp.max(), "max |gguf - native|", np.abs(lp - native).max())
    make_fuzz_seeds(np.random.default_rng(7))
    if args.smollm2:
        make_smollm2(args.smollm2)


if __name__ == "__main__":
    main()
