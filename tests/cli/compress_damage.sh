# Damaged, cut and mismatched .lmac files: a non-zero exit, a message naming the header or the chunk, and no
# output file (nor a temporary one). The exhaustive in-process version is tests/unit/eval/file_codec_test.cpp.
source "$(dirname "$0")/lib.bash"
LMAC=$(realpath "$LMAC")
M=(--model_path test:order1)
cd "$WORK" || exit 1
sox "$SPEECH_DIR/sense_and_sensibility_01_austen_64kb-0870.wav" a.wav trim 0 0.25
"$LMAC" compress -q "${M[@]}" --chunk_size 1024 a.wav -o a.lmac || { fail "compress"; finish; }
size=$(stat -c %s a.lmac)

# flip FILE BYTE BIT OUT: a copy of FILE with one bit flipped.
flip() { python3 -c "import sys; d=bytearray(open(sys.argv[1],'rb').read()); d[int(sys.argv[2])]^=1<<int(sys.argv[3]); open(sys.argv[4],'wb').write(d)" "$@"; }
# damaged NAME EXPECTED FILE: decompress, test and decompress -c must all fail, say EXPECTED, and write nothing.
damaged() {
  local name=$1 expected=$2 file=$3
  rm -f out.wav
  expect_error "$name: decompress" "$expected" -- decompress "${M[@]}" "$file" -o out.wav
  [ -e out.wav ] && fail "$name: an output file was left"
  expect_error "$name: test" "$expected" -- test "${M[@]}" "$file"
  local bytes; bytes=$("$LMAC" decompress -c "${M[@]}" "$file" 2>/dev/null | wc -c)
  [ "$bytes" -eq 0 ] || fail "$name: decompress -c wrote $bytes bytes"
}

flip a.lmac 0 7 magic.lmac;            damaged "magic" "header" magic.lmac
flip a.lmac 9 0 version.lmac;          damaged "version bit" "header damaged" version.lmac
flip a.lmac 30 3 header.lmac;          damaged "header byte 30" "header damaged" header.lmac
flip a.lmac $((size - 1)) 0 last.lmac; damaged "last byte" "damaged: chunk 7 of 8" last.lmac
head -c $((size - 100)) a.lmac > cut.lmac;  damaged "truncated" "truncated: chunk 7 of 8" cut.lmac
head -c 40 a.lmac > cuthead.lmac;           damaged "truncated header" "header damaged or truncated" cuthead.lmac
cp a.lmac long.lmac; printf 'x' >> long.lmac; damaged "appended byte" "unexpected bytes after the last chunk" long.lmac
: > empty.lmac;                             damaged "empty file" "not an .lmac file" empty.lmac

# 30 random single-bit flips anywhere.
for i in $(seq 30); do
  byte=$((RANDOM * 32768 + RANDOM)); byte=$((byte % size))
  flip a.lmac $byte $((RANDOM % 8)) r.lmac
  out=$("$LMAC" decompress "${M[@]}" r.lmac -o r.wav 2>&1); rc=$?
  if [ $rc -eq 0 ] || [ $rc -ge 128 ] || [ -e r.wav ] || ! grep -qE "header|chunk" <<<"$out"; then
    fail "flip at byte $byte: rc=$rc $out"
  fi
  rm -f r.wav
done

# Another model, or other flags baked into another model, is refused before any output exists.
rm -f out.wav
expect_error "other model" "compressed with model 'order1'" -- decompress --model_path test:order0-65536 a.lmac -o out.wav
expect_error "other model, its name" "gives model 'order0-65536'" -- decompress --model_path test:order0-65536 a.lmac -o out.wav
[ -e out.wav ] && fail "a mismatched model left an output file"
expect_error "decompress a WAV" "a.wav: not an .lmac file" -- decompress "${M[@]}" a.wav
cp a.lmac noext
expect_error "decompress without .lmac suffix" "does not end in .lmac" -- decompress "${M[@]}" noext
expect_error "-k with --rm" "contradict" -- compress "${M[@]}" -k --rm a.wav
expect_error "missing input" "nope.wav: cannot read" -- compress "${M[@]}" nope.wav
[ -e a.wav ] && cmp -s a.lmac <("$LMAC" compress -q -c "${M[@]}" --chunk_size 1024 a.wav) || fail "the inputs changed"
ls -a | grep -q '\.tmp-' && fail "a temporary file was left behind"
finish
