#include "model/framework_loader.hpp"

#include <xxhash.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "model/framework_model.hpp"
#include "model/npz_archive.hpp"
#include "util/error.hpp"

namespace lmac {
namespace {

// Haiku's names: the first instance of a module has no suffix, the k-th (k >= 1) gets "_k".
std::string haiku_name(const std::string& base, int k) { return k == 0 ? base : fmt::format("{}_{}", base, k); }

std::string attention_module(int layer) { return haiku_name("multi_head_dot_product_attention", layer); }

class ParamReader {
 public:
  ParamReader(std::map<std::string, NpyArray> params, std::string path) : params_(std::move(params)), path_(std::move(path)) {}

  bool has_module(const std::string& module) const {
    auto it = params_.lower_bound(module + "/");
    return it != params_.end() && it->first.compare(0, module.size() + 1, module + "/") == 0;
  }

  const NpyArray& find(const std::string& module, const std::string& param) {
    if (!has_module(module)) throw_error(ErrorCode::bad_model, "{}: missing module {}", path_, module);
    std::string key = module + "/" + param;
    auto it = params_.find(key);
    if (it == params_.end()) throw_error(ErrorCode::bad_model, "{}: missing parameter {}", path_, key);
    used_.insert(key);
    return it->second;
  }

  // The tensor as float32, after checking its shape.
  std::vector<float> get(const std::string& module, const std::string& param, std::vector<int64_t> shape) {
    const NpyArray& a = find(module, param);
    std::string key = module + "/" + param;
    if (a.shape != shape) {
      throw_error(ErrorCode::bad_model, "{}: tensor {} has shape {}, expected [{}]", path_, key, a.shape_string(),
                  fmt::join(shape, ", "));
    }
    dtypes_.insert(a.dtype.name());
    count_ += uint64_t(a.element_count());
    std::vector<float> v = a.to_float32(path_ + ":" + key);
    // Everything that changes a pdf goes into the fingerprint: names, shapes and the float32 values.
    XXH64_update(hash_, key.data(), key.size());
    XXH64_update(hash_, a.shape.data(), a.shape.size() * sizeof(int64_t));
    XXH64_update(hash_, v.data(), v.size() * sizeof(float));
    return v;
  }

  void check_all_used() const {
    for (const auto& [key, array] : params_) {
      if (key != "lmac_bits" && !used_.count(key)) {
        throw_error(ErrorCode::bad_model, "{}: unexpected parameter {} (not part of a framework transformer with "
                    "these shapes)", path_, key);
      }
    }
  }

  const std::map<std::string, NpyArray>& params() const { return params_; }
  XXH64_state_t* hash() { return hash_; }
  uint64_t count() const { return count_; }
  std::string stored_dtype() const {
    if (dtypes_.size() == 1) {
      const std::string& d = *dtypes_.begin();
      return d == "f4" ? "f32" : d == "f2" ? "f16" : d == "f8" ? "f64" : d;
    }
    return fmt::format("mixed ({})", fmt::join(dtypes_, ", "));
  }

  ~ParamReader() { XXH64_freeState(hash_); }

 private:
  std::map<std::string, NpyArray> params_;
  std::string path_;
  std::set<std::string> used_, dtypes_;
  uint64_t count_ = 0;
  XXH64_state_t* hash_ = [] {
    XXH64_state_t* s = XXH64_createState();
    XXH64_reset(s, 0);
    return s;
  }();
};

}  // namespace

std::unique_ptr<LanguageModel> load_framework_model(const std::string& path, const FrameworkOptions& options) {
  ParamReader p(read_npz_params_file(path), path);

  // Shapes give V, D, L and F; the head count must be given.
  const NpyArray& embed = p.find("embed", "embeddings");
  if (embed.shape.size() != 2) {
    throw_error(ErrorCode::bad_model, "{}: tensor embed/embeddings has shape {}, expected [vocab, embedding_dim]",
                path, embed.shape_string());
  }
  FrameworkConfig c;
  if (embed.shape[0] != 256 && embed.shape[0] != 65536) {
    throw_error(ErrorCode::bad_model, "{}: vocabulary of {} symbols (embed/embeddings {}); framework models have 256 "
                "or 65536", path, embed.shape[0], embed.shape_string());
  }
  if (embed.shape[1] < 1 || embed.shape[1] > 65536) {
    throw_error(ErrorCode::bad_model, "{}: embedding_dim {} is out of range", path, embed.shape[1]);
  }
  c.vocab_size = int(embed.shape[0]);
  c.embedding_dim = int(embed.shape[1]);
  const int D = c.embedding_dim;
  c.num_layers = 0;
  while (p.has_module(attention_module(c.num_layers))) ++c.num_layers;
  if (c.num_layers == 0) throw_error(ErrorCode::bad_model, "{}: missing module {}", path, attention_module(0));
  const NpyArray& w1 = p.find("linear", "w");
  if (w1.shape.size() != 2 || w1.shape[0] != D || w1.shape[1] < D || w1.shape[1] % D != 0) {
    throw_error(ErrorCode::bad_model, "{}: tensor linear/w has shape {}, expected [{}, {} * widening_factor]", path,
                w1.shape_string(), D, D);
  }
  c.widening_factor = int(w1.shape[1] / D);
  c.num_heads = options.num_heads;

  auto check_flag = [&](const char* flag, std::optional<int> given, int found, const char* what) {
    if (given && *given != found) {
      throw_error(ErrorCode::mismatch, "--{} {} does not match {}: the tensors give {} {}", flag, *given, path, found,
                  what);
    }
  };
  check_flag("embedding_dim", options.embedding_dim, D, "(embed/embeddings)");
  check_flag("num_layers", options.num_layers, c.num_layers, "layers");
  check_flag("widening_factor", options.widening_factor, c.widening_factor, "(linear/w)");
  if (c.num_heads < 1 || D % c.num_heads != 0) {
    throw_error(ErrorCode::mismatch, "--num_heads {} does not divide embedding_dim {} of {}", c.num_heads, D, path);
  }

  const int64_t F = int64_t(D) * c.widening_factor, V = c.vocab_size;
  FrameworkWeights w;
  w.embed = p.get("embed", "embeddings", {V, D});
  for (int l = 0; l < c.num_layers; ++l) {
    FrameworkLayer layer;
    const std::string att = attention_module(l);
    std::vector<float> q = p.get(att + "/linear", "w", {D, D});
    std::vector<float> k = p.get(att + "/linear_1", "w", {D, D});
    std::vector<float> v = p.get(att + "/linear_2", "w", {D, D});
    layer.w_qkv.resize(size_t(D) * 3 * D);
    for (int i = 0; i < D; ++i) {
      float* row = layer.w_qkv.data() + size_t(i) * 3 * D;
      std::copy_n(q.data() + size_t(i) * D, D, row);
      std::copy_n(k.data() + size_t(i) * D, D, row + D);
      std::copy_n(v.data() + size_t(i) * D, D, row + 2 * D);
    }
    layer.w_out = p.get(att + "/linear_3", "w", {D, D});
    const std::string ln1 = haiku_name("layer_norm", 2 * l), ln2 = haiku_name("layer_norm", 2 * l + 1);
    const std::string lin1 = haiku_name("linear", 2 * l), lin2 = haiku_name("linear", 2 * l + 1);
    layer.ln1_scale = p.get(ln1, "scale", {D});
    layer.ln1_offset = p.get(ln1, "offset", {D});
    layer.w1 = p.get(lin1, "w", {D, F});
    layer.b1 = p.get(lin1, "b", {F});
    layer.w2 = p.get(lin2, "w", {F, D});
    layer.b2 = p.get(lin2, "b", {D});
    layer.ln2_scale = p.get(ln2, "scale", {D});
    layer.ln2_offset = p.get(ln2, "offset", {D});
    w.layers.push_back(std::move(layer));
  }
  const std::string out = haiku_name("linear", 2 * c.num_layers);
  w.w_logits = p.get(out, "w", {D, V});
  w.b_logits = p.get(out, "b", {V});
  p.check_all_used();

  std::optional<int> bits;
  if (auto it = p.params().find("lmac_bits"); it != p.params().end()) {
    int64_t b = it->second.scalar_int(path + ":lmac_bits");
    if (b != 8 && b != 16) throw_error(ErrorCode::bad_model, "{}: lmac_bits is {}, expected 8 or 16", path, b);
    if (c.vocab_size == 65536 && b != 16) {
      throw_error(ErrorCode::bad_model, "{}: lmac_bits is {} but a 65536-symbol model reads 16-bit samples", path, b);
    }
    bits = int(b);
  } else if (c.vocab_size == 65536) {
    bits = 16;
  }

  const int config_words[] = {c.vocab_size, c.embedding_dim, c.num_layers, c.num_heads, c.widening_factor};
  XXH64_update(p.hash(), "lmac framework v1", 17);
  XXH64_update(p.hash(), config_words, sizeof config_words);

  ModelInfo info;
  info.name = std::filesystem::path(path).stem().string();
  info.model_type = "framework";
  info.format = "npz";
  info.path = path;
  info.architecture = fmt::format(
      "framework transformer: vocab {}, D {}, {} layers, {} heads (head dim {}), FFN {} (widening {}), "
      "post-LayerNorm, sinusoidal positions",
      c.vocab_size, D, c.num_layers, c.num_heads, D / c.num_heads, F, c.widening_factor);
  info.parameter_count = p.count();
  info.stored_dtype = p.stored_dtype();
  info.bos_token = 0;
  info.bos_source = "byte 0 (framework models shift in a zero)";
  info.fingerprint = fmt::format("{:016x}", XXH64_digest(p.hash()));
  return std::make_unique<FrameworkModel>(c, std::move(w), std::move(info), bits);
}

}  // namespace lmac
