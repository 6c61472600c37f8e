#include <fmt/format.h>

#include <algorithm>
#include <memory>

#include "cli/commands.hpp"
#include "eval/score_run.hpp"

namespace lmac {

Action add_score_command(CLI::App& app) {
  auto config = std::make_shared<ScoreConfig>();
  auto flags = std::make_shared<ModelFlags>();
  ScoreConfig& c = *config;
  CLI::App* score = app.add_subcommand("score", "Natural-log probabilities of every symbol of a raw file under a model");
  score->add_option("--model_path,--model-path", c.model_path, "the model")->required();
  score->add_option("--input", c.input, "raw symbols: bytes, or little-endian 16-bit symbols with --bits 16")->required();
  score->add_option("--bits", c.bits, "8, or 16 for a 65536-symbol model")->capture_default_str();
  score->add_option("--chunk_size,--chunk-size", c.chunk_size, "bytes per chunk; each chunk starts a fresh context")
      ->capture_default_str();
  score->add_option("--max_length,--max-length", c.max_length, "context window")->capture_default_str();
  score->add_option("--output,-o", c.output,
                    "OUT.npy: float32 [symbols, alphabet] for alphabets up to 256, else [symbols] (the actual symbols)");
  score->add_option("--rows", c.rows, "positions whose full rows go to OUT.npy.rows.npy (alphabets above 256)")
      ->delimiter(',');
  add_model_flags(score, *flags);
  add_device_flags(score, *flags);
  return [config, flags]() {
    config->model = finish_model_options(*flags);
    std::sort(config->rows.begin(), config->rows.end());
    fmt::print("{}\n", run_score(*config).dump(2));
    return 0;
  };
}

}  // namespace lmac
