# The shipped default model against the fixture its training tool computed in float64 PyTorch when it saved it:
# the code length of a held-out real speech excerpt (codec2-examples hts1a.wav, 8192 samples) within 2e-4 nats
# per symbol, and every symbol within 1e-3 nats (float32 rounding alone moves single symbols by ~1e-4).
source "$(dirname "$0")/lib.bash"
FIX=$TESTS_DIR/data/default_model
PY=${LMAC_PYTHON:-$TESTS_DIR/../.venv/bin/python}

mkdir -p "$WORK/audio" && cp "$FIX/hts1a_excerpt.wav" "$WORK/audio/"
"$LMAC" symbols --audio_dir "$WORK/audio" --bits 8 -o "$WORK/stream.bin" 2>/dev/null || fail "lmac symbols failed"
cmp -s "$WORK/stream.bin" "$FIX/excerpt_8bit.bin" || fail "the 8-bit stream differs from the one the model was scored on"

"$LMAC" score --model_path default --input "$FIX/excerpt_8bit.bin" --chunk_size 2048 --output "$WORK/lp.npy" \
  > "$WORK/score.json" || fail "lmac score --model_path default failed"
"$PY" - "$WORK/lp.npy" "$FIX" <<'PY' || fail "the default model's code length differs from the PyTorch fixture"
import json, sys, numpy as np
lp = np.load(sys.argv[1]).astype(np.float64)
fix = sys.argv[2]
x = np.frombuffer(open(fix + "/excerpt_8bit.bin", "rb").read(), np.uint8)
want = np.load(fix + "/actual_logprobs.npy").reshape(-1)
got = lp[np.arange(len(x)), x]
per_symbol = abs(got.sum() - want.sum()) / len(x)
worst = np.abs(got - want).max()
print(f"code length: lmac {-got.sum():.4f} nats, PyTorch float64 {-want.sum():.4f} nats; "
      f"{per_symbol:.2e} nats/symbol apart, worst symbol {worst:.2e}")
assert per_symbol < 2e-4 and worst < 1e-3
PY
finish
