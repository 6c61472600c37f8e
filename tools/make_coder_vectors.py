#!/usr/bin/env python3
"""Reference vectors for lmac's arithmetic coder (tests/unit/coding/reference_vectors_test.cpp).

An independent restatement, in Python with NumPy float32, of the coder of "Language Modeling Is Compression"
(google-deepmind/language_modeling_is_compression: arithmetic_coder.py with base 2, precision 32, and
utils.normalize_pdf_for_arithmetic_coding / utils.bits_to_bytes). It follows the reference's digit-at-a-time loops
with Python integers, so it shares none of lmac's bit tricks. Float semantics are those of NumPy 2 (NEP 50), which
the SPEC's vectors were made with: the cumulative sum is float32 and left to right, and from the second symbol on
the interval width is an np.int64, so cumsum * width is computed in float64 (we do it in float64 throughout; for
the first symbol the width is 2^32 and both agree exactly).

The pdfs are built from integers only (exactly representable in float32), so that the C++ test can rebuild the
same float32 values without sharing any code with this script.

Usage: /work/venv-ref/bin/python tools/make_coder_vectors.py   (prints the vectors as C++ initialisers)
"""

import numpy as np

PRECISION = 32
EPS = np.finfo(np.float32).eps


def normalize(pdf):
  pdf = np.asarray(pdf, dtype=np.float32)
  pdf = pdf / np.cumsum(pdf)[-1]
  pdf = (1 - 2 * pdf.shape[0] * EPS) * pdf + EPS
  assert pdf.dtype == np.float32
  return pdf


def bounds(pdf, low, high):
  width = high - low + 1
  cdf = np.cumsum(np.insert(pdf, 0, np.float32(0)))  # float32, sequential
  assert cdf.dtype == np.float32
  q = (cdf.astype(np.float64) * np.float64(width)).astype(np.int64)
  if (q[1:] == q[:-1]).any():
    raise ValueError("zero-width symbol")
  if q[-1] > width:
    raise ValueError("pdf sums past 1")
  return [low + int(v) for v in q]


class Encoder:
  def __init__(self):
    self.low, self.high, self.carries, self.bits = 0, 2**PRECISION - 1, 0, []

  def encode(self, pdf, symbol):
    b = bounds(pdf, self.low, self.high)
    low_pre = self.low
    self.low, self.high = b[symbol], b[symbol + 1] - 1
    top = 2**(PRECISION - 1)
    while self.low // top == self.high // top:
      digit = self.low // top
      self.bits.append(digit)
      carry = (1 + digit - low_pre // top) % 2
      while self.carries > 0:
        self.bits.append(carry)
        self.carries -= 1
      self.low = (self.low % top) * 2
      self.high = (self.high % top) * 2 + 1
    quarter = 2**(PRECISION - 2)
    while self.low // quarter + 1 == self.high // quarter:
      self.carries += 1
      self.low = self.low - self.low % top + (self.low % quarter) * 2
      self.high = self.high - self.high % top + (self.high % quarter) * 2 + 1

  def terminate(self):
    self.bits.append(self.low // 2**(PRECISION - 1))
    self.bits.extend([1] * self.carries)
    bits = "".join(str(b) for b in self.bits)
    padded = bits.zfill((len(bits) + 7) // 8 * 8)
    data = bytes(int(padded[i:i + 8], 2) for i in range(0, len(padded), 8))
    return bits, data, len(padded) - len(bits)


class Lcg:
  """The same 32-bit LCG as the C++ test (Numerical Recipes constants)."""

  def __init__(self, seed):
    self.state = seed & 0xFFFFFFFF

  def next(self):
    self.state = (self.state * 1664525 + 1013904223) & 0xFFFFFFFF
    return self.state


def raw_weights(kind, alphabet, t, rng_value):
  """Integer weights (< 2^24, exact in float32) for step t. Mirrored in the C++ test."""
  i = np.arange(alphabet, dtype=np.int64)
  if kind == "mixed":
    w = (i * 131 + t * 71) % 257
    w = (w * w * w) % 100003
  elif kind == "peaked":
    w = np.ones(alphabet, dtype=np.int64)
    w[(t * 37) % alphabet] = 1 << 23
    w[(t * 53 + 1) % alphabet] += 1 << 20
  elif kind == "zeros":
    w = np.where((i * 7 + t) % 5 == 0, 0, (i % 13) + 1)
  elif kind == "uniform":
    w = np.ones(alphabet, dtype=np.int64)
  else:
    raise ValueError(kind)
  del rng_value
  return w.astype(np.float32)


def pick_symbol(kind, alphabet, t, rng, pdf):
  r = rng.next()
  if kind == "peaked" and r % 8 != 0:
    return (t * 37) % alphabet  # mostly the likely symbol: long runs of pending carries
  return (r >> 8) % alphabet


def make(kind, alphabet, length, seed):
  enc, rng = Encoder(), Lcg(seed)
  symbols = []
  for t in range(length):
    pdf = normalize(raw_weights(kind, alphabet, t, 0))
    s = pick_symbol(kind, alphabet, t, rng, pdf)
    symbols.append(s)
    enc.encode(pdf, s)
  bits, data, pad = enc.terminate()
  return symbols, bits, data, pad


def spec_vectors():
  uniform = normalize(np.full(256, 1 / 256, dtype=np.float32))
  enc = Encoder()
  for ch in b"Hello, world!":
    enc.encode(uniform, ch)
  a = enc.terminate()
  linear = normalize(np.array([(i + 1) / 32896.0 for i in range(256)], dtype=np.float32))
  enc = Encoder()
  for ch in b"The quick brown fox":
    enc.encode(linear, ch)
  b = enc.terminate()
  return a, b


def main():
  (bits_a, data_a, pad_a), (bits_b, data_b, pad_b) = spec_vectors()
  assert data_a.hex() == "4864dad5e3c9cc6ba9fca17fc4" and len(bits_a) == 104 and pad_a == 0, data_a.hex()
  assert data_b.hex() == "006f928196547bcb3a51c103b4c225fe7675ca41ec" and len(bits_b) == 162 and pad_b == 6
  print("// SPEC vectors A and B reproduced.")
  cases = [("mixed", 256, 300, 1), ("peaked", 256, 400, 2), ("zeros", 256, 200, 3), ("mixed", 128, 200, 4),
           ("peaked", 65536, 40, 5), ("mixed", 65536, 30, 6), ("mixed", 2, 500, 7), ("zeros", 3, 300, 8),
           ("uniform", 1000, 50, 9), ("peaked", 2, 300, 10)]
  for kind, alphabet, length, seed in cases:
    symbols, bits, data, pad = make(kind, alphabet, length, seed)
    print(f'    {{"{kind}", {alphabet}, {length}, {seed}u, {len(bits)}u, {pad}, "{data.hex()}"}},')


if __name__ == "__main__":
  main()
