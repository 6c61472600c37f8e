#!/usr/bin/env python3
"""Train lmac's default model: the paper's framework transformer (SPEC-LMIC.md section 7) on 8-bit audio.

The model is the framework transformer exactly as lmac's loader reads it: shift right with byte 0 as BOS,
embedding * sqrt(D), sinusoidal positions (float64, D/2 + 1 sine columns), post-LayerNorm blocks with bias-free
q/k/v/o, causal softmax, tanh-gelu FFN of width 4D, LayerNorm eps 1e-5, output linear with bias, no final
LayerNorm. Linear weights are held as [in, out], as Haiku stores them, so saving is a plain copy.

Training: random 2048-byte windows (the eval chunk size) that never span two files, AdamW, linear warm-up then
cosine decay, gradient clipping (post-LN training of this model diverged here without warm-up and clipping),
bf16 autocast, a fixed seed. With --steps 0 the step count is sized from a short timing run so that training
fits --time_budget seconds; the count actually used is recorded, and `--steps N` repeats it.

Outputs (in --out):
  <model>.npz            np.savez(path, lmac_bits=np.array(8), **params): params = {module: {param: float32}},
                         each entry a pickled 0-d object array holding a dict (the training script's form)
  <model>.json           configuration, data list, step count, timings, loss curve, final bits per byte
  default_model/         the CI fixture: a real speech excerpt (first chunks of a held-out codec2 file, as
                         `lmac symbols` streams it) and its per-symbol log-probs, computed in float64 PyTorch
                         from the saved float32 weights and checked against a float64 NumPy restatement

Data (--data): the folder tools/prepare_training_data.sh writes: train_*.bin/.tsv and heldout_*.bin/.tsv
(`.bin.xz` is decompressed when `.bin` is missing). Every --val_every-th file of each training source is the
validation split and is never trained on.

Usage:
  python3 tools/train_framework.py --data .traindata --out OUT [--steps N | --time_budget S]
  python3 tools/train_framework.py --fixture_from models/lmac-speech-8bit.npz --data .traindata --out OUT
"""

import argparse
import copy
import glob
import json
import lzma
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_framework_fixtures import numpy_log_probs, expected_names  # noqa: E402  (independent restatement)

VOCAB = 256
CHUNK = 2048


# ----------------------------------------------------------------------------------------------------------
# Data

def read_source(data_dir, name):
  """The streams of one source: (bytes as uint8, [(offset, length, rate, path)])."""
  path = os.path.join(data_dir, name + '.bin')
  if os.path.exists(path):
    with open(path, 'rb') as f:
      raw = f.read()
  else:
    with lzma.open(path + '.xz') as f:
      raw = f.read()
  files = []
  with open(os.path.join(data_dir, name + '.tsv')) as f:
    for line in f:
      off, length, rate, p = line.rstrip('\n').split('\t')
      files.append((int(off), int(length), int(rate), p))
  assert files[-1][0] + files[-1][1] == len(raw), f'{name}: index does not match the stream'
  return np.frombuffer(raw, np.uint8), files


def source_names(data_dir, prefix):
  names = {os.path.basename(p).split('.')[0] for p in glob.glob(os.path.join(data_dir, prefix + '*.tsv'))}
  return sorted(names)


class Corpus:
  """All bytes of several sources back to back, and the files as (global offset, length) spans."""

  def __init__(self):
    self.parts, self.spans, self.paths, self.size = [], [], [], 0

  def add(self, stream, files):
    base = self.size
    self.parts.append(stream)
    self.size += len(stream)
    for off, length, _, path in files:
      self.spans.append((base + off, length))
      self.paths.append(path)

  def array(self):
    return np.concatenate(self.parts) if self.parts else np.zeros(0, np.uint8)

  def chunks(self):
    """Eval-protocol chunks: consecutive 2048-byte pieces of each file, the trailing partial one dropped."""
    return [o + i * CHUNK for o, n in self.spans for i in range(n // CHUNK)]


def load_data(data_dir, val_every):
  train, val, info = Corpus(), Corpus(), {'train': [], 'heldout': []}
  for name in source_names(data_dir, 'train_'):
    stream, files = read_source(data_dir, name)
    keep = [f for i, f in enumerate(files) if i % val_every != val_every - 1]
    held = [f for i, f in enumerate(files) if i % val_every == val_every - 1]
    # Each corpus gets the whole stream; spans select its files.
    train.add(stream, keep)
    val.add(stream, held)
    info['train'].append({'source': name, 'files': len(files), 'train_files': len(keep), 'val_files': len(held),
                          'train_bytes': sum(f[1] for f in keep), 'val_bytes': sum(f[1] for f in held),
                          'sample_rates': sorted({f[2] for f in files})})
  heldout = {}
  for name in source_names(data_dir, 'heldout_'):
    stream, files = read_source(data_dir, name)
    c = Corpus()
    c.add(stream, files)
    heldout[name] = (c, files)
    info['heldout'].append({'source': name, 'files': [os.path.basename(f[3]) for f in files],
                            'bytes': sum(f[1] for f in files), 'sample_rates': sorted({f[2] for f in files})})
  return train, val, heldout, info


# ----------------------------------------------------------------------------------------------------------
# The model (SPEC-LMIC.md section 7)

def positions_f64(length, d):
  freqs = np.arange(0, d + 1, 2)
  inv = 1e4 ** (-freqs / d)
  angle = np.arange(length)[:, None] * inv[None, :]
  return np.concatenate([np.sin(angle), np.cos(angle)], axis=-1)[:, :d]


def module_name(base, i):
  return base + (f'_{i}' if i else '')


def haiku_names(num_layers):
  """[(module, param, shape-maker)] in Haiku's naming; shapes take D."""
  out = [('embed', 'embeddings', lambda d: (VOCAB, d))]
  for l in range(num_layers):
    att = module_name('multi_head_dot_product_attention', l)
    for s in ('linear', 'linear_1', 'linear_2', 'linear_3'):
      out.append((f'{att}/{s}', 'w', lambda d: (d, d)))
    out += [(module_name('layer_norm', 2 * l), 'scale', lambda d: (d,)),
            (module_name('layer_norm', 2 * l), 'offset', lambda d: (d,)),
            (module_name('linear', 2 * l), 'w', lambda d: (d, 4 * d)),
            (module_name('linear', 2 * l), 'b', lambda d: (4 * d,)),
            (module_name('linear', 2 * l + 1), 'w', lambda d: (4 * d, d)),
            (module_name('linear', 2 * l + 1), 'b', lambda d: (d,)),
            (module_name('layer_norm', 2 * l + 1), 'scale', lambda d: (d,)),
            (module_name('layer_norm', 2 * l + 1), 'offset', lambda d: (d,))]
  out += [(f'linear_{2 * num_layers}', 'w', lambda d: (d, VOCAB)), (f'linear_{2 * num_layers}', 'b', lambda d: (VOCAB,))]
  return out


class Framework(torch.nn.Module):
  """Parameters live in a flat ParameterDict keyed '<module>|<param>' (Haiku names; '/' is not allowed)."""

  def __init__(self, d, num_layers, num_heads, max_len=CHUNK):
    super().__init__()
    self.d, self.num_layers, self.num_heads = d, num_layers, num_heads
    self.p = torch.nn.ParameterDict()
    for m, k, shape in haiku_names(num_layers):
      self.p[f'{m}|{k}'] = torch.nn.Parameter(torch.empty(shape(d)))
    self.register_buffer('pos', torch.tensor(positions_f64(max_len, d)), persistent=False)  # float64
    self.reset_parameters()

  def reset_parameters(self):
    """Haiku's defaults: Linear w ~ truncated normal(1/sqrt(in)), biases 0, LayerNorm 1/0; the paper's
    embedding init (truncated normal, stddev 0.02)."""
    with torch.no_grad():
      for key, v in self.p.items():
        m, k = key.split('|')
        if m == 'embed':
          torch.nn.init.trunc_normal_(v, std=0.02, a=-0.04, b=0.04)
        elif k == 'w':
          std = 1 / math.sqrt(v.shape[0])
          torch.nn.init.trunc_normal_(v, std=std, a=-2 * std, b=2 * std)
        elif k == 'scale':
          v.fill_(1.0)
        else:
          v.zero_()

  def w(self, m, k='w'):
    return self.p[f'{m}|{k}']

  def forward(self, targets, exact=False):
    """Log-probs [B, T, 256] of targets[b, t] given targets[b, <t]. exact: the explicit softmax path with the
    float32-minimum mask, for float64 checks; otherwise fused causal attention (same function)."""
    bsz, t = targets.shape
    d, nh = self.d, self.num_heads
    dh = d // nh
    inputs = F.pad(targets[:, :-1], (1, 0))  # shift right, byte 0 is BOS
    dtype = self.w('embed', 'embeddings').dtype
    h = self.w('embed', 'embeddings')[inputs] * math.sqrt(d) + self.pos[:t].to(dtype)
    for l in range(self.num_layers):
      att = module_name('multi_head_dot_product_attention', l)
      q, k, v = (
          (h @ self.w(f'{att}/{s}')).view(bsz, t, nh, dh).transpose(1, 2) for s in ('linear', 'linear_1', 'linear_2'))
      if exact:
        s = (q @ k.transpose(-1, -2)) / math.sqrt(dh)
        causal = torch.ones(t, t, dtype=torch.bool, device=s.device).tril()
        s = torch.where(causal, s, torch.tensor(np.finfo(np.float32).min, dtype=s.dtype, device=s.device))
        o = torch.softmax(s, dim=-1) @ v
      else:
        o = F.scaled_dot_product_attention(q, k, v, is_causal=True)
      o = o.transpose(1, 2).reshape(bsz, t, d) @ self.w(f'{att}/linear_3')
      ln_a, ln_f = module_name('layer_norm', 2 * l), module_name('layer_norm', 2 * l + 1)
      a = F.layer_norm(h + o, (d,), self.w(ln_a, 'scale'), self.w(ln_a, 'offset'), eps=1e-5)
      f1, f2 = module_name('linear', 2 * l), module_name('linear', 2 * l + 1)
      f = F.gelu(a @ self.w(f1) + self.w(f1, 'b'), approximate='tanh')
      f = f @ self.w(f2) + self.w(f2, 'b')
      h = F.layer_norm(f + a, (d,), self.w(ln_f, 'scale'), self.w(ln_f, 'offset'), eps=1e-5)
    out = f'linear_{2 * self.num_layers}'
    # The output layer runs outside bf16 autocast: bf16 logits (steps of 1/8 at magnitude 16) blur the small
    # probability differences that the code length depends on.
    with torch.autocast(h.device.type, enabled=False):
      hw = h.float() if h.dtype == torch.bfloat16 else h
      logits = hw @ self.w(out) + self.w(out, 'b')
    return torch.log_softmax(logits, dim=-1)

  def haiku_params(self):
    """{module: {param: float32 numpy [in, out]}} as the training script saves them."""
    out = {}
    for key, v in self.p.items():
      m, k = key.split('|')
      out.setdefault(m, {})[k] = v.detach().float().cpu().numpy().copy()
    return out

  def load_haiku_params(self, params):
    with torch.no_grad():
      for key, v in self.p.items():
        m, k = key.split('|')
        v.copy_(torch.from_numpy(np.asarray(params[m][k])))


def count_params(model):
  return sum(v.numel() for v in model.p.values())


# ----------------------------------------------------------------------------------------------------------
# Training

def lr_at(step, cfg):
  warm = max(1, int(cfg.warmup_frac * cfg.steps))
  if step < warm:
    return cfg.lr * (step + 1) / warm
  frac = (step - warm) / max(1, cfg.steps - warm)
  return cfg.lr * (cfg.min_lr_frac + (1 - cfg.min_lr_frac) * 0.5 * (1 + math.cos(math.pi * frac)))


class WindowSampler:
  """Uniform random windows of `seq` bytes lying inside one training file, optionally augmented.

  Augmentation (level and noise floor; the training prompts are loud and clean, recorded speech in the wild
  is often quieter and hissy): a window's 8-bit bytes b are taken back to a 16-bit waveform
  s = 256 (b - 128) + u with u uniform in [0, 256) (the discarded low byte, unknown), scaled by a gain g,
  given white noise of standard deviation sigma, clipped to int16, and converted again with lmac's 8-bit rule
  (s >> 8) + 128. With g = 1 and sigma = 0 this returns b exactly. No speech is synthesised: every window is
  a real recording at another level, sometimes with a noise floor.
  """

  def __init__(self, corpus, data, seq, device, seed, aug=None):
    spans = [(o, n - seq + 1) for o, n in corpus.spans if n >= seq]
    self.offsets = torch.tensor([o for o, _ in spans], dtype=torch.int64, device=device)
    self.cum = torch.tensor(np.cumsum([c for _, c in spans]), dtype=torch.int64, device=device)
    self.data, self.seq, self.device = data, seq, device
    self.ar = torch.arange(seq, device=device)
    self.total = int(self.cum[-1])
    self.gen = torch.Generator(device=device)
    self.aug = aug
    self.seed(seed)

  def seed(self, seed):
    self.gen.manual_seed(seed)

  def batch(self, bsz):
    u = torch.randint(0, self.total, (bsz,), generator=self.gen, device=self.device)
    f = torch.searchsorted(self.cum, u, right=True)
    start = self.offsets[f] + u - torch.where(f > 0, self.cum[f - 1], torch.zeros_like(u))
    x = self.data[start[:, None] + self.ar].long()
    return self.augment(x) if self.aug else x

  def rand(self, *shape):
    return torch.rand(*shape, generator=self.gen, device=self.device)

  def augment(self, x):
    a, bsz = self.aug, x.shape[0]
    log_g = math.log(a['gain_min']) + (math.log(a['gain_max']) - math.log(a['gain_min'])) * self.rand(bsz)
    g = torch.where(self.rand(bsz) < a['p_keep'], torch.ones(bsz, device=self.device), log_g.exp())
    log_n = math.log(a['noise_min']) + (math.log(a['noise_max']) - math.log(a['noise_min'])) * self.rand(bsz)
    sigma = torch.where(self.rand(bsz) < a['p_noise'], log_n.exp(), torch.zeros(bsz, device=self.device))
    sigma = torch.where(g == 1, torch.zeros_like(sigma), sigma)  # kept windows stay exact
    s = ((x - 128).float() * 256 + self.rand(*x.shape) * 256) * g[:, None]
    s = s + torch.randn(x.shape, generator=self.gen, device=self.device) * sigma[:, None]
    s = s.clamp(-32768, 32767)
    return (torch.floor(s / 256).long() + 128).clamp(0, 255)


@torch.no_grad()
def code_length_bits(model, data, starts, device, batch=64, amp=False):
  """Sum over chunks of -log2 p(actual byte), each chunk coded alone (the eval protocol)."""
  total = 0.0
  for i in range(0, len(starts), batch):
    s = torch.tensor(starts[i:i + batch], dtype=torch.int64, device=device)
    x = data[s[:, None] + torch.arange(CHUNK, device=device)].long()
    with torch.autocast('cuda', dtype=torch.bfloat16, enabled=amp):
      lp = model(x)
    total += -lp.gather(-1, x[..., None]).double().sum().item()
  return total / math.log(2)


def bits_per_byte(model, data, starts, device, amp=False):
  if not starts:
    return None
  return code_length_bits(model, data, starts, device, amp=amp) / (len(starts) * CHUNK)


def train(cfg):
  torch.manual_seed(cfg.seed)
  np.random.seed(cfg.seed)
  device = 'cuda' if torch.cuda.is_available() else 'cpu'
  torch.backends.cuda.matmul.allow_tf32 = True
  torch.backends.cudnn.allow_tf32 = True
  t_start = time.time()

  train_c, val_c, heldout, data_info = load_data(cfg.data, cfg.val_every)
  # One device array holding every byte; corpora index into it.
  streams = {}
  all_parts, base = [], 0
  for c in [train_c] + [h[0] for h in heldout.values()]:
    arr = c.array()
    streams[id(c)] = base
    all_parts.append(arr)
    base += len(arr)
  data = torch.from_numpy(np.concatenate(all_parts)).to(device)
  shift_h = {name: streams[id(c)] for name, (c, _) in heldout.items()}
  # val_c shares the training streams (same bytes, other files).
  t_data = time.time() - t_start
  print(f'data: {train_c.size} bytes of training streams, {len(train_c.spans)} training files, '
        f'{len(val_c.spans)} validation files; loaded in {t_data:.1f} s', flush=True)

  model = Framework(cfg.d, cfg.layers, cfg.heads).to(device)
  n_params = count_params(model)
  print(f'model: D={cfg.d} L={cfg.layers} H={cfg.heads}: {n_params} parameters', flush=True)
  decay = [v for k, v in model.p.items() if k.endswith('|w')]
  no_decay = [v for k, v in model.p.items() if not k.endswith('|w')]
  opt_kwargs = dict(lr=cfg.lr, betas=(cfg.beta1, cfg.beta2), eps=1e-8)
  if device == 'cuda':
    opt_kwargs['fused'] = True
  opt = torch.optim.AdamW([{'params': decay, 'weight_decay': cfg.wd}, {'params': no_decay, 'weight_decay': 0.0}],
                          **opt_kwargs)
  aug = None
  if cfg.augment:
    aug = {'p_keep': cfg.aug_p_keep, 'gain_min': cfg.aug_gain_min, 'gain_max': cfg.aug_gain_max,
           'p_noise': cfg.aug_p_noise, 'noise_min': cfg.aug_noise_min, 'noise_max': cfg.aug_noise_max}
  sampler = WindowSampler(train_c, data, cfg.seq, device, cfg.seed, aug)
  amp = device == 'cuda'

  def loss_fn(x):
    with torch.autocast('cuda', dtype=torch.bfloat16, enabled=amp):
      lp = model(x)
    return -lp.gather(-1, x[..., None]).mean()

  step_loss = loss_fn
  compiled = False
  if cfg.compile and device == 'cuda':
    try:
      step_loss = torch.compile(loss_fn)
      compiled = True
    except Exception as e:  # noqa: BLE001  (eager still trains the same model)
      print(f'torch.compile unavailable ({e}); eager', flush=True)

  def one_step(lr):
    for g in opt.param_groups:
      g['lr'] = lr
    x = sampler.batch(cfg.batch)
    loss = step_loss(x)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    gnorm = torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.clip)
    opt.step()
    return loss.detach(), gnorm.detach()

  # Timing run (also compiles): its updates are undone, so training starts from the seeded init.
  t0 = time.time()
  init_state = copy.deepcopy(model.state_dict())
  try:
    for _ in range(3):
      one_step(1e-9)
  except Exception as e:  # noqa: BLE001
    if not compiled:
      raise
    print(f'torch.compile failed at run time ({type(e).__name__}: {e}); eager', flush=True)
    step_loss, compiled = loss_fn, False
    for _ in range(3):
      one_step(1e-9)
  torch.cuda.synchronize() if device == 'cuda' else None
  t_compile = time.time() - t0
  t0 = time.time()
  n_time = 10
  for _ in range(n_time):
    one_step(1e-9)
  torch.cuda.synchronize() if device == 'cuda' else None
  step_s = (time.time() - t0) / n_time
  model.load_state_dict(init_state)
  opt.state.clear()
  sampler.seed(cfg.seed)
  if cfg.steps <= 0:
    cfg.steps = max(10, int(cfg.time_budget / (step_s * 1.04)))  # 4% for the periodic validation
  print(f'warm-up/compile {t_compile:.1f} s (compiled={compiled}); {step_s * 1000:.1f} ms/step; '
        f'{cfg.steps} steps of {cfg.batch}x{cfg.seq}', flush=True)

  val_chunks = val_c.chunks()
  rng = np.random.default_rng(cfg.seed)
  val_probe = sorted(rng.choice(val_chunks, size=min(cfg.val_probe, len(val_chunks)), replace=False).tolist())
  # Held-out probes are recorded for the curve only; the kept checkpoint is chosen on the validation split.
  heldout_probe = {}
  for name, (c, _) in heldout.items():
    ch = [shift_h[name] + o for o in c.chunks()]
    heldout_probe[name] = sorted(rng.choice(ch, size=min(cfg.val_probe, len(ch)), replace=False).tolist())
  curve = {'step': [], 'train_loss_bits': [], 'lr': [], 'grad_norm': [], 'val_step': [], 'val_bits': [],
           **{f'{name}_bits': [] for name in heldout}}
  best = {'val_bits': float('inf'), 'step': 0, 'state': None}
  acc_loss, acc_n = torch.zeros((), device=device), 0
  t_train = time.time()
  for step in range(cfg.steps):
    lr = lr_at(step, cfg)
    loss, gnorm = one_step(lr)
    acc_loss += loss
    acc_n += 1
    if (step + 1) % cfg.log_every == 0 or step == cfg.steps - 1:
      lb = acc_loss.item() / acc_n / math.log(2)
      if not math.isfinite(lb):
        raise SystemExit(f'loss is not finite at step {step + 1}')
      curve['step'].append(step + 1)
      curve['train_loss_bits'].append(lb)
      curve['lr'].append(lr)
      curve['grad_norm'].append(float(gnorm))
      acc_loss.zero_()
      acc_n = 0
    if (step + 1) % cfg.val_every_steps == 0 or step == cfg.steps - 1:
      model.eval()
      vb = bits_per_byte(model, data, val_probe, device, amp=amp)
      hb = {name: bits_per_byte(model, data, pr, device, amp=amp) for name, pr in heldout_probe.items()}
      model.train()
      curve['val_step'].append(step + 1)
      curve['val_bits'].append(vb)
      for name, b in hb.items():
        curve[f'{name}_bits'].append(b)
      if vb < best['val_bits']:
        best = {'val_bits': vb, 'step': step + 1,
                'state': {k: v.detach().clone() for k, v in model.state_dict().items()}}
      print(f'step {step + 1}/{cfg.steps}  lr {lr:.2e}  train {curve["train_loss_bits"][-1]:.4f} bits/byte  '
            f'val {vb:.4f}  ' + '  '.join(f'{n[8:]} {b:.4f}' for n, b in hb.items()) +
            f'  |g| {float(gnorm):.3f}  {time.time() - t_train:.0f} s', flush=True)
  torch.cuda.synchronize() if device == 'cuda' else None
  t_train = time.time() - t_train
  # Post-LN training can still blow up late; keep the checkpoint with the best validation probe.
  if best['state'] is not None and best['step'] != cfg.steps:
    print(f'keeping step {best["step"]} (validation probe {best["val_bits"]:.4f} bits/byte)', flush=True)
    model.load_state_dict(best['state'])

  # Final numbers in float32 (no autocast, no TF32): what lmac's float32 CPU engine computes.
  t0 = time.time()
  torch.backends.cuda.matmul.allow_tf32 = False
  torch.backends.cudnn.allow_tf32 = False
  model.eval()
  train_chunks = train_c.chunks()
  train_probe = sorted(rng.choice(train_chunks, size=min(cfg.final_train_chunks, len(train_chunks)),
                                  replace=False).tolist())
  final = {'train_bits_per_byte': bits_per_byte(model, data, train_probe, device),
           'train_chunks': len(train_probe),
           'val_bits_per_byte': bits_per_byte(model, data, val_chunks, device),
           'val_chunks': len(val_chunks), 'heldout': {}}
  for name, (c, files) in heldout.items():
    per_file = []
    for (o, n), (_, _, rate, path) in zip(c.spans, files):
      starts = [shift_h[name] + o + i * CHUNK for i in range(n // CHUNK)]
      if starts:
        bits = code_length_bits(model, data, starts, device)
        per_file.append({'file': os.path.basename(path), 'rate': rate, 'chunks': len(starts), 'bits': bits})
    raw = sum(f['chunks'] for f in per_file) * CHUNK
    bits = sum(f['bits'] for f in per_file)
    final['heldout'][name] = {'bits_per_byte': bits / raw if raw else None, 'raw_bytes': raw,
                              'ideal_ratio': bits / 8 / raw if raw else None, 'per_file': per_file}
  t_eval = time.time() - t0
  print(json.dumps({k: v for k, v in final.items() if k != 'heldout'}), flush=True)
  for name, h in final['heldout'].items():
    print(f'{name}: {h["bits_per_byte"]:.4f} bits/byte over {h["raw_bytes"]} bytes '
          f'(ideal chunked ratio {100 * h["ideal_ratio"]:.2f}%)', flush=True)

  model_cpu = Framework(cfg.d, cfg.layers, cfg.heads)
  model_cpu.load_haiku_params(model.haiku_params())
  log = {
      'config': {k: v for k, v in vars(cfg).items()},
      'architecture': {'vocab': VOCAB, 'embedding_dim': cfg.d, 'num_layers': cfg.layers, 'num_heads': cfg.heads,
                       'widening_factor': 4, 'parameters': n_params, 'spec': 'SPEC-LMIC.md section 7'},
      'data': data_info,
      'device': torch.cuda.get_device_name() if device == 'cuda' else 'cpu',
      'torch': torch.__version__, 'numpy': np.__version__,
      'timings_s': {'data_load': t_data, 'compile_and_warmup': t_compile, 'step': step_s, 'train': t_train,
                    'final_eval': t_eval},
      'compiled': compiled, 'steps': cfg.steps, 'kept_step': best['step'] or cfg.steps,
      'tokens_seen': cfg.steps * cfg.batch * cfg.seq,
      'curve': curve, 'final': final,
  }
  return model_cpu, log, heldout


# ----------------------------------------------------------------------------------------------------------
# Saving and the CI fixture

def save_npz(path, model):
  params = model.haiku_params()
  names = {f'{m}/{k}' for m, d in params.items() for k in d}
  assert names == expected_names(model.num_layers), sorted(names ^ expected_names(model.num_layers))
  np.savez(path, lmac_bits=np.array(8, np.int64), **params)
  # Round trip: what a user's np.load sees.
  z = np.load(path, allow_pickle=True)
  assert int(z['lmac_bits']) == 8
  for m, d in params.items():
    got = z[m].item()
    for k, v in d.items():
      assert got[k].dtype == np.float32 and np.array_equal(got[k], v), f'{m}/{k}'
  return params


def make_fixture(params, cfg, heldout, out_dir):
  """Float64 per-symbol log-probs of the first chunks of a held-out codec2 file, from the saved weights."""
  c, files = heldout['heldout_codec2_8k']
  idx = [i for i, f in enumerate(files) if os.path.basename(f[3]) == cfg.fixture_file]
  assert idx, f'{cfg.fixture_file} is not among the held-out codec2 files'
  off, length, rate, path = files[idx[0]]
  n = cfg.fixture_chunks * CHUNK
  assert length >= n and rate == 8000
  excerpt = c.array()[off:off + n].copy()
  seqs = excerpt.reshape(cfg.fixture_chunks, CHUNK)

  m64 = Framework(cfg.d, cfg.layers, cfg.heads).double()
  m64.load_haiku_params({m: {k: v.astype(np.float64) for k, v in d.items()} for m, d in params.items()})
  x = torch.from_numpy(seqs.astype(np.int64))
  with torch.no_grad():
    lp = m64(x, exact=True).numpy()
    lp_fused = m64(x).numpy()
  actual = np.take_along_axis(lp, seqs[..., None].astype(np.int64), -1)[..., 0]  # [chunks, 2048] nats

  # Independent float64 NumPy restatement (tools/make_framework_fixtures.py) on the first chunk.
  ref = numpy_log_probs(params, seqs[:1], cfg.layers, cfg.heads)
  err = float(np.abs(ref - lp[:1]).max())
  err_fused = float(np.abs(lp_fused - lp).max())
  assert err < 1e-8, f'torch float64 vs numpy float64: {err}'
  assert err_fused < 1e-6, f'fused vs explicit attention: {err_fused}'

  os.makedirs(out_dir, exist_ok=True)
  with open(os.path.join(out_dir, 'excerpt_8bit.bin'), 'wb') as f:
    f.write(excerpt.tobytes())
  np.save(os.path.join(out_dir, 'actual_logprobs.npy'), actual)  # float64 [chunks, 2048]
  bits = float(-actual.sum() / math.log(2))
  meta = {'source': f'codec2-examples {cfg.fixture_file} (8 kHz, 16-bit), first {n} samples',
          'symbols': 'lmac symbols --bits 8 (b = ((s >> 8) + 128) mod 256)', 'chunks': cfg.fixture_chunks,
          'chunk_size': CHUNK, 'code_length_bits': bits, 'code_length_nats': float(-actual.sum()),
          'mean_nats_per_symbol': float(-actual.mean()),
          'per_chunk_bits': (-actual.sum(1) / math.log(2)).tolist(),
          'check_torch_vs_numpy_max_abs_nats': err, 'check_fused_vs_explicit_max_abs_nats': err_fused,
          'precision': 'float64 PyTorch forward of the float32 weights saved in the npz'}
  with open(os.path.join(out_dir, 'fixture.json'), 'w') as f:
    json.dump(meta, f, indent=1)
  print(f'fixture: {cfg.fixture_file} x {cfg.fixture_chunks} chunks: {bits:.1f} bits '
        f'({bits / n:.4f} bits/byte); torch-vs-numpy {err:.2e}', flush=True)
  return meta


def main():
  ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  ap.add_argument('--data', required=True)
  ap.add_argument('--out', required=True)
  ap.add_argument('--name', default='lmac-speech-8bit')
  ap.add_argument('--d', type=int, default=256)
  ap.add_argument('--layers', type=int, default=4)
  ap.add_argument('--heads', type=int, default=8)
  ap.add_argument('--seq', type=int, default=CHUNK)
  ap.add_argument('--batch', type=int, default=128)
  ap.add_argument('--lr', type=float, default=3e-4)
  ap.add_argument('--min_lr_frac', type=float, default=0.05)
  ap.add_argument('--warmup_frac', type=float, default=0.06)
  ap.add_argument('--beta1', type=float, default=0.9)
  ap.add_argument('--beta2', type=float, default=0.95)
  ap.add_argument('--wd', type=float, default=0.1)
  ap.add_argument('--clip', type=float, default=1.0)
  ap.add_argument('--steps', type=int, default=0, help='0: as many as fit --time_budget')
  ap.add_argument('--time_budget', type=float, default=340.0, help='seconds of training when --steps is 0')
  ap.add_argument('--seed', type=int, default=20240531)
  ap.add_argument('--val_every', type=int, default=20, help='every N-th file of each source is validation')
  ap.add_argument('--val_probe', type=int, default=256, help='validation chunks scored during training')
  ap.add_argument('--val_every_steps', type=int, default=200)
  ap.add_argument('--log_every', type=int, default=25)
  ap.add_argument('--final_train_chunks', type=int, default=2048)
  ap.add_argument('--compile', type=int, default=1)
  ap.add_argument('--augment', type=int, default=1, help='level and noise-floor augmentation (WindowSampler)')
  ap.add_argument('--aug_p_keep', type=float, default=0.25, help='share of windows left exactly as recorded')
  ap.add_argument('--aug_gain_min', type=float, default=0.1)
  ap.add_argument('--aug_gain_max', type=float, default=1.3)
  ap.add_argument('--aug_p_noise', type=float, default=0.3, help='share of rescaled windows given a noise floor')
  ap.add_argument('--aug_noise_min', type=float, default=4.0, help='noise std, 16-bit sample units')
  ap.add_argument('--aug_noise_max', type=float, default=256.0)
  ap.add_argument('--fixture_file', default='hts1a.wav')
  ap.add_argument('--fixture_chunks', type=int, default=4)
  ap.add_argument('--fixture_from', help='only recompute the CI fixture from this saved npz')
  cfg = ap.parse_args()
  os.makedirs(cfg.out, exist_ok=True)

  if cfg.fixture_from:
    z = np.load(cfg.fixture_from, allow_pickle=True)
    params = {k: z[k].item() for k in z.files if k != 'lmac_bits'}
    _, _, heldout, _ = load_data(cfg.data, cfg.val_every)
    make_fixture(params, cfg, heldout, os.path.join(cfg.out, 'default_model'))
    return

  model, log, heldout = train(cfg)
  path = os.path.join(cfg.out, cfg.name + '.npz')
  params = save_npz(path, model)
  log['npz_bytes'] = os.path.getsize(path)
  log_path = os.path.join(cfg.out, cfg.name + '.json')
  with open(log_path, 'w') as f:  # written before the fixture too, so that a failure there loses nothing
    json.dump(log, f, indent=1)
  log['fixture'] = make_fixture(params, cfg, heldout, os.path.join(cfg.out, 'default_model'))
  with open(log_path, 'w') as f:
    json.dump(log, f, indent=1)
  print(f'wrote {path} ({log["npz_bytes"]} bytes) and {cfg.name}.json', flush=True)


if __name__ == '__main__':
  main()
