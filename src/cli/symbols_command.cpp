#include <fmt/format.h>

#include <memory>

#include "cli/commands.hpp"
#include "eval/symbols_run.hpp"

namespace lmac {

Action add_symbols_command(CLI::App& app) {
  auto config = std::make_shared<SymbolsConfig>();
  auto byte_order = std::make_shared<std::string>("msb");
  SymbolsConfig& c = *config;
  CLI::App* symbols = app.add_subcommand("symbols", "Write the symbol streams of every audio file under a directory");
  symbols->add_option("--audio_dir,--audio-dir", c.audio_dir, "every audio file below DIR, in sorted path order")->required();
  symbols->add_option("--output,-o", c.output, "the streams, back to back")->required();
  symbols->add_option("--index", c.index, "a TSV of offset, length, sample rate and path per file");
  symbols->add_option("--bits", c.stream.bits, "8 or 16")->capture_default_str();
  symbols->add_option("--byte_order,--byte-order", *byte_order, "msb or lsb")->check(CLI::IsMember({"msb", "lsb"}));
  symbols->add_option("--stereo_blocking_n,--stereo-blocking-n", c.stream.stereo_blocking_n, "channel block length")
      ->capture_default_str();
  return [config, byte_order]() {
    config->stream.byte_order = *byte_order == "lsb" ? ByteOrder::lsb : ByteOrder::msb;
    const size_t files = run_symbols(*config);
    fmt::print(stderr, "lmac: wrote the symbol streams of {} files to {}\n", files, config->output);
    return 0;
  };
}

}  // namespace lmac
