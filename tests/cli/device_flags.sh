# --device and --dtype on a machine without a usable GPU (CI): the rules of DESIGN.md section 1. On a machine with
# a GPU the fall-back cases do not apply; tools/gpu_check.sh covers that side.
source "$(dirname "$0")/lib.bash"
model=$TESTS_DIR/data/framework/t_bits8.npz

expect_error "unknown device" "--device must be auto, cpu, cuda or cuda:N, not 'gpu'" -- \
  eval --audio_dir "$SPEECH_DIR" --num_chunks 1 --device gpu --model_path "$model"
expect_error "unknown dtype" "--dtype must be auto, fp32, bf16 or fp16, not 'fp8'" -- \
  eval --audio_dir "$SPEECH_DIR" --num_chunks 1 --dtype fp8 --model_path "$model"
expect_error "16-bit dtype on the CPU" "--dtype bf16 needs a GPU" -- \
  eval --audio_dir "$SPEECH_DIR" --num_chunks 1 --device cpu --dtype bf16 --model_path "$model"
expect_error "score: 16-bit dtype on the CPU" "--dtype fp16 needs a GPU" -- \
  score --model_path "$model" --input "$model" --device cpu --dtype fp16

if command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1; then
  echo "a GPU is visible: the no-GPU cases are skipped here (tools/gpu_check.sh covers the GPU side)"
  finish
  exit
fi

expect_error "explicit cuda without a GPU, before any audio is read" "--device cuda:" -- \
  eval --audio_dir "$WORK/no-such-dir" --num_chunks 1 --device cuda:0 --model_path "$model" --baseline_compressors
expect_error "score: explicit cuda without a GPU" "--device cuda" -- \
  score --model_path "$model" --input "$model" --device cuda

# auto falls back to the CPU with exactly one warning, and the record says where the model ran.
"$LMAC" eval --audio_dir "$SPEECH_DIR" --num_chunks 2 --model_path "$model" --model_path "$model" \
  --baseline_compressors --output_file "$WORK/auto.json" >/dev/null 2>"$WORK/auto.err" || fail "auto: exit $?"
warnings=$(grep -c "warning: --device auto: no usable GPU" "$WORK/auto.err")
[ "$warnings" = 1 ] || fail "auto: $warnings fall-back warnings for two models (expected 1): $(cat "$WORK/auto.err")"
python3 - "$WORK/auto.json" <<'PY' || fail "auto: the JSON records"
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["config"]["device"] == "auto" and doc["config"]["dtype"] == "auto", doc["config"]
models = [r for r in doc["results"] if r["compressor_type"] == "language_model"]
assert len(models) == 2, models
for r in models:
    assert r["device"] == "cpu" and r["dtype"] == "fp32" and "peak_device_memory_bytes" not in r, r
PY
echo "ok: auto falls back once and records cpu/fp32"
finish
