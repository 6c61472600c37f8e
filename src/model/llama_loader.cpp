#include "model/llama_loader.hpp"

#include <sys/mman.h>
#include <unistd.h>
#include <xxhash.h>

#include <array>
#include <filesystem>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "engine/quant_quantize.hpp"
#include "model/byte_map.hpp"
#include "model/hf_config.hpp"
#include "model/llama_model.hpp"
#include "model/llama_rope.hpp"
#include "model/safetensors_checkpoint.hpp"
#include "model/tokenizer_vocab.hpp"
#include "util/error.hpp"
#include "util/fingerprint.hpp"

namespace lmac {

namespace fs = std::filesystem;

static std::vector<float> vector_f32(const SafetensorsCheckpoint& ck, const std::string& name, int64_t size) {
  const TensorRef& t = ck.require(name, {size});
  std::vector<float> out(static_cast<size_t>(size));
  convert_to_f32(t.data, weight_dtype_of(t), out.data(), out.size());
  return out;
}

// What the weights point into: the mapped checkpoint, plus the Q8_0 copies of --weights q8_0.
struct LlamaStorage {
  std::shared_ptr<const SafetensorsCheckpoint> checkpoint;
  std::vector<std::vector<uint8_t>> quantized;
};

// Unmaps the whole pages of a tensor from this process (they stay in the page cache, and a later read faults them
// back in), so that a quantized load does not leave the stored checkpoint resident beside its quantized copy.
static void release_pages(const void* data, size_t size) {
  const uintptr_t page = uintptr_t(sysconf(_SC_PAGESIZE));
  const uintptr_t begin = (uintptr_t(data) + page - 1) & ~(page - 1);  // edge pages may hold a neighbour: keep them
  const uintptr_t end = (uintptr_t(data) + size) & ~(page - 1);
  if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
}

// --weights q8_0: every linear layer (q, k, v, o, gate, up, down) becomes an owned Q8_0 copy, one tensor at a time,
// each tensor's stored pages released once it is done, so peak memory is about the quantized model plus one tensor.
// The embedding stays as stored (only the rows of the tokens seen are ever read), and so does the output projection
// (only the byte tokens' rows are kept, widened to float32 at load). All shapes are checked before any work.
static void quantize_linear_layers(LlamaWeights& w, LlamaStorage& storage, const std::string& dir) {
  static const char* const kNames[] = {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
                                       "mlp.gate_proj",    "mlp.up_proj",      "mlp.down_proj"};
  auto matrices = [](LlamaLayerWeights& lw) {
    return std::array<WeightMatrix*, 7>{&lw.q, &lw.k, &lw.v, &lw.o, &lw.gate, &lw.up, &lw.down};
  };
  for (size_t l = 0; l < w.layers.size(); ++l)
    for (int i = 0; i < 7; ++i)
      if (const WeightMatrix& m = *matrices(w.layers[l])[i]; m.cols % kQ8_0Block != 0)
        throw_error(ErrorCode::unsupported,
                    "--weights q8_0: {}: tensor model.layers.{}.{}.weight has {} columns, not a multiple of the Q8_0 "
                    "block of {}; use --weights stored",
                    dir, l, kNames[i], m.cols, kQ8_0Block);
  for (LlamaLayerWeights& lw : w.layers)
    for (WeightMatrix* m : matrices(lw)) {
      std::vector<uint8_t>& q = storage.quantized.emplace_back(quantize_matrix_q8_0(*m));
      release_pages(m->data, size_t(m->rows) * weight_row_bytes(m->dtype, size_t(m->cols)));
      *m = WeightMatrix{q.data(), WeightDType::q8_0, m->rows, m->cols};
    }
}

// The dtype name config.json uses, in lmac's short form.
static std::string short_dtype(const std::string& torch_name) {
  if (torch_name == "bfloat16") return "bf16";
  if (torch_name == "float16") return "f16";
  if (torch_name == "float32") return "f32";
  return torch_name;
}

// xxHash (XXH3, 64-bit) over everything that changes a pdf: each tensor (name, dtype, shape, bytes; tensors in
// name order, each hashed in parallel and folded in sequentially), the canonical config, the byte map, BOS and
// the options. The stored bytes are hashed even under --weights q8_0 (the quantized ones follow from them and the flag,
// which is hashed too); then each tensor's pages are released after hashing, as the quantized load did.
static std::string fingerprint(const SafetensorsCheckpoint& ck, const LlamaConfig& config, const ModelInfo& info,
                               const LlamaOptions& options) {
  std::vector<const TensorRef*> tensors;
  for (const auto& [name, t] : ck.tensors()) tensors.push_back(&t);
  std::vector<XXH64_hash_t> data_hashes(tensors.size());
  const bool release = options.weights != "stored";
#pragma omp parallel for schedule(dynamic, 1)
  for (size_t i = 0; i < tensors.size(); ++i) {
    data_hashes[i] = XXH3_64bits(tensors[i]->data, tensors[i]->size);
    if (release) release_pages(tensors[i]->data, tensors[i]->size);
  }

  Fingerprint f;
  f.add("lmac llama fingerprint v1");
  for (size_t i = 0; i < tensors.size(); ++i) {
    f.add(tensors[i]->name);
    f.add(tensors[i]->dtype);
    f.add(fmt::format("{}", fmt::join(tensors[i]->shape, ",")));
    f.add_raw(&data_hashes[i], sizeof data_hashes[i]);
  }
  f.add(config.canonical_json);
  f.add(fmt::format("{}", fmt::join(info.byte_tokens, ",")));
  f.add(fmt::format("bos={}", info.bos_token));
  f.add(fmt::format("byte_mapping={} top_k={}", options.byte_mapping, options.top_k));
  // Only when not stored, so that the fingerprints of stored-weight models (and the files coded with them) stay put.
  if (options.weights != "stored") f.add(fmt::format("weights={} (ggml quantize_row_q8_0_ref)", options.weights));
  return f.hex();
}

std::unique_ptr<LanguageModel> load_llama_model(const std::string& dir, const LlamaOptions& options) {
  const ByteMapping mapping = parse_byte_mapping(options.byte_mapping);
  if (options.top_k < 0) throw_error(ErrorCode::usage, "--top_k must be 0 (off) or positive, got {}", options.top_k);
  if (options.weights != "stored" && options.weights != "q8_0")
    throw_error(ErrorCode::usage, "--weights must be stored or q8_0, not '{}'", options.weights);
  LlamaConfig config = load_llama_config(dir);
  TokenizerVocab vocab = load_tokenizer(dir);
  ByteTokenMap byte_map = build_byte_token_map(vocab, mapping);
  auto storage = std::make_shared<LlamaStorage>();
  storage->checkpoint = std::make_shared<SafetensorsCheckpoint>(SafetensorsCheckpoint::open(dir));
  const SafetensorsCheckpoint* ck = storage->checkpoint.get();

  const std::string config_file = (fs::path(dir) / "config.json").string();
  for (int token : byte_map.tokens)
    if (token >= config.vocab_size)
      throw_error(ErrorCode::bad_model, "{}: byte token {} from {} is outside vocab_size {}", config_file, token,
                  vocab.source, config.vocab_size);

  // BOS: the model's own, else the tokenizer's, else end of text.
  ModelInfo info;
  if (config.bos_token_id) {
    info.bos_token = *config.bos_token_id;
    info.bos_source = "config.json bos_token_id";
  } else if (vocab.bos_id) {
    info.bos_token = *vocab.bos_id;
    info.bos_source = vocab.bos_origin;
  } else if (config.eos_token_id) {
    info.bos_token = *config.eos_token_id;
    info.bos_source = "config.json eos_token_id (end of text; no BOS defined)";
  } else if (vocab.eos_id) {
    info.bos_token = *vocab.eos_id;
    info.bos_source = vocab.eos_origin + " (end of text; no BOS defined)";
  } else {
    throw_error(ErrorCode::bad_model, "{}: no bos_token_id or eos_token_id, and {} names no BOS or end-of-text token",
                config_file, vocab.source);
  }
  if (info.bos_token >= config.vocab_size)
    throw_error(ErrorCode::bad_model, "{}: BOS token {} ({}) is outside vocab_size {}", config_file, info.bos_token,
                info.bos_source, config.vocab_size);

  // Weights, checked against config.json: every tensor present, with the shape the config implies.
  const int64_t D = config.hidden_size, F = config.intermediate_size, V = config.vocab_size;
  const int64_t q_dim = int64_t(config.num_attention_heads) * config.head_dim;
  const int64_t kv_dim = int64_t(config.num_key_value_heads) * config.head_dim;
  LlamaWeights w;
  w.embed = ck->matrix("model.embed_tokens.weight", V, D);
  uint64_t params = uint64_t(V) * D;
  for (int l = 0; l < config.num_hidden_layers; ++l) {
    const std::string p = fmt::format("model.layers.{}.", l);
    LlamaLayerWeights lw;
    lw.attn_norm = vector_f32(*ck, p + "input_layernorm.weight", D);
    lw.mlp_norm = vector_f32(*ck, p + "post_attention_layernorm.weight", D);
    lw.q = ck->matrix(p + "self_attn.q_proj.weight", q_dim, D);
    lw.k = ck->matrix(p + "self_attn.k_proj.weight", kv_dim, D);
    lw.v = ck->matrix(p + "self_attn.v_proj.weight", kv_dim, D);
    lw.o = ck->matrix(p + "self_attn.o_proj.weight", D, q_dim);
    lw.gate = ck->matrix(p + "mlp.gate_proj.weight", F, D);
    lw.up = ck->matrix(p + "mlp.up_proj.weight", F, D);
    lw.down = ck->matrix(p + "mlp.down_proj.weight", D, F);
    params += 2 * D + (q_dim + 2 * kv_dim) * D + D * q_dim + 3 * F * D;
    w.layers.push_back(std::move(lw));
  }
  w.final_norm = vector_f32(*ck, "model.norm.weight", D);
  params += D;
  // Tied embeddings reuse embed_tokens as the output projection (transformers ignores any lm_head.weight then).
  WeightMatrix head = w.embed;
  if (!config.tie_word_embeddings) {
    head = ck->matrix("lm_head.weight", V, D);
    params += uint64_t(V) * D;
  }
  w.output_rows.resize(byte_map.tokens.size() * size_t(D));
  for (size_t s = 0; s < byte_map.tokens.size(); ++s) weight_row_f32(head, byte_map.tokens[s], &w.output_rows[s * D]);
  w.inv_freq = rope_inv_freq(config.rope, config.head_dim);
  if (options.weights == "q8_0") quantize_linear_layers(w, *storage, dir);

  // What `lmac info` shows.
  info.name = fs::path(dir).lexically_normal().filename().string();
  if (info.name.empty()) info.name = fs::path(dir).lexically_normal().parent_path().filename().string();
  info.model_type = "llama";
  info.format = "safetensors";
  info.path = dir;
  info.parameter_count = params;
  info.stored_dtype = short_dtype(config.stored_dtype.empty() ? std::string(weight_dtype_name(w.embed.dtype))
                                                              : config.stored_dtype);
  info.byte_tokens = byte_map.tokens;
  std::string rope = fmt::format("rope {} theta={:g}", config.rope.type, config.rope.theta);
  if (config.rope.type != "default") rope += fmt::format(" factor={:g}", config.rope.factor);
  info.architecture = fmt::format(
      "llama: D={}, layers={}, heads={}, kv_heads={}, head_dim={}, ffn={}, vocab={}, {}, {} embeddings; "
      "weights {} ({}){}; tokens {} via --byte_mapping {}",
      D, config.num_hidden_layers, config.num_attention_heads, config.num_key_value_heads, config.head_dim, F, V,
      rope, config.tie_word_embeddings ? "tied" : "untied", weight_dtype_name(w.embed.dtype), ck->source(),
      options.weights == "q8_0" ? ", linear layers quantized to q8_0 at load (--weights q8_0)" : "",
      byte_map.vocab_kind, options.byte_mapping);
  w.config = config;
  info.fingerprint = fingerprint(*ck, config, info, options);
  return std::make_unique<LlamaModel>(std::shared_ptr<const void>(storage), std::move(w), std::move(info),
                                      options.top_k);
}

}  // namespace lmac
