#!/usr/bin/env bash
# The CUDA backend's correctness checks (issue 4), run on the GPU machine from the repository root:
#   LMAC=build-gpu/lmac CUDA_TESTS=build-gpu/lmac_cuda_tests AUDIO_DIR=.cache/gpu/audio bash tools/gpu_check.sh
# 1. the kernel tests (tests/cuda) against float64 references;
# 2. fp32: `lmac score` on the GPU against the CPU backend on the committed fixture models, max |diff| <= 1e-3;
# 3. bf16: a chunk's code length on the GPU within 0.5% of the CPU backend's, on real speech;
# 4. memory: a model that cannot fit, batch halving without losing or double-counting chunks, batch 1 too big.
# Prints one PASS/FAIL line per check and exits non-zero if any failed. Needs python3 with numpy.
set -uo pipefail
LMAC=${LMAC:-build-gpu/lmac}
CUDA_TESTS=${CUDA_TESTS:-build-gpu/lmac_cuda_tests}
AUDIO_DIR=${AUDIO_DIR:-.cache/gpu/audio}
work=$(mktemp -d)
failures=0
pass() { echo "PASS $*"; }
fail() { echo "FAIL $*"; failures=$((failures + 1)); }

nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
echo "== kernel tests"
if "$CUDA_TESTS" --gtest_brief=1; then pass "kernel tests"; else fail "kernel tests"; fi

# Real speech inputs: 8-bit bytes b = ((s >> 8) + 128) % 256 and 16-bit symbols (little-endian), from one WAV.
python3 - "$AUDIO_DIR" "$work" <<'PY'
import glob, sys, wave
import numpy as np
audio, work = sys.argv[1], sys.argv[2]
path = max(sorted(glob.glob(audio + "/**/*.wav", recursive=True)), key=lambda p: __import__("os").path.getsize(p))
with wave.open(path) as w:
    s = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")[20000:]
b = ((s.astype(np.int32) >> 8) + 128).astype(np.uint8)[:1200]
b.tofile(work + "/speech8.bin")
(b >> 1).tofile(work + "/speech7.bin")  # the ascii mapping's 128 symbols
s[:400].astype("<i2").view(np.uint16).tofile(work + "/speech16.bin")
PY

echo "== fp32: GPU log-probs against the CPU backend (limit 1e-3)"
fp32_case() {  # name input extra-flags...
  local name=$1 input=$2; shift 2
  if ! "$LMAC" score --device cpu --input "$input" -o "$work/$name.cpu.npy" "$@" >/dev/null 2>"$work/$name.err" ||
     ! "$LMAC" score --device cuda --dtype fp32 --input "$input" -o "$work/$name.gpu.npy" "$@" >/dev/null 2>>"$work/$name.err"; then
    fail "fp32 $name: $(tail -2 "$work/$name.err")"; return
  fi
  local diff
  diff=$(python3 -c "import numpy as np,sys; a=np.load(sys.argv[1]); b=np.load(sys.argv[2]); assert a.shape==b.shape; print(f'{np.abs(a.astype(np.float64)-b).max():.3g} over {a.shape}')" "$work/$name.cpu.npy" "$work/$name.gpu.npy")
  if python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) <= 1e-3 else 1)" "${diff%% *}"; then
    pass "fp32 $name: max |gpu - cpu| $diff"
  else
    fail "fp32 $name: max |gpu - cpu| $diff"
  fi
}
fp32_case framework-a "$work/speech8.bin" --model_path tests/data/framework/a_flat.npz --chunk_size 300
fp32_case framework-b-65536 "$work/speech16.bin" --model_path tests/data/framework/b_vocab65536.npz --num_heads 2 --bits 16 --chunk_size 200
fp32_case default-model "$work/speech8.bin" --model_path models/lmac-speech-8bit.npz --chunk_size 600
fp32_case tiny-llama2-bytes "$work/speech8.bin" --model_path tests/data/llama/tiny-llama2 --chunk_size 400
fp32_case tiny-llama2-piece "$work/speech8.bin" --model_path tests/data/llama/tiny-llama2 --byte_mapping piece --chunk_size 400
fp32_case tiny-llama3-ascii "$work/speech7.bin" --model_path tests/data/llama/tiny-llama3 --byte_mapping ascii --chunk_size 400
fp32_case tiny-llama3-top16 "$work/speech8.bin" --model_path tests/data/llama/tiny-llama3 --top_k 16 --chunk_size 400

echo "== bf16: code length against the CPU backend (limit 0.5%)"
bf16_case() {  # name num_chunks extra-flags...
  local name=$1 chunks=$2; shift 2
  if ! "$LMAC" eval --audio_dir "$AUDIO_DIR" --baseline_compressors --num_chunks "$chunks" --device cpu \
         --output_file "$work/$name.cpu.json" "$@" >/dev/null 2>"$work/$name.err" ||
     ! "$LMAC" eval --audio_dir "$AUDIO_DIR" --baseline_compressors --num_chunks "$chunks" --device cuda --dtype bf16 \
         --output_file "$work/$name.gpu.json" "$@" >/dev/null 2>>"$work/$name.err"; then
    fail "bf16 $name: $(tail -2 "$work/$name.err")"; return
  fi
  python3 - "$work/$name.cpu.json" "$work/$name.gpu.json" "$name" <<'PY' && pass "bf16 $name" || fail "bf16 $name"
import json, sys
cpu, gpu = (json.load(open(p))["results"][-1] for p in sys.argv[1:3])
rel = gpu["compressed_bytes"] / cpu["compressed_bytes"] - 1
print(f"  {sys.argv[3]}: cpu {cpu['compressed_bytes']} bytes ({cpu['bits_per_symbol']:.4f} bits/symbol), "
      f"gpu {gpu['compressed_bytes']} ({gpu['bits_per_symbol']:.4f}), {100 * rel:+.3f}%; gpu record: "
      f"{gpu['device']} {gpu['dtype']} peak {gpu['peak_device_memory_bytes'] / 2**20:.0f} MiB batch {gpu['batch_size']}")
assert gpu["num_chunks"] == cpu["num_chunks"] and abs(rel) <= 0.005
PY
}
bf16_case default-model 32 --model_path default
bf16_case tiny-llama2 8 --model_path tests/data/llama/tiny-llama2
bf16_case tiny-llama3-ascii 8 --model_path tests/data/llama/tiny-llama3 --byte_mapping ascii

echo "== memory: errors with numbers, halving without loss"
expect_error() {  # name pattern command...
  local name=$1 pattern=$2; shift 2
  if "$@" >/dev/null 2>"$work/err"; then fail "$name: succeeded"; return; fi
  if grep -q -- "$pattern" "$work/err"; then pass "$name: $(tail -1 "$work/err")"; else fail "$name: $(tail -1 "$work/err")"; fi
}
expect_error "model that cannot fit" "cannot fit on one GPU" \
  env LMAC_CUDA_MEMORY_LIMIT=1G "$LMAC" eval --audio_dir "$AUDIO_DIR" --baseline_compressors --num_chunks 4 --device cuda
# The 65536-symbol model returns 256 KiB of log-probs per position: one 8192-symbol chunk needs about 2 GiB.
expect_error "batch 1 out of memory" "at batch size 1" \
  env LMAC_CUDA_MEMORY_LIMIT=1700M "$LMAC" eval --audio_dir "$AUDIO_DIR" --baseline_compressors --num_chunks 2 \
  --device cuda --model_path tests/data/framework/b_vocab65536.npz --num_heads 2 --bits 16 --chunk_size 16384 \
  --max_length 8192
expect_error "explicit cuda:9" "cuda:9" "$LMAC" eval --audio_dir "$AUDIO_DIR" --baseline_compressors --num_chunks 1 --device cuda:9
if "$LMAC" eval --audio_dir "$AUDIO_DIR" --baseline_compressors --num_chunks 96 --device cuda --dtype fp32 --batch_size 96 \
     --output_file "$work/full.json" >/dev/null 2>"$work/err" &&
   LMAC_CUDA_MEMORY_LIMIT=1200M "$LMAC" eval --audio_dir "$AUDIO_DIR" --baseline_compressors --num_chunks 96 --device cuda \
     --dtype fp32 --batch_size 96 --output_file "$work/halved.json" >/dev/null 2>>"$work/err"; then
  python3 - "$work/full.json" "$work/halved.json" <<'PY' && pass "halving" || fail "halving"
import json, sys
full, halved = (json.load(open(p))["results"][-1] for p in sys.argv[1:3])
print(f"  batch {full['batch_size']}: {full['compressed_bytes']} bytes; under the limit: batch {halved['batch_size']}, "
      f"{halved['compressed_bytes']} bytes, {halved['num_chunks']} chunks")
assert halved["batch_size"] < full["batch_size"] and halved["num_chunks"] == full["num_chunks"] == 96
assert abs(halved["compressed_bytes"] / full["compressed_bytes"] - 1) < 5e-4
PY
else
  fail "halving: $(tail -2 "$work/err")"
fi

echo "== $failures check(s) failed"
exit $((failures > 0))
