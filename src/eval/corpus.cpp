#include "eval/corpus.hpp"

#include "audio/audio_files.hpp"
#include "audio/decoded_audio.hpp"
#include "util/error.hpp"

namespace lmac {

Corpus load_corpus(const CorpusOptions& options, const std::function<void(const std::string&)>& warn) {
  Corpus corpus;
  corpus.chunk_size = options.chunk_size;
  corpus.stream = options.stream;
  const std::vector<std::string> paths = list_files_sorted(options.audio_dir);
  if (paths.empty()) throw_error(ErrorCode::no_audio, "--audio_dir {}: the directory is empty", options.audio_dir);

  const auto wanted = options.num_chunks ? static_cast<size_t>(*options.num_chunks) : SIZE_MAX;
  size_t skipped = 0;
  for (const std::string& path : paths) {
    if (corpus.chunks.size() >= wanted) break;
    std::optional<DecodedAudio> audio = decode_audio_file(path);
    if (!audio) {
      warn(path + ": not audio, skipped");
      ++skipped;
      continue;
    }
    CorpusFile file{path, audio->sample_rate, make_symbol_stream(*audio, options.stream)};
    const size_t index = corpus.files.size();
    for (size_t offset = 0; offset + options.chunk_size <= file.stream.size() && corpus.chunks.size() < wanted;
         offset += options.chunk_size) {
      corpus.chunks.push_back({index, offset});
    }
    corpus.files.push_back(std::move(file));
  }
  if (corpus.files.empty()) {
    throw_error(ErrorCode::no_audio, "--audio_dir {}: no audio files among its {} files", options.audio_dir, skipped);
  }
  if (corpus.chunks.empty()) {
    throw_error(ErrorCode::no_audio, "--audio_dir {}: no file holds a complete chunk of {} bytes ({} audio files read)",
                options.audio_dir, options.chunk_size, corpus.files.size());
  }
  return corpus;
}

}  // namespace lmac
