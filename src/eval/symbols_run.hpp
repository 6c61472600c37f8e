// `lmac symbols`: the symbol streams lmac builds from audio, written out, so that tools (the training
// script) learn from exactly what lmac will later code.
#pragma once

#include <string>

#include "audio/symbol_stream.hpp"

namespace lmac {

struct SymbolsConfig {
  std::string audio_dir;
  StreamOptions stream;
  std::string output;  // the streams of all files, back to back, in sorted path order
  std::string index;   // optional: one line per file, "<byte offset>\t<byte length>\t<sample rate>\t<path>"
};

// Returns the number of files written.
size_t run_symbols(const SymbolsConfig& config);

}  // namespace lmac
