// The evaluation corpus: every audio file under --audio_dir as a symbol stream, cut into chunks exactly as
// the reference does (each file cut separately, the trailing partial chunk dropped, the first N chunks
// over all files).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "audio/symbol_stream.hpp"
#include "util/bytes.hpp"
#include "util/symbol_format.hpp"

namespace lmac {

struct CorpusFile {
  std::string path;
  int sample_rate = 0;
  Bytes stream;
};

struct Chunk {
  size_t file = 0;    // index into Corpus::files
  size_t offset = 0;  // byte offset into that file's stream
};

struct Corpus {
  std::vector<CorpusFile> files;  // every audio file read, in sorted path order
  std::vector<Chunk> chunks;
  size_t chunk_size = 0;
  StreamOptions stream;

  ByteView chunk_bytes(const Chunk& c) const { return ByteView(files[c.file].stream).subspan(c.offset, chunk_size); }
  SymbolFormat format_of(const Chunk& c) const { return {stream.bits, stream.byte_order, files[c.file].sample_rate}; }
  uint64_t raw_bytes() const { return static_cast<uint64_t>(chunks.size()) * chunk_size; }
};

struct CorpusOptions {
  std::string audio_dir;
  StreamOptions stream;
  size_t chunk_size = 2048;
  std::optional<int64_t> num_chunks;
};

// Reads files until num_chunks chunks are found (or all files are read). Files that are not audio are
// skipped with one line each through `warn`. Throws lmac::Error when the directory holds no audio, an
// audio file is damaged, or not one complete chunk exists.
Corpus load_corpus(const CorpusOptions& options, const std::function<void(const std::string&)>& warn);

}  // namespace lmac
