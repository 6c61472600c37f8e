// Each subcommand registers its flags on the CLI11 app and returns the action to run after parsing.
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

namespace lmac {

using Action = std::function<int()>;  // returns the exit code; throws lmac::Error on failure

Action add_eval_command(CLI::App& app);

}  // namespace lmac
