# `lmac compress` / `decompress` / `test` round trips on short excerpts of real speech, with the deterministic
# stand-in model test:order1 (src/eval/file_codec_test_model.hpp): every WAV comes back byte for byte, every
# other lossless format as a WAV with identical samples, by default and with --bits 8, at any thread count.
source "$(dirname "$0")/lib.bash"
LMAC=$(realpath "$LMAC"); TESTS_DIR=$(realpath "$TESTS_DIR")
M=(--model_path test:order1)
cd "$WORK" || exit 1

# Inputs, made with sox from real recordings (Debian's pocketsphinx-testdata and codec2-examples).
S16=$SPEECH_DIR/sense_and_sensibility_01_austen_64kb-0870.wav
S16B=$SPEECH_DIR/sense_and_sensibility_01_austen_64kb-0880.wav
sox "$S16" speech16k.wav trim 0 0.4
sox /usr/share/codec2/wav/hts1a.wav speech8k.wav trim 0 0.6
sox -M "$S16" "$S16B" -r 44100 stereo.flac trim 0 0.15
sox "$S16" -b 24 speech24.wav trim 0 0.2 vol 0.7
sox "$S16" -b 8 speech8bit.wav trim 0 0.3
sox "$S16" short.wav trim 0 50s
sox "$S16" empty.wav trim 0 0s
sox "$S16" -b 16 speech.aiff trim 0 0.1

# Samples of an audio file as raw little-endian integers of its own width, for comparing other formats.
samples() { sox "$1" -t raw -e signed -L -b "$2" - 2>/dev/null; }

for bits in default 8; do
  opts=(); [ $bits = 8 ] && opts=(--bits 8)
  for f in speech16k.wav speech8k.wav speech24.wav speech8bit.wav short.wav empty.wav; do
    rm -f "$f.lmac" back.wav
    if ! "$LMAC" compress -q "${M[@]}" "${opts[@]}" "$f"; then fail "compress $f ($bits)"; continue; fi
    [ -e "$f" ] || fail "$f: the input was removed without --rm"
    "$LMAC" decompress -q "${M[@]}" "$f.lmac" -o back.wav || { fail "decompress $f ($bits)"; continue; }
    cmp -s "$f" back.wav && echo "ok: $f exact (bits $bits)" || fail "$f: not byte-identical (bits $bits)"
  done
  for f in stereo.flac:16 speech.aiff:16; do
    src=${f%%:*}; width=${f##*:}
    rm -f "$src.lmac" "${src%.*}.wav"
    "$LMAC" compress -q "${M[@]}" "${opts[@]}" "$src" || { fail "compress $src ($bits)"; continue; }
    "$LMAC" decompress -q "${M[@]}" "$src.lmac" || { fail "decompress $src ($bits)"; continue; }
    out=${src%.*}.wav  # a.flac.lmac -> a.wav, as flac -d names it
    [ -e "$out" ] || { fail "$src: decompress did not write $out"; continue; }
    [ "$(soxi -c "$out")" = "$(soxi -c "$src")" ] && [ "$(soxi -r "$out")" = "$(soxi -r "$src")" ] \
      || fail "$src: channels or rate changed"
    cmp -s <(samples "$src" "$width") <(samples "$out" "$width") && echo "ok: $src -> $out same samples (bits $bits)" \
      || fail "$src: samples differ (bits $bits)"
  done
done

# The file does not depend on the thread count.
for t in 1 2 7; do OMP_NUM_THREADS=$t "$LMAC" compress -q -f "${M[@]}" speech24.wav -o t$t.lmac --chunk_size 500 || fail "threads $t"; done
"$LMAC" compress -q -f "${M[@]}" speech24.wav -o t7b.lmac --chunk_size 500 --threads 7 --batch_size 1 || fail "--threads 7"
cmp -s t1.lmac t2.lmac && cmp -s t1.lmac t7.lmac && cmp -s t1.lmac t7b.lmac && echo "ok: same file at 1, 2 and 7 threads" \
  || fail "the file depends on the thread count"
for t in 1 2 7; do
  OMP_NUM_THREADS=$t "$LMAC" decompress -q -c "${M[@]}" t1.lmac | cmp -s - speech24.wav || fail "decode at $t threads"
done

# stdin and stdout, -c, -V, test, -t, -f and --rm.
"$LMAC" compress -q "${M[@]}" - < speech16k.wav > piped.lmac || fail "compress from stdin"
"$LMAC" decompress -q "${M[@]}" - < piped.lmac | cmp -s - speech16k.wav && echo "ok: stdin to stdout" || fail "stdin round trip"
"$LMAC" compress -q -c "${M[@]}" speech16k.wav | cmp -s - piped.lmac || fail "-c differs from the stdin result"
"$LMAC" compress -q "${M[@]}" - < stereo.flac > flac.lmac && "$LMAC" decompress -q "${M[@]}" - < flac.lmac > flac.wav \
  && cmp -s <(samples stereo.flac 16) <(samples flac.wav 16) && echo "ok: FLAC through stdin" || fail "FLAC through stdin"
"$LMAC" compress -q -V -f "${M[@]}" speech16k.wav && echo "ok: --verify" || fail "--verify"
"$LMAC" test -q "${M[@]}" speech16k.wav.lmac && echo "ok: test" || fail "test"
"$LMAC" decompress -t -q "${M[@]}" speech16k.wav.lmac || fail "decompress -t"
[ -e speech16k.wav.lmac ] || fail "test removed its input"
expect_error "existing output" "already exists (use -f" -- compress "${M[@]}" speech16k.wav
cp speech16k.wav gone.wav
"$LMAC" compress -q --rm "${M[@]}" gone.wav && [ ! -e gone.wav ] && [ -e gone.wav.lmac ] && echo "ok: --rm" || fail "--rm"
"$LMAC" decompress -q --rm "${M[@]}" gone.wav.lmac && [ -e gone.wav ] && [ ! -e gone.wav.lmac ] || fail "decompress --rm"
cmp -s gone.wav speech16k.wav || fail "--rm round trip"

# Float and lossy input is refused, and leaves nothing behind.
sox speech16k.wav -e floating-point -b 32 float.wav
sox speech16k.wav lossy.ogg
expect_error "float WAV" "float.wav: a float WAV" -- compress "${M[@]}" float.wav
expect_error "Vorbis" "is float or lossy audio" -- compress "${M[@]}" lossy.ogg
[ -e float.wav.lmac ] || [ -e lossy.ogg.lmac ] && fail "a refused input left an output"

# A real model: until it has a deterministic scorer it is refused with that reason; then it must round-trip.
REAL="$TESTS_DIR/data/framework/t_bits8.npz"
if out=$("$LMAC" compress -q --model_path "$REAL" speech16k.wav -o real.lmac 2>&1); then
  "$LMAC" decompress -q --model_path "$REAL" real.lmac -o real.wav && cmp -s real.wav speech16k.wav \
    && echo "ok: real model round trip" || fail "real model round trip"
else
  grep -q "has no deterministic scorer yet" <<<"$out" && echo "ok: real model refused: $out" || fail "real model: $out"
  [ -e real.lmac ] && fail "a refused compress left real.lmac"
fi
ls -a | grep -q '\.tmp-' && fail "a temporary file was left behind"
finish
