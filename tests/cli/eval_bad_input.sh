# `lmac eval` on hostile input: one precise message, a non-zero exit, and no --output_file left behind.
source "$(dirname "$0")/lib.bash"

mkdir -p "$WORK/empty" "$WORK/noaudio" "$WORK/truncated" "$WORK/corrupt" "$WORK/unreadable" "$WORK/good"
echo "just text" > "$WORK/noaudio/readme.txt"
cp "$SPEECH_DIR/sense_and_sensibility_01_austen_64kb-0870.wav" "$WORK/good/a.wav"
head -c 20000 "$WORK/good/a.wav" > "$WORK/truncated/short.wav"
printf 'RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00garbage, not a format chunk' > "$WORK/corrupt/bad.wav"
ln -s "$WORK/missing.wav" "$WORK/unreadable/gone.wav"
OUT="$WORK/out.json"

expect_error "empty directory" "is empty" -- eval --audio_dir "$WORK/empty" --output_file "$OUT"
expect_error "no audio" "no audio files" -- eval --audio_dir "$WORK/noaudio" --output_file "$OUT"
expect_error "missing directory" "no such directory" -- eval --audio_dir "$WORK/nope" --output_file "$OUT"
expect_error "truncated wav" "short.wav: truncated" -- eval --audio_dir "$WORK/truncated" --output_file "$OUT"
expect_error "corrupt wav" "bad.wav" -- eval --audio_dir "$WORK/corrupt" --output_file "$OUT"
expect_error "unreadable file" "gone.wav: cannot read" -- eval --audio_dir "$WORK/unreadable" --output_file "$OUT"
expect_error "chunk size 0" "--chunk_size must be positive" -- eval --audio_dir "$WORK/good" --chunk_size 0 --output_file "$OUT"
expect_error "odd chunk size at 16 bits" "is odd" -- eval --audio_dir "$WORK/good" --bits 16 --chunk_size 2047 --output_file "$OUT"
expect_error "num_chunks 0" "--num_chunks must be positive" -- eval --audio_dir "$WORK/good" --num_chunks 0 --output_file "$OUT"
expect_error "unknown compressor" "gzip" -- eval --audio_dir "$WORK/good" --baseline_compressors gzip zpaq --output_file "$OUT"
expect_error "bad bits" "--bits must be 8 or 16" -- eval --audio_dir "$WORK/good" --bits 12 --output_file "$OUT"
expect_error "chunk larger than any file" "no file holds a complete chunk" -- eval --audio_dir "$WORK/good" --chunk_size 100000000 --output_file "$OUT"
[ -e "$OUT" ] && fail "an --output_file was written by a failed run"
ls "$WORK" | grep -q '\.tmp-' && fail "a temporary file was left behind"

# The same good directory works, and writes the JSON.
if "$LMAC" eval --audio_dir "$WORK/good" --model_path none --output_file "$OUT" >/dev/null 2>&1; then
  python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert [r['name'] for r in d['results']]==['gzip','flac','lzma'], d" "$OUT" \
    || fail "the JSON of a good run lacks the default baselines"
else
  fail "a good run failed"
fi
finish
