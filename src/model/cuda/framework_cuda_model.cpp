#include "model/cuda/framework_cuda_model.hpp"

#include <cmath>

#include "engine/cuda/cuda_attention.hpp"
#include "engine/cuda/cuda_gemm.hpp"
#include "engine/cuda/cuda_kernels.hpp"
#include "engine/cuda/cuda_upload.hpp"

namespace lmac {

using cuda::DeviceBuffer;
using cuda::DType;

namespace {

DeviceBuffer upload(cuda::Context& ctx, const float* v, size_t n, DType t, const char* what) {
  DeviceBuffer b(ctx, n * cuda::dtype_size(t), what);
  cuda::upload_f32(ctx, v, n, t, b.get());
  return b;
}

DeviceBuffer upload(cuda::Context& ctx, const std::vector<float>& v, const char* what) {
  return upload(ctx, v.data(), v.size(), DType::f32, what);
}

// Haiku's Linear weight is [in, out]; the GEMMs take [out, in].
DeviceBuffer upload_transposed(cuda::Context& ctx, const std::vector<float>& w, int in, int out, DType t,
                               const char* what) {
  std::vector<float> wt(w.size());
  for (int i = 0; i < in; ++i)
    for (int o = 0; o < out; ++o) wt[size_t(o) * in + i] = w[size_t(i) * out + o];
  return upload(ctx, wt.data(), wt.size(), t, what);
}

}  // namespace

FrameworkCudaModel::FrameworkCudaModel(std::unique_ptr<LanguageModel> cpu_model, int device, DType dtype)
    : CudaModel(std::move(cpu_model), device, dtype), framework_(dynamic_cast<const FrameworkModel&>(*cpu_)),
      c_(framework_.config()), profile_(ctx_, info().name) {
  const FrameworkWeights& w = framework_.weights();
  const int D = c_.embedding_dim, F = D * c_.widening_factor, V = c_.vocab_size;
  const size_t t = cuda::dtype_size(dtype);
  check_weights_fit((size_t(V) * D * 2 + size_t(c_.num_layers) * (4 * D * D + 2 * D * F)) * t);
  embed_ = upload(ctx_, w.embed.data(), w.embed.size(), dtype, "the symbol embeddings");
  for (const FrameworkLayer& lw : w.layers) {
    Layer l;
    l.w_qkv = upload_transposed(ctx_, lw.w_qkv, D, 3 * D, dtype, "a q|k|v projection");
    l.w_out = upload_transposed(ctx_, lw.w_out, D, D, dtype, "an attention output projection");
    l.w1 = upload_transposed(ctx_, lw.w1, D, F, dtype, "a feed-forward weight");
    l.w2 = upload_transposed(ctx_, lw.w2, F, D, dtype, "a feed-forward weight");
    l.b1 = upload(ctx_, lw.b1, "a feed-forward bias");
    l.b2 = upload(ctx_, lw.b2, "a feed-forward bias");
    l.ln1_scale = upload(ctx_, lw.ln1_scale, "a LayerNorm scale");
    l.ln1_offset = upload(ctx_, lw.ln1_offset, "a LayerNorm offset");
    l.ln2_scale = upload(ctx_, lw.ln2_scale, "a LayerNorm scale");
    l.ln2_offset = upload(ctx_, lw.ln2_offset, "a LayerNorm offset");
    layers_.push_back(std::move(l));
  }
  w_logits_ = upload_transposed(ctx_, w.w_logits, D, V, dtype, "the output layer");
  b_logits_ = upload(ctx_, w.b_logits, "the output bias");
  ctx_.synchronize();
}

size_t FrameworkCudaModel::activation_bytes_per_row() const {
  const size_t t = cuda::dtype_size(dtype_), D = c_.embedding_dim, F = D * c_.widening_factor, V = c_.vocab_size;
  return 4 + 3 * D * 4 /*h32, tmp32, a32*/ + t * (2 * D /*h_t, a_t*/ + 3 * D + D + F) + 4 * V;
}

void FrameworkCudaModel::allocate_activations(int rows) {
  const size_t R = size_t(rows), t = cuda::dtype_size(dtype_), D = c_.embedding_dim;
  const size_t F = D * c_.widening_factor, V = c_.vocab_size;
  const bool narrow = dtype_ != DType::f32;
  tokens_ = DeviceBuffer(ctx_, R * 4, "input symbols");
  h32_ = DeviceBuffer(ctx_, R * D * 4, "the residual stream");
  a32_ = DeviceBuffer(ctx_, R * D * 4, "the residual stream");
  tmp32_ = DeviceBuffer(ctx_, R * D * 4, "projection outputs");
  if (narrow) {
    h_t_ = DeviceBuffer(ctx_, R * D * t, "the residual stream");
    a_t_ = DeviceBuffer(ctx_, R * D * t, "the residual stream");
  }
  qkv_ = DeviceBuffer(ctx_, R * 3 * D * t, "queries, keys and values");
  att_ = DeviceBuffer(ctx_, R * D * t, "attention outputs");
  ff_ = DeviceBuffer(ctx_, R * F * t, "feed-forward activations");
  logits_ = DeviceBuffer(ctx_, R * V * 4, "logits");
}

void FrameworkCudaModel::release_activations() {
  for (DeviceBuffer* b : {&tokens_, &h32_, &h_t_, &qkv_, &att_, &tmp32_, &a32_, &a_t_, &ff_, &logits_}) b->reset();
}

void FrameworkCudaModel::prepare_positions(int length) {
  if (length == positions_length_) return;
  const int D = c_.embedding_dim;
  std::vector<float> table(size_t(length) * D);
  for (int p = 0; p < length; ++p) framework_position_row(p, D, &table[size_t(p) * D]);
  positions_ = upload(ctx_, table, "position encodings");
  positions_length_ = length;
}

void* FrameworkCudaModel::in_dtype(const DeviceBuffer& f32, const DeviceBuffer& narrow) const {
  return dtype_ == DType::f32 ? f32.get() : narrow.get();
}

void FrameworkCudaModel::run_pass(const uint32_t* symbols, int B, int T, float* out) {
  const int D = c_.embedding_dim, F = D * c_.widening_factor, V = c_.vocab_size, heads = c_.num_heads;
  const int R = B * T, hd = D / heads;
  const DType t = dtype_;
  const size_t ts = cuda::dtype_size(t);
  prepare_positions(T);
  // Inputs are the targets shifted right by one, with symbol 0 playing BOS.
  std::vector<int> inputs(static_cast<size_t>(R));
  for (int b = 0; b < B; ++b)
    for (int i = 0; i < T; ++i) {
      const size_t r = size_t(b) * T + i;
      const uint32_t target = symbols[r];
      framework_.check_symbol(target, b, i);
      inputs[r] = i == 0 ? 0 : int(symbols[r - 1]);
    }
  profile_.begin_pass();
  ctx_.to_device(tokens_.get(), inputs.data(), size_t(R) * 4);

  void* h_t = in_dtype(h32_, h_t_);
  void* a_t = in_dtype(a32_, a_t_);
  void* h_t_out = t == DType::f32 ? nullptr : h_t;  // f32: the LayerNorm's f32 output already is the GEMM input
  void* a_t_out = t == DType::f32 ? nullptr : a_t;
  cuda::embed_rows(ctx_, tokens_.as<int>(), embed_.get(), t, float(std::sqrt(double(D))), positions_.as<float>(), T,
                   h32_.as<float>(), h_t_out, R, D);
  profile_.mark("embed");
  for (const Layer& l : layers_) {
    cuda::linear(ctx_, h_t, l.w_qkv.get(), t, qkv_.get(), t, R, 3 * D, D);
    profile_.mark("gemm q|k|v");
    cuda::causal_attention(ctx_, qkv_.get(), qkv_.as<char>() + D * ts, qkv_.as<char>() + 2 * D * ts, 3 * D, 3 * D,
                           att_.get(), D, t, B, T, heads, heads, hd, float(1.0 / std::sqrt(double(hd))));
    profile_.mark("attention");
    cuda::linear(ctx_, att_.get(), l.w_out.get(), t, tmp32_.get(), DType::f32, R, D, D);
    profile_.mark("gemm out");
    // a = LayerNorm(h + attention)
    cuda::add_layer_norm(ctx_, tmp32_.as<float>(), nullptr, h32_.as<float>(), l.ln1_scale.as<float>(),
                         l.ln1_offset.as<float>(), a32_.as<float>(), a_t_out, t, R, D);
    profile_.mark("layer_norm");
    cuda::linear(ctx_, a_t, l.w1.get(), t, ff_.get(), t, R, F, D);
    profile_.mark("gemm ff1");
    cuda::bias_gelu(ctx_, ff_.get(), t, l.b1.as<float>(), R, F);
    profile_.mark("gelu");
    cuda::linear(ctx_, ff_.get(), l.w2.get(), t, tmp32_.get(), DType::f32, R, D, F);
    profile_.mark("gemm ff2");
    // h = LayerNorm((ff W2 + b2) + a)
    cuda::add_layer_norm(ctx_, tmp32_.as<float>(), l.b2.as<float>(), a32_.as<float>(), l.ln2_scale.as<float>(),
                         l.ln2_offset.as<float>(), h32_.as<float>(), h_t_out, t, R, D);
    profile_.mark("layer_norm");
  }
  cuda::linear(ctx_, h_t, w_logits_.get(), t, logits_.get(), DType::f32, R, V, D);
  cuda::log_softmax_rows(ctx_, logits_.as<float>(), b_logits_.as<float>(), R, V);
  profile_.mark("output");
  profile_.end_pass(size_t(R));
  deliver(logits_.get(), R, out);
}

}  // namespace lmac
