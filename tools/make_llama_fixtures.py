#!/usr/bin/env python3
"""Reference fixtures for lmac's Llama loader and forward pass (tests/data/llama/).

Writes two tiny Llama checkpoints in Hugging Face layout and, for each, the log-probabilities that Hugging Face
transformers computes in float64 from the very same stored weights, restricted to the byte tokens and
log-softmaxed over them (DESIGN.md section 2):

  tiny-llama2/  Llama-2 layout: SentencePiece BPE vocabulary with byte fallback (<0xNN>), both as tokenizer.model
                (trained with sentencepiece) and as tokenizer.json (the same vocabulary through transformers'
                LlamaTokenizer); multi-head attention; untied output; fp16 weights in one model.safetensors;
                config.json in the older generation (rope_theta, rope_scaling {"type": "linear"}, torch_dtype).
  tiny-llama3/  Llama-3 layout: byte-level BPE tokenizer.json (GPT-2 byte table, trained with `tokenizers`),
                grouped-query attention, head_dim != hidden/heads, llama3 rope scaling, tied embeddings, bf16
                weights sharded in two files with model.safetensors.index.json, and the config.json that
                transformers 5.x writes (rope_parameters, dtype).

Inputs are real speech: b = ((s >> 8) + 128) % 256 of 16-bit samples of pocketsphinx's LibriVox test files.
Run with the reference venv:  /work/venv-ref/bin/python tools/make_llama_fixtures.py tests/data/llama
"""
import io
import json
import math
import os
import shutil
import sys
import wave

import numpy as np
import sentencepiece as spm
import torch
import transformers
from tokenizers import AddedToken, ByteLevelBPETokenizer, Tokenizer, decoders, models, pre_tokenizers
from transformers import LlamaConfig, LlamaForCausalLM

LIBRIVOX = "/usr/share/pocketsphinx/test/data/librivox"
T = 128          # symbols per sequence
TOP_K = 16       # the --top_k fixture
TOP_K_FLOOR = 2.0 ** -23


def speech_bytes(name, offset, n):
    with wave.open(os.path.join(LIBRIVOX, name)) as w:
        assert w.getsampwidth() == 2 and w.getnchannels() == 1
        s = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.int32)
    return (((s >> 8) + 128) % 256)[offset:offset + n].astype(np.uint8)


def sequences():
    return np.stack([speech_bytes("sense_and_sensibility_01_austen_64kb-0870.wav", 12000, T),
                     speech_bytes("sense_and_sensibility_01_austen_64kb-0920.wav", 20000, T)])


def training_text():
    lines = open(os.path.join(LIBRIVOX, "transcription")).read().lower().split("\n")
    lic = open("/usr/share/common-licenses/Apache-2.0").read()
    return [l for l in lines + lic.split("\n") if l.strip()]


def init_weights(model, seed, head_gain):
    """Random weights, scaled so the byte distributions are peaked (a sensitive comparison)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("norm.weight"):
                p.copy_(1.0 + 0.2 * torch.randn(p.shape, generator=g))
            elif "embed_tokens" in name:
                p.copy_(torch.randn(p.shape, generator=g))
            elif name == "lm_head.weight":
                p.copy_(torch.randn(p.shape, generator=g) * head_gain / math.sqrt(p.shape[1]))
            else:
                p.copy_(torch.randn(p.shape, generator=g) * 1.5 / math.sqrt(p.shape[1]))


def reference_log_probs(model_dir, token_of_symbol, bos, symbols):
    """float64 transformers forward on [BOS] + tokens(x[0..T-2]); byte-token columns, log-softmaxed."""
    model = LlamaForCausalLM.from_pretrained(model_dir, dtype=torch.float64)
    model.eval()
    ids = np.array([[bos] + [token_of_symbol[s] for s in seq[:-1]] for seq in symbols])
    with torch.no_grad():
        logits = model(torch.tensor(ids)).logits  # [B, T, V] float64
    restricted = logits[:, :, torch.tensor(token_of_symbol)]
    return torch.log_softmax(restricted, dim=-1).numpy(), model


def top_k_rows(lp, k):
    """--top_k as lmac documents it: keep the k most likely, renormalise, floor 2^-23 for the rest."""
    out = np.empty_like(lp)
    a = lp.shape[-1]
    for idx in np.ndindex(lp.shape[:-1]):
        row = lp[idx]
        order = sorted(range(a), key=lambda s: (-row[s], s))[:k]
        kept = row[order]
        lse = kept.max() + np.log(np.exp(kept - kept.max()).sum())
        new = np.full(a, np.log(TOP_K_FLOOR))
        new[order] = kept - lse + np.log1p(-(a - k) * TOP_K_FLOOR)
        out[idx] = new
    return out


def save_npy(path, array):
    np.save(path, array.astype(np.float32))


def make_llama2(out):
    d = os.path.join(out, "tiny-llama2")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    # SentencePiece BPE with byte fallback, as Llama 2's tokenizer.model.
    model_bytes = io.BytesIO()
    spm.SentencePieceTrainer.train(sentence_iterator=iter(training_text()), model_writer=model_bytes,
                                   model_type="bpe", vocab_size=340, byte_fallback=True, character_coverage=1.0,
                                   unk_id=0, bos_id=1, eos_id=2, pad_id=-1, add_dummy_prefix=True,
                                   normalization_rule_name="identity",
                                   num_threads=1, minloglevel=2)
    with open(os.path.join(d, "tokenizer.model"), "wb") as f:
        f.write(model_bytes.getvalue())
    sp = spm.SentencePieceProcessor(model_file=os.path.join(d, "tokenizer.model"))
    # The same vocabulary as tokenizer.json, built with `tokenizers` the way transformers converts a SentencePiece
    # BPE model (its converter needs protobuf, which the reference venv lacks): ids as in the model, merges of
    # every piece that splits into two pieces, Metaspace pre-tokenization, byte fallback.
    pieces = [sp.id_to_piece(i) for i in range(sp.get_piece_size())]
    vocab = {p: i for i, p in enumerate(pieces)}
    merges = sorted(((p[:k], p[k:]) for p in pieces if not sp.is_control(vocab[p]) and not sp.is_byte(vocab[p])
                     for k in range(1, len(p)) if p[:k] in vocab and p[k:] in vocab),
                    key=lambda m: (vocab[m[0] + m[1]], vocab[m[0]]))
    fast = Tokenizer(models.BPE(vocab=vocab, merges=merges, unk_token="<unk>", fuse_unk=True, byte_fallback=True))
    fast.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="first", split=False)
    fast.decoder = decoders.Sequence([decoders.Replace("\u2581", " "), decoders.ByteFallback(), decoders.Fuse(),
                                      decoders.Strip(" ", 1, 0)])
    fast.add_special_tokens([AddedToken("<unk>", special=True), AddedToken("<s>", special=True),
                             AddedToken("</s>", special=True)])
    fast.save(os.path.join(d, "tokenizer.json"))
    tj = json.load(open(os.path.join(d, "tokenizer.json")))
    vocab_json = tj["model"]["vocab"]
    V = sp.get_piece_size()
    for i in range(V):  # both files agree on every id
        assert vocab_json[sp.id_to_piece(i)] == i, (i, sp.id_to_piece(i))

    def sp_id(piece):
        i = sp.piece_to_id(piece)
        return None if i == sp.unk_id() and piece != "<unk>" else i

    byte_tokens = [sp_id("<0x%02X>" % b) for b in range(256)]

    def piece_token(b):
        if b < 128:
            i = sp_id("\u2581" if b == 32 else chr(b))
            if i is not None:
                return i
        return byte_tokens[b]

    piece_tokens = [piece_token(b) for b in range(256)]
    ascii_tokens = piece_tokens[:128]

    config = LlamaConfig(hidden_size=64, intermediate_size=160, num_hidden_layers=2, num_attention_heads=4,
                         num_key_value_heads=4, vocab_size=V, max_position_embeddings=512, rms_norm_eps=1e-5,
                         rope_parameters={"rope_type": "linear", "rope_theta": 10000.0, "factor": 2.0},
                         tie_word_embeddings=False, bos_token_id=1, eos_token_id=2)
    model = LlamaForCausalLM(config)
    init_weights(model, seed=2, head_gain=6.0)
    model = model.to(torch.float16)
    model.save_pretrained(d)
    # Rewrite config.json in the older generation of field names (transformers 4.x style).
    c = json.load(open(os.path.join(d, "config.json")))
    rope = c.pop("rope_parameters")
    c["rope_theta"] = rope["rope_theta"]
    c["rope_scaling"] = {"type": "linear", "factor": rope["factor"]}
    c["torch_dtype"] = c.pop("dtype")
    c["transformers_version"] = "4.40.0"
    json.dump(c, open(os.path.join(d, "config.json"), "w"), indent=2, sort_keys=True)

    x = sequences()
    lp_bytes, ref = reference_log_probs(d, byte_tokens, 1, x)
    # transformers read the old-style config as intended: linear scaling with factor 2 and theta 10000.
    rp = ref.config.rope_parameters
    assert rp["rope_type"] == "linear" and rp["factor"] == 2.0 and rp["rope_theta"] == 10000.0, rp
    assert ref.model.layers[0].self_attn.q_proj.weight.dtype == torch.float64
    lp_piece, _ = reference_log_probs(d, piece_tokens, 1, x)
    lp_ascii, _ = reference_log_probs(d, ascii_tokens, 1, x >> 1)
    save_npy(os.path.join(out, "tiny-llama2.bytes.npy"), lp_bytes)
    save_npy(os.path.join(out, "tiny-llama2.piece.npy"), lp_piece)
    save_npy(os.path.join(out, "tiny-llama2.ascii.npy"), lp_ascii)
    return {"bos": 1, "bytes": byte_tokens, "piece": piece_tokens, "ascii": ascii_tokens}, lp_bytes


def make_llama3(out):
    d = os.path.join(out, "tiny-llama3")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    tok = ByteLevelBPETokenizer()
    tok.train_from_iterator(training_text(), vocab_size=400, min_frequency=2, show_progress=False,
                            special_tokens=[])  # the byte-level alphabet is always included
    tok.add_special_tokens(["<|begin_of_text|>", "<|end_of_text|>"])
    tok.save(os.path.join(d, "tokenizer.json"))
    # GPT-2's byte -> unicode table, written out here independently of lmac.
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("\u00a1"), ord("\u00ac") + 1)) + \
        list(range(ord("\u00ae"), ord("\u00ff") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    byte_to_char = dict(zip(bs, map(chr, cs)))
    byte_tokens = [tok.token_to_id(byte_to_char[b]) for b in range(256)]
    assert None not in byte_tokens
    bos = tok.token_to_id("<|begin_of_text|>")
    eos = tok.token_to_id("<|end_of_text|>")
    V = tok.get_vocab_size() + 14  # padded like real checkpoints: ids above the tokenizer exist but are unused

    config = LlamaConfig(hidden_size=48, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                         num_key_value_heads=2, head_dim=16, vocab_size=V, max_position_embeddings=1024,
                         rms_norm_eps=1e-5,
                         rope_parameters={"rope_type": "llama3", "rope_theta": 500000.0, "factor": 8.0,
                                          "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                                          "original_max_position_embeddings": 64},
                         tie_word_embeddings=True, bos_token_id=bos, eos_token_id=eos)
    model = LlamaForCausalLM(config)
    init_weights(model, seed=3, head_gain=6.0)
    with torch.no_grad():  # tied: the embedding is the output projection, so give it the head's scale
        model.model.embed_tokens.weight.mul_(6.0 / math.sqrt(48) * 1.5)
    model = model.to(torch.bfloat16)
    model.save_pretrained(d, max_shard_size="100KB")
    assert os.path.exists(os.path.join(d, "model.safetensors.index.json"))
    shards = sorted(f for f in os.listdir(d) if f.endswith(".safetensors"))
    assert len(shards) == 2, shards
    c = json.load(open(os.path.join(d, "config.json")))
    assert "rope_parameters" in c and "dtype" in c and "rope_theta" not in c, c

    x = sequences()
    lp_bytes, ref = reference_log_probs(d, byte_tokens, bos, x)
    assert "lm_head.weight" not in json.load(open(os.path.join(d, "model.safetensors.index.json")))["weight_map"]
    lp_ascii, _ = reference_log_probs(d, byte_tokens[:128], bos, x >> 1)
    save_npy(os.path.join(out, "tiny-llama3.bytes.npy"), lp_bytes)
    save_npy(os.path.join(out, "tiny-llama3.ascii.npy"), lp_ascii)
    save_npy(os.path.join(out, "tiny-llama3.top16.npy"), top_k_rows(lp_bytes, TOP_K))
    return {"bos": bos, "eos": eos, "bytes": byte_tokens, "ascii": byte_tokens[:128], "shards": shards}, lp_bytes


def rope_reference():
    """inv_freq of each rope type, from transformers' own functions."""
    from transformers.modeling_rope_utils import ROPE_INIT_FUNCTIONS
    from transformers.models.llama.modeling_llama import LlamaRotaryEmbedding
    cases = {
        "default": {"rope_type": "default", "rope_theta": 10000.0},
        "linear": {"rope_type": "linear", "rope_theta": 10000.0, "factor": 4.0},
        "llama3": {"rope_type": "llama3", "rope_theta": 500000.0, "factor": 8.0, "low_freq_factor": 1.0,
                   "high_freq_factor": 4.0, "original_max_position_embeddings": 8192},
    }
    out = {}
    for name, rp in cases.items():
        cfg = LlamaConfig(hidden_size=4096, num_attention_heads=32, max_position_embeddings=131072,
                          rope_parameters=rp)
        if name == "default":
            inv, _ = LlamaRotaryEmbedding.compute_default_rope_parameters(cfg)
        else:
            inv, _ = ROPE_INIT_FUNCTIONS[name](cfg, None)
        out[name] = {"rope_parameters": rp, "head_dim": 128, "inv_freq": [float(v) for v in inv.float()]}
    return out


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "tests/data/llama"
    os.makedirs(out, exist_ok=True)
    x = sequences()
    np.save(os.path.join(out, "speech_bytes.npy"), x)
    a, lp_a = make_llama2(out)
    b, lp_b = make_llama3(out)
    meta = {
        "generator": "tools/make_llama_fixtures.py",
        "transformers": transformers.__version__, "torch": torch.__version__,
        "sequences": {"shape": list(x.shape), "source": "librivox 0870.wav @12000 and 0920.wav @20000",
                      "mapping": "b = ((s >> 8) + 128) % 256"},
        "top_k": TOP_K, "top_k_floor": TOP_K_FLOOR,
        "tiny-llama2": a, "tiny-llama3": b,
        "mean_entropy_nats": {"tiny-llama2": float(-(np.exp(lp_a) * lp_a).sum(-1).mean()),
                              "tiny-llama3": float(-(np.exp(lp_b) * lp_b).sum(-1).mean())},
        "rope": rope_reference(),
    }
    json.dump(meta, open(os.path.join(out, "expected.json"), "w"), indent=1)
    for root, _, files in os.walk(out):  # save_pretrained writes 0600 files
        for f in files:
            os.chmod(os.path.join(root, f), 0o644)
    print(json.dumps(meta["mean_entropy_nats"]), "written to", out)


if __name__ == "__main__":
    main()
