#!/usr/bin/env bash
# Symbol streams for training lmac's default model (tools/train_framework.py), made by lmac's own conversion
# (`lmac symbols`), so the model learns exactly the bytes lmac will later code.
#
# Usage (from the repository root):  tools/prepare_training_data.sh [LMAC_BINARY] [OUT_DIR]
#   LMAC_BINARY  default build-train/lmac;   OUT_DIR  default .traindata (ignored through .git/info/exclude)
#
# Needs the Debian packages listed in docs/training-data.md (apt-get install them; training data is not part
# of scripts/setup.sh). Writes, per source, <name>.bin (the 8-bit streams back to back), <name>.tsv (offset,
# length, sample rate, path per file) and <name>.bin.xz (for transport to the GPU machine: at most 64 MiB
# travel with one call).
#   train_*       training packages (asterisk prompts in four languages, asterisk music on hold); the training
#                 tool holds out every 20th file of them as its validation split.
#   heldout_*     never trained on: codec2-examples speech (8 kHz files only) and pocketsphinx-testdata.
set -euo pipefail

LMAC=${1:-build-train/lmac}
OUT=${2:-.traindata}
BITS=8

need_package() {
  if ! dpkg -s "$1" >/dev/null 2>&1; then
    echo "prepare_training_data: Debian package $1 is not installed (apt-get install $1)" >&2
    exit 1
  fi
}
for p in asterisk-core-sounds-en-wav asterisk-core-sounds-es-wav asterisk-core-sounds-it-wav \
         asterisk-core-sounds-ru-wav asterisk-moh-opsound-wav codec2-examples pocketsphinx-testdata; do
  need_package "$p"
done
[ -x "$LMAC" ] || { echo "prepare_training_data: $LMAC is not an executable lmac" >&2; exit 1; }

mkdir -p "$OUT"
SOUNDS=/usr/share/asterisk/sounds

streams() {  # name, audio dir
  "$LMAC" symbols --audio_dir "$2" --bits "$BITS" -o "$OUT/$1.bin" --index "$OUT/$1.tsv" 2>"$OUT/$1.log" || {
    cat "$OUT/$1.log" >&2
    exit 1
  }
  echo "$1: $(wc -l <"$OUT/$1.tsv") files, $(stat -c %s "$OUT/$1.bin") bytes"
}

# The voice folders themselves (the short names en/, es/... are alternatives links to them).
streams train_en_allison "$SOUNDS/en_US_f_Allison"
streams train_es_allison "$SOUNDS/es_MX_f_Allison"
streams train_it_carlo "$SOUNDS/it_IT_m_Carlo"
streams train_ru_ivrvoice "$SOUNDS/ru_RU_f_IvrvoiceRU"
streams train_moh_opsound /usr/share/asterisk/moh

# Held-out speech. codec2-examples: the 8 kHz files only (wia_16kHz.wav is 16 kHz), linked into one folder.
CODEC2_8K="$OUT/codec2_8k"
rm -rf "$CODEC2_8K"
mkdir -p "$CODEC2_8K"
for f in /usr/share/codec2/wav/*.wav; do
  if [ "$(soxi -r "$f")" = 8000 ]; then ln -s "$f" "$CODEC2_8K/"; fi
done
streams heldout_codec2_8k "$CODEC2_8K"
streams heldout_pocketsphinx /usr/share/pocketsphinx/test/data

for f in "$OUT"/*.bin; do
  xz -9 -T2 -k -f "$f"
done
du -ch "$OUT"/*.bin.xz | tail -1
