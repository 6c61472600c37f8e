#!/usr/bin/env bash
# lmac's GPU benchmark against Hugging Face transformers (issue 4). Run from anywhere; it works in the repo root.
#
#   bash bench/gpu/run_bench.sh prepare [7b] [8b] [chunks]   random bf16 checkpoints + the chunk file (default: all)
#   bash bench/gpu/run_bench.sh time [STEP...]              the measurements (default: every step, in order)
#   bash bench/gpu/run_bench.sh all                         prepare, then time, in one go (fits one 10-minute call)
#   bash bench/gpu/run_bench.sh summary                     the table from the results there are
#
# Steps of `time`, most important first: gemm lmac_7b hf_7b_c hf_7b_b lmac_7b_b1 lmac_8b hf_8b_c lmac_framework.
# A step whose JSON is already in $RESULTS is skipped (RERUN=1 runs it again), so a second call on a warm machine
# picks up where the first stopped. A failing step is reported and the others still run. Every step runs under
# `timeout` so that the whole command ends by BUDGET_S seconds (default 560) and the results still come back.
#
# Where things go: checkpoints and chunks under $CACHE (.cache/gpu); each step's JSON and log under $RESULTS
# ($CACHE/results); at the end of each phase, when $OUT is set (the device machine sets it), a few files there:
# gpu_vs_transformers.md, results.json (every step's JSON in one), logs.tar.gz (all JSON and logs).
set -u -o pipefail
cd "$(dirname "$0")/../.." || exit 1

LMAC=${LMAC:-build-gpu/lmac}
PY=${PY:-python3}
CACHE=${CACHE:-.cache/gpu}
AUDIO_DIR=${AUDIO_DIR:-$CACHE/audio}
RESULTS=${RESULTS:-$CACHE/results}
CKPT7B=${CKPT7B:-$CACHE/ckpt7b}
CKPT8B=${CKPT8B:-$CACHE/ckpt8b}
CHUNKS=$CACHE/chunks.bin
FRAMEWORK=${FRAMEWORK:-models/lmac-speech-8bit.npz}
LMAC_DEVICE=${LMAC_DEVICE:-cuda}   # cpu for a dry run of the script on a machine without a GPU
HF_DEVICE=${HF_DEVICE:-cuda}
N_A=${N_A:-256}                    # chunks for lmac and for transformers at its best
N_B=${N_B:-32}                     # chunks for the seed's pattern
N_B1=${N_B1:-8}                    # chunks for lmac's batch-1 memory run
BATCH_C=${BATCH_C:-8}
TINY=${TINY:-}                     # 1: tiny checkpoints on the CPU (a dry run)
BUDGET_S=${BUDGET_S:-560}
START=$(date +%s)
export PYTHONUNBUFFERED=1
if [ -d .gpulibs ]; then export LD_LIBRARY_PATH=$PWD/.gpulibs:${LD_LIBRARY_PATH:-}; fi
mkdir -p "$CACHE" "$RESULTS"
STATUS=$RESULTS/steps.tsv

elapsed() { echo $(($(date +%s) - START)); }
say() { echo "[$(elapsed) s] $*"; }

# run_step NAME MIN_SECONDS COMMAND...: runs COMMAND with its output in $RESULTS/NAME.log, under the time left.
run_step() {
  local name=$1 need=$2
  shift 2
  local left=$((BUDGET_S - $(elapsed) - 10))
  if [ "$left" -lt "$need" ]; then
    say "SKIP $name: ${left} s left of BUDGET_S=$BUDGET_S, it needs about ${need} s"
    printf '%s\tskipped\t0\n' "$name" >>"$STATUS"
    return 0
  fi
  say "START $name: $*"
  local t0 rc
  t0=$(date +%s)
  timeout --kill-after=10 "$left" "$@" >"$RESULTS/$name.log" 2>&1
  rc=$?
  local dt=$(($(date +%s) - t0))
  tail -n 3 "$RESULTS/$name.log" | sed "s/^/    $name: /"
  if [ $rc -eq 0 ]; then
    say "DONE $name in ${dt} s"
  else
    if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
      say "FAILED $name: killed after ${left} s, the time left of BUDGET_S=$BUDGET_S"
    else
      say "FAILED $name (exit $rc) after ${dt} s; see $RESULTS/$name.log"
    fi
  fi
  printf '%s\t%s\t%s\n' "$name" "$rc" "$dt" >>"$STATUS"
  return 0
}

# A measurement step is skipped when its JSON exists (from an earlier call on this machine), unless RERUN=1.
measure() {
  local name=$1
  if [ -z "${RERUN:-}" ] && [ -s "$RESULTS/$name.json" ]; then
    say "have $name ($RESULTS/$name.json), skipped; RERUN=1 measures again"
    return 0
  fi
  # Keep an earlier result unless this one can run.
  [ $((BUDGET_S - $(elapsed) - 10)) -ge "$2" ] && rm -f "$RESULTS/$name.json"
  run_step "$@"
  if [ -s "$RESULTS/$name.json" ] && [ "${name#lmac_}" != "$name" ]; then  # lmac's figures in one line
    "$PY" -c 'import json, sys
r = [x for x in json.load(open(sys.argv[1]))["results"] if x.get("compressor_type") == "language_model"][0]
m = r.get("peak_device_memory_bytes")
print("    %s: %.0f symbols/s, batch %s, %s %s, peak %s, load %.1f s, %.4f bits/symbol" % (sys.argv[2],
      r.get("symbols_per_second", 0), r.get("batch_size"), r.get("device"), r.get("dtype"),
      "%.2f GiB" % (m / 2**30) if m else "-", r.get("load_time", 0), r.get("bits_per_symbol", 0)))' \
      "$RESULTS/$name.json" "$name" || true
  fi
}

make_checkpoint() {  # make_checkpoint SHAPE DIR
  if [ -s "$2/config.json" ] && [ -s "$2/tokenizer.json" ] && ls "$2"/*.safetensors >/dev/null 2>&1; then
    say "have $2"
    return 0
  fi
  rm -rf "$2"
  df -h "$CACHE" | tail -n 1 | sed 's/^/    disk: /'
  local extra=()
  [ -n "$TINY" ] && extra=(--tiny --device cpu)
  run_step "checkpoint_$1" 60 "$PY" tools/make_gpu_bench_checkpoint.py "$1" "$2" "${extra[@]}"
}

# The benchmark's chunks as lmac eval cuts them: each file's 8-bit symbol stream separately, in sorted path
# order, the partial tail of each file dropped. Fewer than N_A chunks: the audio is repeated (copies in rep1/,
# rep2/, ... beside the originals, in $CACHE/audio_bench) until there are enough; lmac eval then reads that folder.
make_chunks() {
  local dir=$AUDIO_DIR
  if [ ! -d "$dir" ]; then
    say "FAILED chunks: no audio directory $dir (carry it, or set AUDIO_DIR)"
    return 1
  fi
  local rep
  for rep in 1 2 3 4 5 6 7 8; do
    "$LMAC" symbols --audio_dir "$dir" --output "$CACHE/symbols.bin" --index "$CACHE/symbols.tsv" --bits 8 \
      2>"$CACHE/symbols.log" || { cat "$CACHE/symbols.log"; say "FAILED chunks: lmac symbols"; return 1; }
    local n
    n=$("$PY" - "$CACHE/symbols.bin" "$CACHE/symbols.tsv" "$CHUNKS" <<'EOF'
import sys
symbols, index, out = sys.argv[1:4]
data = open(symbols, "rb").read()
chunks = []
for line in open(index):
    offset, length = (int(x) for x in line.split("\t")[:2])
    chunks += [data[offset + k * 2048:offset + (k + 1) * 2048] for k in range(length // 2048)]
open(out, "wb").write(b"".join(chunks))
print(len(chunks))
EOF
    ) || { say "FAILED chunks: cutting"; return 1; }
    if [ "$n" -ge "$N_A" ]; then
      echo "$dir" >"$CACHE/audio_dir.txt"
      say "chunks: $n chunks of 2048 bytes from $dir in $CHUNKS"
      return 0
    fi
    say "chunks: only $n in $dir; repeating the audio"
    local bench=$CACHE/audio_bench
    rm -rf "$bench"
    mkdir -p "$bench"
    cp -r "$AUDIO_DIR"/. "$bench"/
    local k
    for k in $(seq 1 "$rep"); do mkdir -p "$bench/rep$k" && cp -r "$AUDIO_DIR"/. "$bench/rep$k"/; done
    dir=$bench
  done
  say "FAILED chunks: still fewer than $N_A chunks"
  return 1
}

# The small framework model runs a pass of hundreds of chunks in milliseconds: the audio 16 times over (4,240 chunks,
# 8.7 M symbols) makes its throughput a measurement rather than start-up costs.
framework_audio() {
  local dir=$CACHE/audio_framework k
  [ -d "$dir" ] && return 0
  for k in $(seq 1 16); do mkdir -p "$dir/copy$k" && cp -r "$AUDIO_DIR"/. "$dir/copy$k"/; done
}

bundle() {  # the few files that come back from the device machine
  "$PY" bench/gpu/summarize.py "$RESULTS" --md "$RESULTS/gpu_vs_transformers.md" --json "$RESULTS/results.json" ||
    say "summarize.py failed"
  if [ -n "${OUT:-}" ] && [ -d "${OUT:-}" ]; then
    cp -f "$RESULTS/gpu_vs_transformers.md" "$RESULTS/results.json" "$OUT"/ 2>/dev/null
    tar czf "$OUT/logs.tar.gz" -C "$RESULTS" . 2>/dev/null
    say "results in \$OUT: gpu_vs_transformers.md results.json logs.tar.gz"
  fi
}

prepare() {
  local what=("$@")
  [ ${#what[@]} -eq 0 ] && what=(chunks 7b 8b)
  say "prepare: ${what[*]} (lmac $LMAC, python $PY, cache $CACHE)"
  command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,memory.used --format=csv,noheader
  local w
  for w in "${what[@]}"; do
    case $w in
      chunks) make_chunks ;;
      7b) make_checkpoint llama2-7b "$CKPT7B" ;;
      8b) make_checkpoint llama3-8b "$CKPT8B" ;;
      *) say "prepare: unknown part '$w' (chunks, 7b, 8b)" ;;
    esac
  done
  du -sh "$CKPT7B" "$CKPT8B" 2>/dev/null | sed 's/^/    /'
  df -h "$CACHE" | tail -n 1 | sed 's/^/    disk: /'
}

run_time() {
  local steps=("$@")
  [ ${#steps[@]} -eq 0 ] && steps=(gemm lmac_7b hf_7b_c hf_7b_b lmac_7b_b1 lmac_8b hf_8b_c lmac_framework)
  if [ ! -s "$CACHE/audio_dir.txt" ] || [ ! -s "$CHUNKS" ]; then
    say "no chunks yet: running prepare chunks first"
    make_chunks || return 1
  fi
  command -v nvidia-smi >/dev/null && nvidia-smi >"$RESULTS/nvidia-smi.txt" 2>&1
  # The configs beside the results, for the FLOP count of summarize.py wherever it runs.
  [ -s "$CKPT7B/config.json" ] && cp -f "$CKPT7B/config.json" "$RESULTS/config_7b.json"
  [ -s "$CKPT8B/config.json" ] && cp -f "$CKPT8B/config.json" "$RESULTS/config_8b.json"
  [ -s "${FRAMEWORK%.npz}.json" ] && "$PY" -c "import json,sys; a=json.load(open(sys.argv[1]))['architecture']; \
json.dump(a, open(sys.argv[2], 'w'))" "${FRAMEWORK%.npz}.json" "$RESULTS/config_framework.json"
  # lmac end to end: model plus arithmetic coding (gzip is there because eval wants a baseline; it takes ms).
  local lmac_eval=("$LMAC" eval --audio_dir "$(cat "$CACHE/audio_dir.txt")" --baseline_compressors gzip
                   --device "$LMAC_DEVICE")
  local gemm_args=() hf_args=(--device "$HF_DEVICE")
  [ "$HF_DEVICE" = cpu ] && gemm_args=(--device cpu --sizes 256x256x256 --runs 3)
  local s
  for s in "${steps[@]}"; do
    case $s in
      gemm) measure gemm 20 "$PY" bench/gpu/gemm_peak.py --out "$RESULTS/gemm.json" "${gemm_args[@]}" ;;
      lmac_7b) measure lmac_7b 60 "${lmac_eval[@]}" --model_path "$CKPT7B" \
        --output_file "$RESULTS/lmac_7b.json" --num_chunks "$N_A" ;;
      hf_7b_c) measure hf_7b_c 60 "$PY" bench/gpu/hf_peer.py --model "$CKPT7B" --chunks "$CHUNKS" --mode c \
        --num_chunks "$N_A" --batch "$BATCH_C" --out "$RESULTS/hf_7b_c.json" "${hf_args[@]}" ;;
      hf_7b_b) measure hf_7b_b 40 "$PY" bench/gpu/hf_peer.py --model "$CKPT7B" --chunks "$CHUNKS" --mode b \
        --num_chunks "$N_B" --out "$RESULTS/hf_7b_b.json" "${hf_args[@]}" ;;
      lmac_7b_b1) measure lmac_7b_b1 30 "${lmac_eval[@]}" --model_path "$CKPT7B" \
        --output_file "$RESULTS/lmac_7b_b1.json" --num_chunks "$N_B1" --batch_size 1 ;;
      lmac_8b) measure lmac_8b 60 "${lmac_eval[@]}" --model_path "$CKPT8B" \
        --output_file "$RESULTS/lmac_8b.json" --num_chunks "$N_A" ;;
      hf_8b_c) measure hf_8b_c 60 "$PY" bench/gpu/hf_peer.py --model "$CKPT8B" --chunks "$CHUNKS" --mode c \
        --num_chunks "$N_A" --batch "$BATCH_C" --out "$RESULTS/hf_8b_c.json" "${hf_args[@]}" ;;
      lmac_framework) framework_audio && measure lmac_framework 20 "$LMAC" eval --audio_dir "$CACHE/audio_framework" \
        --baseline_compressors gzip --device "$LMAC_DEVICE" --model_path "$FRAMEWORK" \
        --output_file "$RESULTS/lmac_framework.json" ;;
      *) say "time: unknown step '$s'" ;;
    esac
  done
}

phase=${1:-}
[ $# -gt 0 ] && shift
case $phase in
  prepare) prepare "$@"; bundle ;;
  time) run_time "$@"; bundle ;;
  all)
    # Interleaved so that the 7B measurements come first even if the time runs out.
    prepare chunks 7b
    run_time gemm lmac_7b hf_7b_c hf_7b_b lmac_7b_b1
    prepare 8b
    run_time lmac_8b hf_8b_c lmac_framework
    bundle ;;
  summary) bundle ;;
  *) echo "usage: bash bench/gpu/run_bench.sh prepare [7b] [8b] [chunks] | time [STEP...] | all | summary" >&2
     exit 2 ;;
esac
say "finished $phase in $(elapsed) s"
