# Language models through the program: resolution errors, repeated models, --slow_compression, score, info.
source "$(dirname "$0")/lib.bash"
FW=$TESTS_DIR/data/framework/a_flat.npz
FW_PICKLED=$TESTS_DIR/data/framework/a_jax_numpy2.npz
LLAMA2=$TESTS_DIR/data/llama/tiny-llama2
LLAMA3=$TESTS_DIR/data/llama/tiny-llama3
PY=${LMAC_PYTHON:-$TESTS_DIR/../.venv/bin/python}
mkdir -p "$WORK/audio" "$WORK/ptbin" "$WORK/pth" "$WORK/noconfig" "$WORK/mistral"
cp "$SPEECH_DIR/sense_and_sensibility_01_austen_64kb-0870.wav" "$WORK/audio/a.wav"
touch "$WORK/ptbin/pytorch_model.bin" "$WORK/pth/consolidated.00.pth" "$WORK/noconfig/model.safetensors"
cp -r "$LLAMA2/." "$WORK/mistral/" && sed -i 's/"model_type": *"llama"/"model_type": "mistral"/' "$WORK/mistral/config.json"

# Resolution: each failure has its own message.
expect_error "missing npz" "file not found" -- eval --audio_dir "$WORK/audio" --model_path "$WORK/none.npz"
expect_error "hub name" "lmac never downloads" -- eval --audio_dir "$WORK/audio" --model_path meta-llama/Llama-2-7b-hf
expect_error "unknown format" "unknown model format" -- eval --audio_dir "$WORK/audio" --model_path llama2
expect_error "pytorch_model.bin" "pytorch_model.bin" -- eval --audio_dir "$WORK/audio" --model_path "$WORK/ptbin"
expect_error "consolidated.pth" "consolidated.00.pth" -- eval --audio_dir "$WORK/audio" --model_path "$WORK/pth"
expect_error "no config.json" "no config.json" -- eval --audio_dir "$WORK/audio" --model_path "$WORK/noconfig"
expect_error "model_type mistral" "model_type" -- eval --audio_dir "$WORK/audio" --model_path "$WORK/mistral"
expect_error "num_heads not dividing D" "num_heads" -- eval --audio_dir "$WORK/audio" --model_path "$FW" --num_heads 5
expect_error "a wrong --embedding_dim" "embedding_dim" -- eval --audio_dir "$WORK/audio" --model_path "$FW" --embedding_dim 48

# Two copies of one model and two Llama layouts in one run; names stay unique.
OUT=$WORK/models.json
if "$LMAC" eval --audio_dir "$WORK/audio" --num_chunks 2 --baseline_compressors gzip --model_path "$FW" \
     --model_path "$FW" --model_path "$LLAMA2" --model_path "llama:$LLAMA3" --output_file "$OUT" >/dev/null 2>&1; then
  python3 - "$OUT" <<'PY' || fail "the JSON of a multi-model run is wrong"
import json, sys
d = json.load(open(sys.argv[1]))
names = [r["name"] for r in d["results"]]
assert names == ["gzip", "a_flat", "a_flat#2", "tiny-llama2", "tiny-llama3"], names
for r in d["results"][1:]:
    assert r["compressor_type"] == "language_model" and r["num_chunks"] == 2 and r["raw_bytes"] == 4096, r
    assert r["compressed_bytes"] > 0 and r["bits_per_symbol"] > 0, r
    assert abs(r["compression_ratio"] - r["compressed_bytes"] / r["raw_bytes"]) < 1e-12, r
assert d["results"][1]["compressed_bytes"] == d["results"][2]["compressed_bytes"]
PY
else
  fail "a multi-model eval failed"
fi

# The slow prefix path agrees with the fast path within 0.01% (short chunks keep it quick).
"$LMAC" eval --audio_dir "$WORK/audio" --num_chunks 3 --chunk_size 96 --baseline_compressors gzip --model_path "$FW" \
  --output_file "$WORK/fast.json" >/dev/null 2>&1 || fail "fast eval failed"
"$LMAC" eval --audio_dir "$WORK/audio" --num_chunks 3 --chunk_size 96 --baseline_compressors gzip --model_path "$FW" \
  --slow_compression --output_file "$WORK/slow.json" >/dev/null 2>&1 || fail "slow eval failed"
python3 - "$WORK/fast.json" "$WORK/slow.json" <<'PY' || fail "slow and fast paths disagree"
import json, sys
fast, slow = (json.load(open(p))["results"][1]["compressed_bytes"] for p in sys.argv[1:])
assert abs(fast - slow) <= 1e-4 * fast, (fast, slow)
PY

# The ascii mapping: the 8/7 accounting on compression_ratio, the dropped bits really stored in the other ratio.
if "$LMAC" eval --audio_dir "$WORK/audio" --num_chunks 2 --baseline_compressors gzip --model_path "$LLAMA2" \
     --byte_mapping ascii --output_file "$WORK/ascii.json" >/dev/null 2>&1; then
  python3 - "$WORK/ascii.json" <<'PY' || fail "the ascii record is wrong"
import json, sys
r = json.load(open(sys.argv[1]))["results"][1]
assert abs(r["compression_ratio"] - r["compressed_bytes"] * 8 / 7 / r["raw_bytes"]) < 1e-12, r
assert abs(r["compression_ratio_stored_bits"] - (r["compressed_bytes"] + 2 * 256) / r["raw_bytes"]) < 1e-12, r
PY
else
  fail "ascii eval failed"
fi

# score: the .npy holds [symbols, 256] natural-log rows that sum to 1, and total_bits matches them.
head -c 3000 "$WORK/audio/a.wav" | tail -c 2500 > "$WORK/raw.bin"
if "$LMAC" score --model_path "$FW_PICKLED" --input "$WORK/raw.bin" --chunk_size 1024 --output "$WORK/lp.npy" > "$WORK/score.json"; then
  if [ -x "$PY" ]; then
    "$PY" - "$WORK/lp.npy" "$WORK/raw.bin" "$WORK/score.json" <<'PY' || fail "score output is wrong"
import json, sys, numpy as np
lp = np.load(sys.argv[1]); x = np.frombuffer(open(sys.argv[2], "rb").read(), np.uint8)
assert lp.shape == (2500, 256) and lp.dtype == np.float32, lp.shape
assert np.allclose(np.exp(lp.astype(np.float64)).sum(1), 1, atol=1e-4)
bits = -lp[np.arange(2500), x].astype(np.float64).sum() / np.log(2)
assert abs(bits - json.load(open(sys.argv[3]))["total_bits"]) < 1e-3 * bits
PY
  fi
else
  fail "score failed"
fi

# info names the architecture, BOS and fingerprint.
"$LMAC" info "$LLAMA2" > "$WORK/info.txt" 2>&1 || fail "info failed"
for field in "architecture:" "parameters:" "BOS:" "fingerprint:" "byte tokens:"; do
  grep -q "$field" "$WORK/info.txt" || fail "info lacks $field"
done
finish
