// lmac: argument parsing and command dispatch only. Every failure becomes one "lmac: error:" line and a
// non-zero exit code: 2 for usage errors, 1 for everything else.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <map>

#include "cli/commands.hpp"
#include "util/error.hpp"

int main(int argc, char** argv) {
  CLI::App app{"lmac " LMAC_VERSION ": lossless audio compression with language models, measured against classic codecs"};
  app.set_version_flag("--version", std::string("lmac ") + LMAC_VERSION);
  app.require_subcommand(1);
  const std::map<std::string, lmac::Action> actions = {
      {"eval", lmac::add_eval_command(app)},
      {"score", lmac::add_score_command(app)},
      {"info", lmac::add_info_command(app)},
      {"symbols", lmac::add_symbols_command(app)},
      {"compress", lmac::add_compress_command(app)},
      {"decompress", lmac::add_decompress_command(app)},
      {"test", lmac::add_test_command(app)},
  };
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    for (CLI::App* sub : app.get_subcommands()) return actions.at(sub->get_name())();
    fmt::print(stderr, "lmac: error: no command given\n");
    return 2;
  } catch (const lmac::Error& e) {
    fmt::print(stderr, "lmac: error: {}\n", e.what());
    return e.code() == lmac::ErrorCode::usage ? 2 : 1;
  } catch (const std::bad_alloc&) {
    fmt::print(stderr, "lmac: error: out of memory\n");
    return 1;
  } catch (const std::exception& e) {
    fmt::print(stderr, "lmac: error: internal: {}\n", e.what());
    return 1;
  }
}
