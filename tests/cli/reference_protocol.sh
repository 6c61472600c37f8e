# `lmac eval` against the independent Python reference of the paper's protocol (tools/reference_protocol.py,
# committed output in tests/data/reference_protocol/): gzip, lzma and bzip2 use the same libraries and must
# match exactly; png, flac-lmic, flac (the flac CLI) and wavpack (the wavpack CLI) within 1%.
source "$(dirname "$0")/lib.bash"
DATA=/usr/share/pocketsphinx/test/data

compare() {  # compare FIXTURE BITS
  local fixture=$1 bits=$2 names
  names=$(python3 -c "import json,sys; print(' '.join(json.load(open(sys.argv[1]))['results']))" "$fixture")
  if ! "$LMAC" eval --audio_dir "$DATA" --model_path none --bits "$bits" --baseline_compressors $names \
       --output_file "$WORK/out$bits.json" >/dev/null 2>"$WORK/err$bits"; then
    fail "lmac eval --bits $bits failed: $(tail -3 "$WORK/err$bits")"; return
  fi
  python3 - "$fixture" "$WORK/out$bits.json" <<'PY' || fail "bits $bits: lmac differs from the reference"
import json, sys
ref = json.load(open(sys.argv[1]))
out = json.load(open(sys.argv[2]))
exact = {"gzip", "lzma", "bzip2"}
ok = out["files"] == ref["config"]["files"]
if not ok:
    print("file lists differ:", out["files"], ref["config"]["files"])
got = {r["name"]: r for r in out["results"]}
for name, want in ref["results"].items():
    r = got[name]
    for key in ("compression_ratio", "compression_ratio_unchunked"):
        a, b = r[key], want[key]
        rel = abs(a - b) / b
        good = rel < 1e-12 if name in exact else rel < 0.01
        print(f"{'ok  ' if good else 'FAIL'} {name:10s} {key:28s} lmac {a:.6f} reference {b:.6f} ({100 * rel:.3f}%)")
        ok &= good
    if r["num_chunks"] != want["num_chunks"] or r["raw_bytes"] != want["raw_bytes"]:
        print(f"FAIL {name}: chunks/raw bytes differ"); ok = False
sys.exit(0 if ok else 1)
PY
}

compare "$TESTS_DIR/data/reference_protocol/pocketsphinx_8bit.json" 8
if [ -f "$TESTS_DIR/data/reference_protocol/pocketsphinx_16bit.json" ]; then
  compare "$TESTS_DIR/data/reference_protocol/pocketsphinx_16bit.json" 16
else
  fail "the 16-bit fixture is missing"
fi
finish
