#include "eval/file_codec_test_model.hpp"

#include <cmath>
#include <vector>

#include "util/error.hpp"

namespace lmac {

namespace {

// log(k) in double, tabulated for the counts a test ever reaches so that 65536-symbol rows stay cheap.
double log_of_count(uint64_t k) {
  static const std::vector<double> table = [] {
    std::vector<double> t(1 << 20);
    for (size_t i = 1; i < t.size(); ++i) t[i] = std::log(static_cast<double>(i));
    return t;
  }();
  return k < table.size() ? table[k] : std::log(static_cast<double>(k));
}

// The adaptive counts of one sequence. With `order1`, a row mixes the counts after the previous symbol
// (weight 4) with the order-0 counts; the BOS row uses context A, which is never updated.
class AdaptiveCounts {
 public:
  AdaptiveCounts(int alphabet, bool order1)
      : A_(alphabet), order1_(order1), c0_(alphabet, 0), c1_(order1 ? size_t(alphabet + 1) * alphabet : 0, 0),
        n1_(order1 ? alphabet + 1 : 0, 0) {}

  void row(float* out) const {
    const uint32_t* c1 = order1_ ? &c1_[size_t(prev_) * A_] : nullptr;
    const uint64_t total = (order1_ ? 4 * uint64_t(n1_[prev_]) : 0) + n0_ + uint64_t(A_);
    const double log_total = log_of_count(total);
    for (int s = 0; s < A_; ++s) {
      const uint64_t w = (c1 ? 4 * uint64_t(c1[s]) : 0) + c0_[s] + 1;
      out[s] = static_cast<float>(log_of_count(w) - log_total);
    }
  }

  void update(uint32_t symbol) {
    if (symbol >= uint32_t(A_)) throw_error(ErrorCode::internal, "test model: symbol {} out of range", symbol);
    ++c0_[symbol];
    ++n0_;
    if (order1_) {
      ++c1_[size_t(prev_) * A_ + symbol];
      ++n1_[prev_];
    }
    prev_ = static_cast<int>(symbol);
  }

 private:
  int A_;
  bool order1_;
  std::vector<uint32_t> c0_, c1_, n1_;
  uint64_t n0_ = 0;
  int prev_ = A_;  // BOS context
};

class AdaptiveScorer : public ExactScorer {
 public:
  AdaptiveScorer(int alphabet, bool order1) : A_(alphabet), order1_(order1) {}
  int alphabet_size() const override { return A_; }
  std::string kernel_id() const override { return "test-adaptive-v1"; }

  void log_probs(std::span<const uint32_t> symbols, int batch, int length, std::span<float> out) override {
    for (int b = 0; b < batch; ++b) {
      AdaptiveCounts counts(A_, order1_);
      for (int t = 0; t < length; ++t) {
        counts.row(&out[(size_t(b) * length + t) * A_]);
        counts.update(symbols[size_t(b) * length + t]);
      }
    }
  }

  void begin(int batch) override {
    sequences_.assign(size_t(batch), AdaptiveCounts(A_, order1_));
    started_ = false;
  }

  void step(std::span<const uint32_t> previous, std::span<float> out) override {
    for (size_t b = 0; b < sequences_.size(); ++b) {
      if (started_) sequences_[b].update(previous[b]);
      sequences_[b].row(&out[b * A_]);
    }
    started_ = true;
  }

 private:
  int A_;
  bool order1_;
  std::vector<AdaptiveCounts> sequences_;
  bool started_ = false;
};

class AdaptiveModel : public LanguageModel {
 public:
  AdaptiveModel(const std::string& name, int alphabet, bool order1, bool has_scorer, const ModelOptions& options)
      : A_(alphabet), order1_(order1), has_scorer_(has_scorer) {
    info_.name = name;
    info_.model_type = "test";
    info_.format = "builtin";
    info_.path = std::string(kTestModelPrefix) + name;
    info_.architecture = order1 ? "adaptive order-1 counts" : "adaptive order-0 counts";
    info_.stored_dtype = "none";
    info_.bos_source = "none (an empty context)";
    info_.fingerprint = "test-" + name + "-A" + std::to_string(alphabet) + "-" + options.byte_mapping;
  }
  const ModelInfo& info() const override { return info_; }
  int alphabet_size() const override { return A_; }
  std::optional<int> declared_bits() const override {
    return A_ == 65536 ? std::optional<int>(16) : std::nullopt;
  }
  void log_probs(std::span<const uint32_t> symbols, int batch, int length, std::span<float> out) override {
    AdaptiveScorer(A_, order1_).log_probs(symbols, batch, length, out);
  }
  std::unique_ptr<ExactScorer> exact_scorer() override {
    if (!has_scorer_) return nullptr;
    return std::make_unique<AdaptiveScorer>(A_, order1_);
  }

 private:
  ModelInfo info_;
  int A_;
  bool order1_, has_scorer_;
};

}  // namespace

std::unique_ptr<LanguageModel> make_test_model(const std::string& name, const ModelOptions& options) {
  const std::string n = name.rfind(kTestModelPrefix, 0) == 0 ? name.substr(5) : name;
  const int bytes_alphabet = options.byte_mapping == "ascii" ? 128 : 256;
  if (n == "order1") return std::make_unique<AdaptiveModel>(n, bytes_alphabet, true, true, options);
  if (n == "order0-65536") return std::make_unique<AdaptiveModel>(n, 65536, false, true, options);
  if (n == "noscorer") return std::make_unique<AdaptiveModel>(n, bytes_alphabet, true, false, options);
  throw_error(ErrorCode::usage, "--model_path {}: unknown test model (test:order1, test:order0-65536, test:noscorer)",
              name);
}

}  // namespace lmac
