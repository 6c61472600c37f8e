#!/usr/bin/env bash
# Installs everything, builds, and runs the main job: `lmac eval` on real LibriVox speech from the Debian
# package pocketsphinx-testdata, with the default baselines. The README's first command.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
mkdir -p results
exec ./build/lmac eval --audio_dir /usr/share/pocketsphinx/test/data --output_file results/pocketsphinx.json "$@"
