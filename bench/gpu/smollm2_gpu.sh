#!/usr/bin/env bash
# The SmolLM2 experiment of bench/smollm2_experiment.sh over every chunk, on the GPU (issue 7), plus its parity
# with the CPU records of the stated subset: the first 8 chunks of each configuration again, in fp32 and bf16.
#   LMAC=build-gpu/lmac MODEL=SmolLM2-135M-Instruct.Q4_1.gguf AUDIO_DIR=.../librivox OUT=dir bash bench/gpu/smollm2_gpu.sh
set -uo pipefail
LMAC=${LMAC:-build-gpu/lmac}
MODEL=${MODEL:-.cache/models/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf}
AUDIO_DIR=${AUDIO_DIR:-/usr/share/pocketsphinx/test/data/librivox}
OUT=${OUT:-bench/results}
configs=("bytes8 --byte_mapping bytes" "ascii8 --byte_mapping ascii" "bits16 --bits 16")
for c in "${configs[@]}"; do
  set -- $c
  name=$1; shift
  echo "== $name, every chunk, bf16"
  "$LMAC" eval --audio_dir "$AUDIO_DIR" --model_path "$MODEL" --device cuda --baseline_compressors gzip lzma flac \
    --output_file "$OUT/smollm2_gpu_$name.json" "$@" 2>&1 | tail -5
  for dtype in fp32 bf16; do
    "$LMAC" eval --audio_dir "$AUDIO_DIR" --model_path "$MODEL" --device cuda --dtype "$dtype" --num_chunks 8 \
      --baseline_compressors --output_file "$OUT/smollm2_gpu_${name}_8_$dtype.json" "$@" >/dev/null 2>&1 ||
      echo "FAILED $name $dtype 8 chunks"
  done
done
