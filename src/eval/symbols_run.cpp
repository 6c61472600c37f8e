#include "eval/symbols_run.hpp"

#include <fmt/format.h>

#include "audio/audio_files.hpp"
#include "audio/decoded_audio.hpp"
#include "util/atomic_file.hpp"
#include "util/error.hpp"

namespace lmac {

size_t run_symbols(const SymbolsConfig& config) {
  std::string streams, index;
  size_t files = 0;
  for (const std::string& path : list_files_sorted(config.audio_dir)) {
    std::optional<DecodedAudio> audio = decode_audio_file(path);
    if (!audio) {
      fmt::print(stderr, "lmac: warning: {}: not audio, skipped\n", path);
      continue;
    }
    const Bytes stream = make_symbol_stream(*audio, config.stream);
    index += fmt::format("{}\t{}\t{}\t{}\n", streams.size(), stream.size(), audio->sample_rate, path);
    streams.append(reinterpret_cast<const char*>(stream.data()), stream.size());
    ++files;
  }
  if (files == 0) throw_error(ErrorCode::no_audio, "--audio_dir {}: no audio files", config.audio_dir);
  write_file_atomically(config.output, streams);
  if (!config.index.empty()) write_file_atomically(config.index, index);
  return files;
}

}  // namespace lmac
