#include <fmt/format.h>

#include <memory>

#include "cli/commands.hpp"
#include "eval/eval_run.hpp"
#include "eval/reporters.hpp"
#include "util/atomic_file.hpp"
#include "util/error.hpp"

namespace lmac {

Action add_eval_command(CLI::App& app) {
  auto config = std::make_shared<EvalConfig>();
  auto num_chunks = std::make_shared<int64_t>(-1);
  auto byte_order = std::make_shared<std::string>("msb");
  auto model_flags = std::make_shared<ModelFlags>();
  EvalConfig& c = *config;

  CLI::App* eval = app.add_subcommand("eval", "Measure compression ratios on every audio file under a directory, "
                                              "under the protocol of \"Language Modeling Is Compression\"");
  eval->add_option("--audio_dir,--audio-dir", c.audio_dir, "every audio file below DIR, recursively, in sorted path order")
      ->required();
  eval->add_option("--model_path,--model-path", c.model_paths,
                   "a model to evaluate (repeatable): .npz, .gguf, a Llama directory, llama:DIR, default (the shipped model, used "
                   "when none is given) or none (baselines only)")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  eval->add_option("--baseline_compressors,--baseline-compressors", c.baseline_compressors,
                   "classic compressors: gzip lzma flac zstd bzip2 brotli wavpack png flac-lmic")
      ->expected(0, -1)
      ->delimiter(',')
      ->capture_default_str();
  eval->add_option("--bits", c.stream.bits, "symbol width: 8 or 16")->capture_default_str();
  eval->add_flag_callback("--use_16bit,--use-16bit", [&c] { c.stream.bits = 16; }, "same as --bits 16");
  eval->add_option("--byte_order,--byte-order", *byte_order, "byte order of 16-bit samples: msb or lsb")
      ->check(CLI::IsMember({"msb", "lsb"}))
      ->capture_default_str();
  eval->add_option("--stereo_blocking_n,--stereo-blocking-n", c.stream.stereo_blocking_n,
                   "channel block length in samples")
      ->capture_default_str();
  eval->add_option("--chunk_size,--chunk-size", c.chunk_size, "chunk size in bytes of the symbol stream")
      ->capture_default_str();
  eval->add_option("--num_chunks,--num-chunks", *num_chunks, "evaluate the first N chunks over all files (default: all)");
  eval->add_option("--max_length,--max-length", c.max_length, "context window of a model")->capture_default_str();
  eval->add_option("--batch_size,--batch-size", c.batch_size, "chunks per batch (default: automatic)");
  add_model_flags(eval, *model_flags);
  add_device_flags(eval, *model_flags);
  eval->add_flag("--slow_compression,--slow-compression", c.slow_compression,
                 "re-evaluate every prefix, O(n^2), as the reference's slow path");
  eval->add_option("--output_file,--output-file", c.output_file, "write the JSON results there");
  eval->add_option("--format", c.format, "what stdout shows: table, markdown or csv")->capture_default_str();

  return [config, num_chunks, byte_order, model_flags]() {
    EvalConfig& c = *config;
    if (*num_chunks != -1) c.num_chunks = *num_chunks;
    c.stream.byte_order = *byte_order == "lsb" ? ByteOrder::lsb : ByteOrder::msb;
    c.model = finish_model_options(*model_flags);
    // Without --model_path, the shipped default model is evaluated beside the baselines.
    if (c.model_paths.empty()) c.model_paths = {"default"};
    EvalOutput out = run_eval(c);
    if (!c.output_file.empty()) write_file_atomically(c.output_file, out.document.dump(2) + "\n");
    fmt::print("{}", render_results(out.records, c.format));
    return 0;
  };
}

}  // namespace lmac
