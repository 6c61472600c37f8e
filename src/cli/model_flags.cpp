#include "cli/commands.hpp"

namespace lmac {

void add_model_flags(CLI::App* command, ModelFlags& f) {
  command->add_option("--num_heads,--num-heads", f.options.num_heads, "attention heads of framework models")
      ->capture_default_str();
  command->add_option("--embedding_dim,--embedding-dim", f.embedding_dim, "checked against the framework model's shapes");
  command->add_option("--num_layers,--num-layers", f.num_layers, "checked against the framework model's shapes");
  command->add_option("--widening_factor,--widening-factor", f.widening_factor,
                      "checked against the framework model's shapes");
  command->add_option("--byte_mapping,--byte-mapping", f.options.byte_mapping,
                      "bytes to tokens for Llama models: bytes, piece or ascii")
      ->check(CLI::IsMember({"bytes", "piece", "ascii"}))
      ->capture_default_str();
  command->add_option("--top_k,--top-k", f.options.top_k, "keep the K most likely symbols and renormalise (0: off)");
  command->add_option("--weights", f.options.weights,
                      "stored, or q8_0 to quantize a Llama safetensors model's linear layers at load")
      ->capture_default_str();
}

void add_device_flags(CLI::App* command, ModelFlags& f) {
  f.options.device = "auto";
  command->add_option("--device", f.options.device, "auto, cpu, cuda or cuda:N (auto: a GPU when one is usable)")
      ->capture_default_str();
  command->add_option("--dtype", f.options.dtype, "compute precision: auto (fp32 on the CPU, bf16 on a GPU), fp32, bf16 "
                      "or fp16")
      ->capture_default_str();
}

ModelOptions finish_model_options(const ModelFlags& f) {
  ModelOptions o = f.options;
  if (f.embedding_dim) o.embedding_dim = f.embedding_dim;
  if (f.num_layers) o.num_layers = f.num_layers;
  if (f.widening_factor) o.widening_factor = f.widening_factor;
  return o;
}

}  // namespace lmac
