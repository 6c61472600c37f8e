#!/usr/bin/env python3
"""Reference fixtures for lmac's framework transformer (tests/data/framework/).

The model is written with the real dm-haiku, module for module as the paper's transformer.py builds it
(hk.Embed, a `MultiHeadDotProductAttention` module holding four bias-free hk.Linear, hk.LayerNorm, hk.Linear),
so the parameter names are the ones SPEC-LMIC.md section 7 lists; the script checks that they are.
The Haiku output is checked against an independent float64 NumPy restatement, and the float64 log-probs
(stored as float32 to keep the fixtures small; the rounding, ~1e-6, is far below the tests' 2e-4) are what
lmac is compared with.

Usage (from the repository root):
  /work/venv-ref/bin/python tools/make_framework_fixtures.py [--numpy1-python /work/venv-np1/bin/python]

  --numpy1-python  a Python with numpy<2, jax and dm-haiku (e.g. numpy 1.26.4, jax 0.4.30, dm-haiku 0.0.12):
                   it re-saves the same weights as jax arrays with np.savez, which gives the NumPy 1 pickle
                   globals (numpy.core.multiarray._reconstruct).
Inputs are real speech: the 8-bit reference conversion b = ((s >> 8) + 128) % 256 of a pocketsphinx-testdata
WAV, and s + 32768 for the 65536-symbol model.
"""

import argparse
import functools
import io
import os
import subprocess
import sys
import wave
import zipfile

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'tests', 'data', 'framework')
WAV = '/usr/share/pocketsphinx/test/data/librivox/sense_and_sensibility_01_austen_64kb-0870.wav'


# ----------------------------------------------------------------------------------------------------------
# The Haiku model, written as the paper's transformer.py writes it.

def haiku_model(vocab_size, embedding_dim, num_layers, num_heads, widening_factor):
  import haiku as hk
  import jax
  import jax.numpy as jnp

  class MultiHeadDotProductAttention(hk.Module):

    def __init__(self, num_heads, num_hiddens_per_head, name=None):
      super().__init__(name=name)
      self._num_heads = num_heads
      self._num_hiddens_per_head = num_hiddens_per_head

    def __call__(self, inputs_q, inputs_kv, mask=None):
      batch_size, sequence_length, embedding_size = inputs_q.shape
      num_hiddens = self._num_hiddens_per_head * self._num_heads
      q = hk.Linear(num_hiddens, with_bias=False)(inputs_q)
      k = hk.Linear(num_hiddens, with_bias=False)(inputs_kv)
      v = hk.Linear(num_hiddens, with_bias=False)(inputs_kv)
      new_shape = (batch_size, -1, self._num_heads, self._num_hiddens_per_head)
      q = jnp.reshape(q, new_shape)
      k = jnp.reshape(k, new_shape)
      v = jnp.reshape(v, new_shape)
      attention = jnp.einsum('bthd,bThd->bhtT', q, k)
      attention *= 1.0 / jnp.sqrt(self._num_hiddens_per_head)
      if mask is not None:
        attention = jnp.where(mask, attention, jnp.finfo(jnp.float32).min)
      normalized_attention = jax.nn.softmax(attention)
      output = jnp.einsum('bhtT,bThd->bthd', normalized_attention, v)
      output = jnp.reshape(output, (batch_size, sequence_length, num_hiddens))
      return hk.Linear(embedding_size, with_bias=False)(output)

  def layer_norm(x):
    return hk.LayerNorm(axis=-1, create_scale=True, create_offset=True)(x)

  def forward(targets):
    bos = jnp.zeros((targets.shape[0], 1), dtype=targets.dtype)
    inputs = jnp.concatenate([bos, targets], axis=1)[:, :-1]
    embed = hk.Embed(vocab_size=vocab_size, embed_dim=embedding_dim,
                     lookup_style=hk.EmbedLookupStyle.ARRAY_INDEX,
                     w_init=hk.initializers.TruncatedNormal(stddev=0.02))
    h = embed(inputs) * jnp.sqrt(embedding_dim)
    h = h + positions_f64(h.shape[1], embedding_dim)  # float64 NumPy, cast to float32 by JAX
    batch_size, sequence_length = h.shape[:2]
    mask = np.tril(np.ones((batch_size, 1, sequence_length, sequence_length)))
    for _ in range(num_layers):
      attn = MultiHeadDotProductAttention(num_heads, embedding_dim // num_heads)(h, h, mask=mask)
      a = layer_norm(h + attn)
      f = hk.Linear(embedding_dim * widening_factor)(a)
      f = jax.nn.gelu(f)
      f = hk.Linear(embedding_dim)(f)
      h = layer_norm(f + a)
    logits = hk.Linear(vocab_size)(h)
    return jax.nn.log_softmax(logits, axis=-1)

  return hk.transform(forward)


def positions_f64(length, d):
  freqs = np.arange(0, d + 1, 2)
  inv = 1e4 ** (-freqs / d)
  angle = np.einsum('i,j->ij', np.arange(length), inv)
  return np.concatenate([np.sin(angle), np.cos(angle)], axis=-1)[:, :d]


def expected_names(num_layers):
  names = {'embed/embeddings'}
  for l in range(num_layers):
    m = 'multi_head_dot_product_attention' + (f'_{l}' if l else '')
    names |= {f'{m}/linear{s}/w' for s in ('', '_1', '_2', '_3')}
    for i in (2 * l, 2 * l + 1):
      ln = 'layer_norm' + (f'_{i}' if i else '')
      lin = 'linear' + (f'_{i}' if i else '')
      names |= {f'{ln}/scale', f'{ln}/offset', f'{lin}/w', f'{lin}/b'}
  names |= {f'linear_{2 * num_layers}/w', f'linear_{2 * num_layers}/b'}
  return names


# ----------------------------------------------------------------------------------------------------------
# An independent float64 restatement of SPEC-LMIC.md section 7.

def numpy_log_probs(p, targets, num_layers, num_heads):
  p = {m: {k: np.asarray(v, np.float64) for k, v in d.items()} for m, d in p.items()}
  emb = p['embed']['embeddings']
  d = emb.shape[1]
  bsz, t = targets.shape
  inputs = np.concatenate([np.zeros((bsz, 1), np.int64), targets[:, :-1].astype(np.int64)], axis=1)
  h = emb[inputs] * np.sqrt(d) + positions_f64(t, d)

  def ln(x, m):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + 1e-5) * p[m]['scale'] + p[m]['offset']

  def name(base, i):
    return base + (f'_{i}' if i else '')

  dh = d // num_heads
  causal = np.tril(np.ones((t, t), bool))
  for l in range(num_layers):
    att = name('multi_head_dot_product_attention', l)
    q, k, v = (h @ p[f'{att}/{name("linear", i)}']['w'] for i in range(3))
    q, k, v = (x.reshape(bsz, t, num_heads, dh).transpose(0, 2, 1, 3) for x in (q, k, v))
    s = q @ k.transpose(0, 1, 3, 2) / np.sqrt(dh)
    s = np.where(causal, s, -np.inf)
    s = np.exp(s - s.max(-1, keepdims=True))
    s /= s.sum(-1, keepdims=True)
    o = (s @ v).transpose(0, 2, 1, 3).reshape(bsz, t, d) @ p[f'{att}/linear_3']['w']
    a = ln(h + o, name('layer_norm', 2 * l))
    f = a @ p[name('linear', 2 * l)]['w'] + p[name('linear', 2 * l)]['b']
    f = 0.5 * f * (1 + np.tanh(np.sqrt(2 / np.pi) * (f + 0.044715 * f ** 3)))
    f = f @ p[name('linear', 2 * l + 1)]['w'] + p[name('linear', 2 * l + 1)]['b']
    h = ln(f + a, name('layer_norm', 2 * l + 1))
  out = f'linear_{2 * num_layers}'
  logits = h @ p[out]['w'] + p[out]['b']
  mx = logits.max(-1, keepdims=True)
  return logits - mx - np.log(np.exp(logits - mx).sum(-1, keepdims=True))


# ----------------------------------------------------------------------------------------------------------

def speech_samples():
  with wave.open(WAV) as w:
    assert w.getsampwidth() == 2 and w.getnchannels() == 1
    return np.frombuffer(w.readframes(w.getnframes()), '<i2')


def to_bytes(s):
  return (((s.astype(np.int32) >> 8) + 128) % 256).astype(np.uint8)


def build(vocab, d, layers, heads, wf, seed, quantize=False):
  """Haiku params (jax arrays), perturbed so that every parameter matters and outputs are peaked."""
  import jax
  import jax.numpy as jnp
  model = haiku_model(vocab, d, layers, heads, wf)
  params = model.init(jax.random.PRNGKey(seed), np.zeros((1, 8), np.int32))
  names = {f'{m}/{k}' for m, dd in params.items() for k in dd}
  assert names == expected_names(layers), sorted(names ^ expected_names(layers))
  rng = np.random.default_rng(seed)
  out = f'linear_{2 * layers}'
  new = {}
  for m, dd in params.items():
    new[m] = {}
    for k, v in dd.items():
      v = np.asarray(v, np.float64)
      if m == 'embed':
        v = rng.normal(0, 0.3, v.shape)
      elif k == 'scale':
        v = 1 + 0.3 * rng.normal(size=v.shape)
      elif k in ('offset', 'b'):
        v = 0.2 * rng.normal(size=v.shape)
      elif m.startswith('multi_head'):
        v = v * 2.0
      if m == out and k == 'w':
        v = v * (6.0 if vocab == 256 else 12.0)
      if quantize:  # few distinct float32 values: deflate stores a 65536-symbol model in little room
        step = 1.0 if (m == out and k == 'w') else 0.25
        v = np.round(v / step) * step
      new[m][k] = jnp.asarray(v.astype(np.float32))
  return model, new


def check(model, params, targets, layers, heads, min_max_prob=0.5):
  import jax
  hk_lp = np.asarray(jax.jit(model.apply)(params, None, jnp_int(targets)), np.float64)
  np_lp = numpy_log_probs(params, targets, layers, heads)
  diff = np.abs(hk_lp - np_lp).max()
  maxp = np.exp(np_lp.max(-1)).mean()
  print(f'  haiku vs float64 numpy: max abs diff {diff:.2e}; mean max-prob {maxp:.3f}')
  assert diff < 1e-4, diff
  assert maxp > min_max_prob, maxp
  return np_lp


def jnp_int(x):
  import jax.numpy as jnp
  return jnp.asarray(x.astype(np.int32))


def flat(params):
  return {f'{m}/{k}': np.asarray(v) for m, d in params.items() for k, v in d.items()}


def main():
  ap = argparse.ArgumentParser()
  ap.add_argument('--numpy1-python', default='/work/venv-np1/bin/python')
  ap.add_argument('--resave-numpy1', nargs=2, metavar=('FLAT_NPZ', 'OUT_NPZ'), help=argparse.SUPPRESS)
  args = ap.parse_args()
  if args.resave_numpy1:  # runs under the numpy<2 interpreter
    import jax.numpy as jnp
    src = np.load(args.resave_numpy1[0])
    params = {}
    for key in src.files:
      m, k = key.rsplit('/', 1)
      params.setdefault(m, {})[k] = jnp.asarray(src[key])
    np.savez(args.resave_numpy1[1], **params)
    print(f'  numpy {np.__version__} wrote {args.resave_numpy1[1]}')
    return

  os.makedirs(OUT, exist_ok=True)
  samples = speech_samples()
  b = to_bytes(samples)

  # Model A: D=32, 2 layers, 8 heads (the default), widening 4, 256 symbols; three file forms.
  print('model A (D=32, L=2, H=8, wf=4, vocab 256)')
  model, params = build(256, 32, 2, 8, 4, seed=1)
  seqs = [b[20000:20064], b[31000:31150], b[52000:52300]]
  for i, s in enumerate(seqs):
    lp = check(model, params, s[None, :], 2, 8)[0]
    np.save(os.path.join(OUT, f'a_seq{i}.npy'), s)
    np.save(os.path.join(OUT, f'a_logprobs{i}.npy'), lp.astype(np.float32))
  np.savez(os.path.join(OUT, 'a_jax_numpy2.npz'), **params)  # exactly as train.py saves
  np.savez(os.path.join(OUT, 'a_flat.npz'), **flat(params))
  subprocess.run([args.numpy1_python, __file__, '--resave-numpy1', os.path.join(OUT, 'a_flat.npz'),
                  os.path.join(OUT, 'a_jax_numpy1.npz')], check=True)

  # Model B: 65536 symbols (one per 16-bit sample), D=8, 1 layer, 2 heads, widening 2; deflated npz.
  print('model B (D=8, L=1, H=2, wf=2, vocab 65536)')
  model, params = build(65536, 8, 1, 2, 2, seed=2, quantize=True)
  s16 = (samples.astype(np.int32) + 32768).astype(np.int64)
  seqs = np.stack([s16[40000:40100], s16[70000:70100]])
  lp = check(model, params, seqs, 1, 2, min_max_prob=0.3)  # 0.37 over 65536 symbols is peaked
  np.savez_compressed(os.path.join(OUT, 'b_vocab65536.npz'), **params)
  np.save(os.path.join(OUT, 'b_seqs.npy'), seqs.astype(np.uint16))
  actual = np.take_along_axis(lp, seqs[..., None], -1)[..., 0]
  np.save(os.path.join(OUT, 'b_actual_logprobs.npy'), actual)  # float64 [2, 100]
  np.save(os.path.join(OUT, 'b_row_1_99.npy'), lp[1, 99].astype(np.float32))  # one full row: seq 1, t=99

  # Tiny model T (D=8, L=1, H=2): the base of the hostile files, plus an lmac_bits entry.
  model, params = build(256, 8, 1, 2, 4, seed=3)
  t = flat(params)
  np.savez(os.path.join(OUT, 't_bits8.npz'), lmac_bits=np.array(8, np.int64), **t)
  np.savez(os.path.join(OUT, 'bad_missing_module.npz'),
           **{k: v for k, v in t.items() if not k.startswith('layer_norm_1/')})
  np.savez(os.path.join(OUT, 'bad_wrong_shape.npz'), **{**t, 'linear_1/b': t['linear_1/b'][:7]})
  good = io.BytesIO()
  np.savez(good, **t)
  data = good.getvalue()
  with open(os.path.join(OUT, 'bad_truncated.npz'), 'wb') as f:
    f.write(data[:len(data) // 2])
  # A pickle that would run os.system('echo pwned') if unpickled by Python. Bytes crafted by hand; never
  # loaded here. It sits in an npz entry whose .npy header says 'object array'.
  evil = b"\x80\x02cos\nsystem\nq\x00X\x0a\x00\x00\x00echo pwnedq\x01\x85q\x02Rq\x03."
  header = "{'descr': '|O', 'fortran_order': False, 'shape': (), }"
  header = header + ' ' * (118 - len(header)) + '\n'
  npy = b'\x93NUMPY\x01\x00' + len(header).to_bytes(2, 'little') + header.encode() + evil
  with zipfile.ZipFile(os.path.join(OUT, 'bad_forbidden_global.npz'), 'w') as z:
    z.writestr('embed.npy', npy)

  total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
  print(f'fixtures: {total / 1e6:.2f} MB in {OUT}')


if __name__ == '__main__':
  main()
