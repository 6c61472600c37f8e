#include "model/cuda/llama_cuda_model.hpp"

#include <cmath>

#include "engine/cuda/cuda_attention.hpp"
#include "engine/cuda/cuda_gemm.hpp"
#include "engine/cuda/cuda_kernels.hpp"
#include "engine/cuda/cuda_profile.hpp"
#include "engine/cuda/cuda_upload.hpp"
#include "model/llama_rope.hpp"

namespace lmac {

using cuda::DeviceBuffer;
using cuda::DType;

namespace {

char* byte_offset(const DeviceBuffer& b, size_t bytes) { return b.as<char>() + bytes; }

DeviceBuffer upload_vector(cuda::Context& ctx, const std::vector<float>& v, const char* what) {
  DeviceBuffer b(ctx, v.size() * 4, what);
  cuda::upload_f32(ctx, v.data(), v.size(), DType::f32, b.get());
  return b;
}

// Stacks matrices with the same number of columns into one device matrix, in order.
DeviceBuffer upload_stacked(cuda::Context& ctx, std::initializer_list<const WeightMatrix*> parts, DType t,
                            const char* what) {
  size_t rows = 0;
  for (const WeightMatrix* w : parts) rows += size_t(w->rows);
  DeviceBuffer b(ctx, rows * size_t((*parts.begin())->cols) * cuda::dtype_size(t), what);
  size_t offset = 0;
  for (const WeightMatrix* w : parts) {
    cuda::upload_weight(ctx, *w, t, byte_offset(b, offset));
    offset += cuda::matrix_bytes(w->rows, w->cols, t);
  }
  return b;
}

}  // namespace

LlamaCudaModel::LlamaCudaModel(std::unique_ptr<LanguageModel> cpu_model, int device, DType dtype)
    : CudaModel(std::move(cpu_model), device, dtype), llama_(dynamic_cast<const LlamaModel&>(*cpu_)),
      c_(llama_.weights().config), profile_(ctx_, info().name) {
  const LlamaWeights& w = llama_.weights();
  const int D = c_.hidden_size, F = c_.intermediate_size, A = alphabet_size();
  q_dim_ = c_.num_attention_heads * c_.head_dim;
  kv_dim_ = c_.num_key_value_heads * c_.head_dim;
  qkv_dim_ = q_dim_ + 2 * kv_dim_;
  // bf16 has f32's range, so the residual can live in it as transformers keeps it, halving the norms' reads and
  // the o/down GEMMs' accumulate traffic; fp16's range is too narrow for a residual stream, so fp16 keeps f32.
  resid_t_ = dtype == DType::bf16 ? DType::bf16 : DType::f32;
  const size_t t = cuda::dtype_size(dtype);
  // Only the embedding rows are needed, but a token can be any of them; the output projection is A rows.
  const size_t per_layer = (size_t(qkv_dim_) * D + size_t(D) * q_dim_ + 3 * size_t(F) * D) * t + 2 * size_t(D) * 4;
  check_weights_fit(size_t(w.embed.rows) * D * t + size_t(A) * D * t + per_layer * c_.num_hidden_layers);

  embed_ = DeviceBuffer(ctx_, cuda::matrix_bytes(w.embed.rows, D, dtype), "the token embeddings");
  cuda::upload_weight(ctx_, w.embed, dtype, embed_.get());
  for (const LlamaLayerWeights& lw : w.layers) {
    Layer l;
    l.attn_norm = upload_vector(ctx_, lw.attn_norm, "an RMSNorm scale");
    l.mlp_norm = upload_vector(ctx_, lw.mlp_norm, "an RMSNorm scale");
    l.wqkv = upload_stacked(ctx_, {&lw.q, &lw.k, &lw.v}, dtype, "a q|k|v projection");
    l.wo = upload_stacked(ctx_, {&lw.o}, dtype, "an output projection");
    l.wgu = upload_stacked(ctx_, {&lw.gate, &lw.up}, dtype, "a gate|up projection");
    l.wdown = upload_stacked(ctx_, {&lw.down}, dtype, "a down projection");
    layers_.push_back(std::move(l));
  }
  final_norm_ = upload_vector(ctx_, w.final_norm, "the final RMSNorm scale");
  out_rows_ = DeviceBuffer(ctx_, cuda::matrix_bytes(A, D, dtype), "the byte-token output rows");
  cuda::upload_f32(ctx_, w.output_rows.data(), w.output_rows.size(), dtype, out_rows_.get());
  ctx_.synchronize();
}

size_t LlamaCudaModel::activation_bytes_per_row() const {
  const size_t t = cuda::dtype_size(dtype_);
  const size_t D = c_.hidden_size, F = c_.intermediate_size, A = alphabet_size();
  return 4 /*token*/ + cuda::dtype_size(resid_t_) * D + t * (D + qkv_dim_ + q_dim_ + 3 * F) + 4 * A /*logits*/;
}

void LlamaCudaModel::allocate_activations(int rows) {
  const size_t R = size_t(rows), t = cuda::dtype_size(dtype_);
  const size_t D = c_.hidden_size, F = c_.intermediate_size, A = alphabet_size();
  tokens_ = DeviceBuffer(ctx_, R * 4, "input tokens");
  resid_ = DeviceBuffer(ctx_, R * D * cuda::dtype_size(resid_t_), "the residual stream");
  xn_ = DeviceBuffer(ctx_, R * D * t, "normalised activations");
  qkv_ = DeviceBuffer(ctx_, R * qkv_dim_ * t, "queries, keys and values");
  att_ = DeviceBuffer(ctx_, R * q_dim_ * t, "attention outputs");
  gu_ = DeviceBuffer(ctx_, R * 2 * F * t, "gate and up projections");
  act_ = DeviceBuffer(ctx_, R * F * t, "SwiGLU outputs");
  logits_ = DeviceBuffer(ctx_, R * A * 4, "byte-token logits");
}

void LlamaCudaModel::release_activations() {
  for (DeviceBuffer* b : {&tokens_, &resid_, &xn_, &qkv_, &att_, &gu_, &act_, &logits_}) b->reset();
}

void LlamaCudaModel::prepare_rope(int length) {
  if (length == rope_length_) return;
  const int half = c_.head_dim / 2;
  std::vector<float> cos_table(size_t(length) * half), sin_table(cos_table.size());
  for (int p = 0; p < length; ++p)
    rope_angles(llama_.weights().inv_freq, p, &cos_table[size_t(p) * half], &sin_table[size_t(p) * half]);
  rope_cos_ = upload_vector(ctx_, cos_table, "RoPE cosines");
  rope_sin_ = upload_vector(ctx_, sin_table, "RoPE sines");
  rope_length_ = length;
}

void LlamaCudaModel::run_pass(const uint32_t* symbols, int B, int T, float* out) {
  const int D = c_.hidden_size, F = c_.intermediate_size, H = c_.num_attention_heads, KV = c_.num_key_value_heads;
  const int hd = c_.head_dim, A = alphabet_size(), R = B * T;
  const DType t = dtype_;
  const size_t ts = cuda::dtype_size(t);
  const float eps = float(c_.rms_norm_eps);
  prepare_rope(T);
  const std::vector<int> tokens = llama_.input_tokens({symbols, size_t(R)}, B, T);
  profile_.begin_pass();
  ctx_.to_device(tokens_.get(), tokens.data(), size_t(R) * 4);

  const DType rt = resid_t_;
  const bool f32_resid = rt == DType::f32;
  cuda::embed_rows(ctx_, tokens_.as<int>(), embed_.get(), t, 1.0f, nullptr, T,
                   f32_resid ? resid_.as<float>() : nullptr, f32_resid ? nullptr : resid_.get(), R, D);
  profile_.mark("embed");
  for (const Layer& l : layers_) {
    // h += o_proj(attention(rope(q), rope(k), v)) of RMSNorm(h)
    cuda::rms_norm(ctx_, resid_.get(), rt, l.attn_norm.as<float>(), eps, xn_.get(), t, R, D);
    profile_.mark("rms_norm");
    cuda::linear(ctx_, xn_.get(), l.wqkv.get(), t, qkv_.get(), t, R, qkv_dim_, D);
    profile_.mark("gemm q|k|v");
    cuda::rope(ctx_, qkv_.get(), t, R, qkv_dim_, H + KV, hd, rope_cos_.as<float>(), rope_sin_.as<float>(), T);
    profile_.mark("rope");
    cuda::causal_attention(ctx_, qkv_.get(), byte_offset(qkv_, q_dim_ * ts), byte_offset(qkv_, (q_dim_ + kv_dim_) * ts),
                           qkv_dim_, qkv_dim_, att_.get(), q_dim_, t, B, T, H, KV, hd, float(1.0 / std::sqrt(double(hd))));
    profile_.mark("attention");
    cuda::linear(ctx_, att_.get(), l.wo.get(), t, resid_.get(), rt, R, D, q_dim_, /*accumulate=*/true);
    profile_.mark("gemm o");
    // h += down(silu(gate(x)) * up(x)) of x = RMSNorm(h)
    cuda::rms_norm(ctx_, resid_.get(), rt, l.mlp_norm.as<float>(), eps, xn_.get(), t, R, D);
    profile_.mark("rms_norm");
    cuda::linear(ctx_, xn_.get(), l.wgu.get(), t, gu_.get(), t, R, 2 * F, D);
    profile_.mark("gemm gate|up");
    cuda::swiglu(ctx_, gu_.get(), act_.get(), t, R, F);
    profile_.mark("swiglu");
    cuda::linear(ctx_, act_.get(), l.wdown.get(), t, resid_.get(), rt, R, D, F, /*accumulate=*/true);
    profile_.mark("gemm down");
  }
  cuda::rms_norm(ctx_, resid_.get(), rt, final_norm_.as<float>(), eps, xn_.get(), t, R, D);
  cuda::linear(ctx_, xn_.get(), out_rows_.get(), t, logits_.get(), DType::f32, R, A, D);
  cuda::log_softmax_rows(ctx_, logits_.as<float>(), nullptr, R, A);
  profile_.mark("output");
  profile_.end_pass(size_t(R));
  deliver(logits_.get(), R, out);
  if (llama_.top_k() > 0)
    for (int r = 0; r < R; ++r) apply_top_k(out + size_t(r) * A, A, llama_.top_k());
}

}  // namespace lmac
