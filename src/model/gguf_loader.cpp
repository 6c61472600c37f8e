#include "model/gguf_loader.hpp"

#include <xxhash.h>

#include <filesystem>
#include <algorithm>
#include <cstring>
#include <map>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "model/byte_map.hpp"
#include "model/gguf_file.hpp"
#include "model/gguf_llama.hpp"
#include "model/llama_model.hpp"
#include "model/llama_rope.hpp"
#include "util/error.hpp"
#include "util/fingerprint.hpp"

namespace lmac {

namespace {

namespace fs = std::filesystem;

// What the weights point into: the mapped file, plus the Q/K tensors copied into Hugging Face row order.
struct GgufStorage {
  std::shared_ptr<const GgufFile> file;
  std::vector<std::vector<uint8_t>> relaid;
};

WeightDType weight_dtype(GgmlType type) {
  switch (type) {
    case GgmlType::f32: return WeightDType::f32;
    case GgmlType::f16: return WeightDType::f16;
    case GgmlType::bf16: return WeightDType::bf16;
    case GgmlType::q8_0: return WeightDType::q8_0;
    case GgmlType::q4_0: return WeightDType::q4_0;
    case GgmlType::q4_1: return WeightDType::q4_1;
    case GgmlType::q5_0: return WeightDType::q5_0;
    case GgmlType::q5_1: return WeightDType::q5_1;
    case GgmlType::q4_k: return WeightDType::q4_k;
    case GgmlType::q5_k: return WeightDType::q5_k;
    case GgmlType::q6_k: return WeightDType::q6_k;
    default: break;
  }
  throw_error(ErrorCode::unsupported, "tensor type {} cannot be dequantized by lmac (supported: {})",
              ggml_type_name(type), ggml_dequantizable_type_list());
}

WeightMatrix as_weight(const QuantMatrix& m) {
  return WeightMatrix{m.data, weight_dtype(m.type), int(m.rows), int(m.cols)};
}

// Undoes llama.cpp's permute(w, n_head) of a Q or K projection: Hugging Face row (h, j) of head h is stored as row
// h * head_dim + 2 * (j mod head_dim/2) + j div head_dim/2. Whole rows are copied, quantized blocks untouched.
WeightMatrix unpermute_rows(const QuantMatrix& m, int heads, int head_dim, GgufStorage& storage) {
  const size_t row_bytes = m.row_bytes();
  std::vector<uint8_t>& out = storage.relaid.emplace_back(row_bytes * size_t(m.rows));
  const int half = head_dim / 2;
  for (int h = 0; h < heads; ++h)
    for (int j = 0; j < head_dim; ++j) {
      const int64_t src = int64_t(h) * head_dim + 2 * (j % half) + j / half;
      std::memcpy(&out[(size_t(h) * head_dim + j) * row_bytes], m.row(src), row_bytes);
    }
  return WeightMatrix{out.data(), weight_dtype(m.type), int(m.rows), int(m.cols)};
}

std::string fingerprint(const GgufFile& file, const LlamaConfig& config, const ModelInfo& info,
                        const LlamaOptions& options) {
  const std::vector<GgufTensorInfo>& tensors = file.header().tensors;
  std::vector<XXH64_hash_t> data_hashes(tensors.size());
#pragma omp parallel for schedule(dynamic, 1)
  for (size_t i = 0; i < tensors.size(); ++i) data_hashes[i] = XXH3_64bits(tensors[i].data, tensors[i].size);
  Fingerprint f;
  f.add("lmac gguf llama fingerprint v1");
  for (size_t i = 0; i < tensors.size(); ++i) {
    f.add(tensors[i].name);
    f.add(ggml_type_name(tensors[i].type));
    f.add(fmt::format("{}", fmt::join(tensors[i].ne, ",")));
    f.add_raw(&data_hashes[i], sizeof data_hashes[i]);
  }
  f.add(config.canonical_json);
  f.add(fmt::format("{}", fmt::join(info.byte_tokens, ",")));
  f.add(fmt::format("bos={}", info.bos_token));
  f.add(fmt::format("byte_mapping={} top_k={}", options.byte_mapping, options.top_k));
  return f.hex();
}

}  // namespace

std::unique_ptr<LanguageModel> load_gguf_model(const std::string& path, const LlamaOptions& options) {
  const ByteMapping mapping = parse_byte_mapping(options.byte_mapping);
  if (options.top_k < 0) throw_error(ErrorCode::usage, "--top_k must be 0 (off) or positive, got {}", options.top_k);
  auto storage = std::make_shared<GgufStorage>();
  storage->file = GgufFile::open(path);
  const GgufFile& file = *storage->file;
  const GgufHeader& h = file.header();
  const LlamaConfig config = gguf_llama_config(h);
  const GgufVocab vocab = gguf_tokenizer_vocab(h);
  const ByteTokenMap byte_map = build_byte_token_map(vocab.vocab, mapping);
  if (byte_map.byte_level != (vocab.model == "gpt2"))
    throw_error(ErrorCode::bad_model, "{}: tokenizer.ggml.model is '{}' but its tokens are {} byte tokens", path,
                vocab.model, byte_map.vocab_kind);
  for (int token : byte_map.tokens)
    if (token >= config.vocab_size)
      throw_error(ErrorCode::bad_model, "{}: byte token {} is outside the vocabulary of {} (llama.vocab_size)", path,
                  token, config.vocab_size);

  ModelInfo info;
  if (vocab.vocab.bos_id) {
    info.bos_token = *vocab.vocab.bos_id;
    info.bos_source = "tokenizer.ggml.bos_token_id";
  } else if (vocab.vocab.eos_id) {
    info.bos_token = *vocab.vocab.eos_id;
    info.bos_source = "tokenizer.ggml.eos_token_id (end of text; no BOS defined)";
  } else {
    throw_error(ErrorCode::bad_model, "{}: metadata defines neither tokenizer.ggml.bos_token_id nor "
                "tokenizer.ggml.eos_token_id", path);
  }
  if (info.bos_token >= config.vocab_size)
    throw_error(ErrorCode::bad_model, "{}: BOS token {} ({}) is outside the vocabulary of {}", path, info.bos_token,
                info.bos_source, config.vocab_size);

  // llama.cpp stores Llama 3.1's rope scaling as per-frequency factors in this tensor; lmac does not apply them.
  if (h.find_tensor("rope_freqs.weight"))
    throw_error(ErrorCode::unsupported, "{}: tensor rope_freqs.weight (per-frequency RoPE factors, Llama 3.1 rope "
                "scaling) is not supported", path);

  const int64_t D = config.hidden_size, F = config.intermediate_size, V = config.vocab_size;
  const int H = config.num_attention_heads, KV = config.num_key_value_heads, hd = config.head_dim;
  const int64_t q_dim = int64_t(H) * hd, kv_dim = int64_t(KV) * hd;
  LlamaWeights w;
  w.embed = as_weight(file.matrix("token_embd.weight", V, D));
  for (int l = 0; l < config.num_hidden_layers; ++l) {
    const std::string p = fmt::format("blk.{}.", l);
    LlamaLayerWeights lw;
    lw.attn_norm = file.vector_f32(p + "attn_norm.weight", D);
    lw.mlp_norm = file.vector_f32(p + "ffn_norm.weight", D);
    lw.q = unpermute_rows(file.matrix(p + "attn_q.weight", q_dim, D), H, hd, *storage);
    lw.k = unpermute_rows(file.matrix(p + "attn_k.weight", kv_dim, D), KV, hd, *storage);
    lw.v = as_weight(file.matrix(p + "attn_v.weight", kv_dim, D));
    lw.o = as_weight(file.matrix(p + "attn_output.weight", D, q_dim));
    lw.gate = as_weight(file.matrix(p + "ffn_gate.weight", F, D));
    lw.up = as_weight(file.matrix(p + "ffn_up.weight", F, D));
    lw.down = as_weight(file.matrix(p + "ffn_down.weight", D, F));
    w.layers.push_back(std::move(lw));
  }
  w.final_norm = file.vector_f32("output_norm.weight", D);
  // No output.weight: the embedding doubles as the output projection (llama.cpp and transformers both tie then).
  const WeightMatrix head = config.tie_word_embeddings ? w.embed : as_weight(file.matrix("output.weight", V, D));
  w.output_rows.resize(byte_map.tokens.size() * size_t(D));
  for (size_t s = 0; s < byte_map.tokens.size(); ++s) weight_row_f32(head, byte_map.tokens[s], &w.output_rows[s * D]);
  w.inv_freq = rope_inv_freq(config.rope, hd);

  // What `lmac info` shows: the tensor types with their counts, most common first.
  std::map<std::string, int> type_counts;
  uint64_t params = 0;
  for (const GgufTensorInfo& t : h.tensors) {
    ++type_counts[ggml_type_name(t.type)];
    params += uint64_t(t.elements());
  }
  std::vector<std::pair<int, std::string>> by_count;
  for (const auto& [name, n] : type_counts) by_count.emplace_back(-n, name);
  std::sort(by_count.begin(), by_count.end());
  std::vector<std::string> types;
  for (const auto& [n, name] : by_count) types.push_back(fmt::format("{} x{}", name, -n));

  info.name = fs::path(path).stem().string();
  info.model_type = "llama";
  info.format = "gguf";
  info.path = path;
  info.parameter_count = params;
  info.stored_dtype = by_count.empty() ? "" : by_count.front().second;
  for (char& c : info.stored_dtype) c = char(std::tolower(static_cast<unsigned char>(c)));
  info.byte_tokens = byte_map.tokens;
  std::string rope = fmt::format("rope {} theta={:g}", config.rope.type, config.rope.theta);
  if (config.rope.type != "default") rope += fmt::format(" factor={:g}", config.rope.factor);
  info.architecture = fmt::format(
      "llama: D={}, layers={}, heads={}, kv_heads={}, head_dim={}, ffn={}, vocab={}, {}, {} embeddings; "
      "GGUF v{} tensors {}; tokenizer {} ({}) via --byte_mapping {}",
      D, config.num_hidden_layers, H, KV, hd, F, V, rope, config.tie_word_embeddings ? "tied" : "untied", h.version,
      fmt::join(types, ", "), vocab.model, byte_map.vocab_kind, options.byte_mapping);
  w.config = config;
  info.fingerprint = fingerprint(file, config, info, options);
  return std::make_unique<LlamaModel>(std::shared_ptr<const void>(storage), std::move(w), std::move(info),
                                      options.top_k);
}

}  // namespace lmac
