# Helpers for the end-to-end tests: each test script is run as `bash script.sh LMAC TESTS_DIR`.
set -u
LMAC=$1
TESTS_DIR=$2
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
SPEECH_DIR=/usr/share/pocketsphinx/test/data/librivox
failures=0

fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# expect_error NAME EXPECTED_SUBSTRING -- ARGS...: lmac must exit non-zero and say EXPECTED on stderr.
expect_error() {
  local name=$1 expected=$2; shift 3
  local out rc
  out=$("$LMAC" "$@" 2>&1 >/dev/null); rc=$?
  if [ $rc -eq 0 ]; then fail "$name: exit code 0 (expected an error)"; return; fi
  if [ $rc -ge 128 ]; then fail "$name: crashed with exit code $rc: $out"; return; fi
  if ! grep -qF -- "$expected" <<<"$out"; then fail "$name: message lacks '$expected': $out"; return; fi
  echo "ok: $name ($out)"
}

finish() {
  if [ $failures -ne 0 ]; then echo "$failures failure(s)"; exit 1; fi
  echo "all passed"
}
