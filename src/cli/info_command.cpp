#include <fmt/format.h>

#include <memory>

#include "cli/commands.hpp"
#include "util/error.hpp"

namespace lmac {

Action add_info_command(CLI::App& app) {
  auto model_path = std::make_shared<std::string>();
  auto flags = std::make_shared<ModelFlags>();
  CLI::App* info = app.add_subcommand("info", "Describe a model: architecture, parameters, dtype, byte tokens, BOS, fingerprint");
  info->add_option("model", *model_path, "the model (as --model_path elsewhere)")->required();
  add_model_flags(info, *flags);
  return [model_path, flags]() {
    const ModelSpec spec = resolve_model_path(*model_path);
    if (spec.kind == ModelKind::none) throw_error(ErrorCode::usage, "lmac info needs a model, not 'none'");
    const auto model = load_model(spec, finish_model_options(*flags));
    const ModelInfo& m = model->info();
    fmt::print("name:          {}\n", m.name);
    fmt::print("path:          {}\n", m.path);
    fmt::print("model type:    {} ({})\n", m.model_type, m.format);
    fmt::print("architecture:  {}\n", m.architecture);
    fmt::print("parameters:    {}\n", m.parameter_count);
    fmt::print("stored dtype:  {}\n", m.stored_dtype);
    fmt::print("alphabet:      {} symbols\n", model->alphabet_size());
    if (auto bits = model->declared_bits()) fmt::print("declared bits: {}\n", *bits);
    fmt::print("BOS:           {} ({})\n", m.bos_token, m.bos_source);
    if (!m.byte_tokens.empty()) {
      fmt::print("byte tokens:  ");
      for (size_t i = 0; i < m.byte_tokens.size(); ++i) fmt::print(" {:02x}->{}", i, m.byte_tokens[i]);
      fmt::print("\n");
    }
    fmt::print("fingerprint:   {}\n", m.fingerprint);
    return 0;
  };
}

}  // namespace lmac
