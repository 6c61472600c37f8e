// Each subcommand registers its flags on the CLI11 app and returns the action to run after parsing.
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

#include "model/model_resolver.hpp"

namespace lmac {

using Action = std::function<int()>;  // returns the exit code; throws lmac::Error on failure

Action add_eval_command(CLI::App& app);
Action add_score_command(CLI::App& app);
Action add_info_command(CLI::App& app);
Action add_symbols_command(CLI::App& app);
Action add_compress_command(CLI::App& app);    // compress_command.cpp
Action add_decompress_command(CLI::App& app);
Action add_test_command(CLI::App& app);

// The flags that shape a model's pdf, shared by every command that loads one. Values of 0 for
// embedding_dim, num_layers and widening_factor mean "not given"; finish_model_options turns them into
// std::nullopt.
struct ModelFlags {
  ModelOptions options;
  int embedding_dim = 0, num_layers = 0, widening_factor = 0;
};
void add_model_flags(CLI::App* command, ModelFlags& flags);
// --device and --dtype, for the commands that only score (eval, score): .lmac files are always coded on the CPU's
// fixed-order kernels. They default to auto there.
void add_device_flags(CLI::App* command, ModelFlags& flags);
ModelOptions finish_model_options(const ModelFlags& flags);

}  // namespace lmac
