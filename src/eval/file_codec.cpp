#include "eval/file_codec.hpp"

#include <omp.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <memory>
#include <thread>

#include "audio/decoded_audio.hpp"
#include "audio/symbol_stream.hpp"
#include "audio/wav_layout.hpp"
#include "coding/arithmetic_coder.hpp"
#include "coding/pdf.hpp"
#include "eval/file_codec_test_model.hpp"
#include "eval/model_scoring.hpp"
#include "util/error.hpp"
#include "util/temporary_files.hpp"

namespace lmac {

// ---------------------------------------------------------------------------------------------------------------
// Input

namespace {

// A temporary copy of stdin for libsndfile, removed when it goes out of scope.
class TemporaryCopy {
 public:
  explicit TemporaryCopy(ByteView bytes) {
    path_ = (std::filesystem::temp_directory_path() / "lmac-input-XXXXXX").string();
    const int fd = mkstemp(path_.data());
    if (fd < 0) throw_error(ErrorCode::io, "cannot create a temporary file for standard input: {}", std::strerror(errno));
    guard_ = std::make_unique<TemporaryFileGuard>(path_);
    size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t n = write(fd, bytes.data() + done, bytes.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        const int err = errno;
        close(fd);
        unlink(path_.c_str());
        throw_error(ErrorCode::io, "cannot write a temporary copy of standard input: {}", std::strerror(err));
      }
      done += static_cast<size_t>(n);
    }
    close(fd);
  }
  ~TemporaryCopy() { unlink(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::unique_ptr<TemporaryFileGuard> guard_;  // removes the copy on an interrupt
};

}  // namespace

AudioForCoding audio_for_coding(ByteView file, const std::string& name, const std::optional<std::string>& path) {
  AudioForCoding in;
  LmacAudio& a = in.audio;
  const WavParse wav = parse_wav_layout(file, name);
  if (wav.kind == WavKind::float_pcm) {
    throw_error(ErrorCode::unsupported,
                "{}: a float WAV ({}): lmac compresses integer PCM only, and float samples would not come back exactly",
                name, wav.details);
  }
  if (wav.kind == WavKind::pcm) {
    const WavLayout& w = wav.layout;
    a.container = 0;
    a.source_format = fmt::format("WAV PCM_{}", w.container_bits);
    a.sample_rate = static_cast<uint32_t>(w.sample_rate);
    a.channels = static_cast<uint16_t>(w.channels);
    a.sample_bits = static_cast<uint8_t>(w.container_bits);
    a.frames = w.frames;
    a.head.assign(file.begin(), file.begin() + static_cast<std::ptrdiff_t>(w.data_offset));
    a.tail.assign(file.begin() + static_cast<std::ptrdiff_t>(w.data_end()), file.end());
    in.samples = read_pcm_samples(file.subspan(w.data_offset, w.data_end() - w.data_offset), w.container_bits);
    in.original_size = file.size();
    in.original_xxh64 = xxh64_of(file);
    return in;
  }

  // Every other format: libsndfile decodes it, and a canonical WAV with the same samples comes back.
  std::optional<TemporaryCopy> copy;
  if (!path) copy.emplace(file);
  std::optional<DecodedAudio> decoded = decode_audio_file(path ? *path : copy->path());
  if (!decoded) throw_error(ErrorCode::bad_audio, "{}: not an audio file lmac can read", name);
  DecodedAudio& d = *decoded;
  if (d.source_is_float()) {
    throw_error(ErrorCode::unsupported,
                "{}: {} is float or lossy audio: lmac compresses integer PCM only (WAV, FLAC, AIFF, ...), as flac does",
                name, d.format_name);
  }
  a.container = 1;
  a.source_format = d.format_name;
  a.sample_rate = static_cast<uint32_t>(d.sample_rate);
  a.channels = static_cast<uint16_t>(d.channels);
  a.sample_bits = static_cast<uint8_t>(d.source_bits);
  a.frames = static_cast<uint64_t>(d.frames);
  a.head = canonical_wav_header(d.channels, d.sample_rate, d.source_bits, a.frames);
  const uint64_t data_size = a.frames * d.channels * (d.source_bits / 8);
  if (data_size & 1) a.tail.push_back(0);  // RIFF pads odd chunks
  Bytes original = a.head;
  append_pcm_samples(d.samples, d.source_bits, original);
  original.insert(original.end(), a.tail.begin(), a.tail.end());
  in.samples = std::move(d.samples);
  in.original_size = original.size();
  in.original_xxh64 = xxh64_of(original);
  return in;
}

// ---------------------------------------------------------------------------------------------------------------
// Geometry: which samples, symbols and raw bits each chunk holds

namespace {

struct Geometry {
  int sample_bits = 16;   // S: width of a sample in the output WAV
  int symbol_bits = 8;    // B: width of the symbol stream
  int alphabet = 256;     // A
  uint64_t total_samples = 0;
  uint64_t samples_per_chunk = 0;
  size_t num_chunks = 0;

  int stream_bytes_per_sample() const { return symbol_bits / 8; }
  int raw_bits_per_sample() const { return std::max(sample_bits - symbol_bits, 0); }
  uint64_t first(size_t k) const { return k * samples_per_chunk; }
  uint64_t count(size_t k) const { return std::min(samples_per_chunk, total_samples - first(k)); }
  uint64_t symbols(size_t k) const { return alphabet == 65536 ? count(k) : count(k) * stream_bytes_per_sample(); }
  uint64_t raw_bits(size_t k) const {
    return count(k) * raw_bits_per_sample() + (alphabet == 128 ? count(k) * stream_bytes_per_sample() : 0);
  }
};

Geometry geometry_of(const LmacAudio& audio, const LmacCoding& coding) {
  Geometry g;
  g.sample_bits = audio.sample_bits;
  g.symbol_bits = coding.bits;
  g.alphabet = static_cast<int>(coding.alphabet_size);
  g.total_samples = audio.frames * audio.channels;
  g.samples_per_chunk = coding.chunk_size / g.stream_bytes_per_sample();
  g.num_chunks = static_cast<size_t>((g.total_samples + g.samples_per_chunk - 1) / g.samples_per_chunk);
  return g;
}

// Interleaved samples in the order of the symbol stream: blocks of n samples per channel (DESIGN.md section 2).
template <typename Visit>
void for_each_in_stream_order(uint64_t frames, int channels, uint64_t n, Visit visit) {
  uint64_t j = 0;
  for (uint64_t start = 0; start < frames; start += n) {
    const uint64_t end = std::min(frames, start + n);
    for (int c = 0; c < channels; ++c) {
      for (uint64_t i = start; i < end; ++i) visit(j++, i * channels + c);
    }
  }
}

// Bits stored verbatim, most significant first, zero-padded at the end.
class RawBitWriter {
 public:
  void put(uint32_t value, int n) {
    for (int i = n - 1; i >= 0; --i) {
      if (bits_ % 8 == 0) bytes.push_back(0);
      bytes.back() |= static_cast<uint8_t>(((value >> i) & 1u) << (7 - bits_ % 8));
      ++bits_;
    }
  }
  uint64_t num_bits() const { return bits_; }
  Bytes bytes;

 private:
  uint64_t bits_ = 0;
};

class RawBitReader {
 public:
  explicit RawBitReader(ByteView bytes) : bytes_(bytes) {}
  uint32_t get(int n) {
    uint32_t v = 0;
    for (int i = 0; i < n; ++i, ++at_) v = (v << 1) | ((bytes_[at_ / 8] >> (7 - at_ % 8)) & 1u);
    return v;
  }

 private:
  ByteView bytes_;
  uint64_t at_ = 0;
};

// The sample bytes a chunk's checksum covers: its samples in stream order, as the output WAV stores them.
uint32_t chunk_checksum(std::span<const int32_t> samples, int sample_bits) {
  Bytes bytes;
  append_pcm_samples(samples, sample_bits, bytes);
  return xxh32_of(bytes);
}

SymbolFormat symbol_format_of(const LmacCoding& c) {
  SymbolFormat f;
  f.bits = c.bits;
  f.byte_order = c.byte_order ? ByteOrder::lsb : ByteOrder::msb;
  return f;
}

// Windows of --max_length (DESIGN.md section 2), as score_in_windows cuts them: x[begin, end) is fed to the
// model, rows of x[first_new, end) are coded.
struct Window {
  uint64_t begin, first_new, end;
};

std::vector<Window> windows_of(uint64_t length, uint64_t max_length) {
  std::vector<Window> windows;
  const uint64_t context = max_length / 2;
  for (uint64_t next = 0; next < length;) {
    const uint64_t begin = next == 0 ? 0 : next - context;
    const uint64_t end = std::min(length, begin + max_length);
    windows.push_back({begin, next, end});
    next = end;
  }
  return windows;
}

int resolve_threads(int requested) {
  if (requested > 0) return requested;
  if (const char* env = std::getenv("OMP_NUM_THREADS")) {
    const int n = std::atoi(env);
    if (n > 0) return n;
  }
  return std::max(1u, std::thread::hardware_concurrency());
}

// Groups of chunks with the same number of symbols, at most `batch` each, in chunk order.
std::vector<std::vector<size_t>> group_chunks(const std::vector<size_t>& chunks, const Geometry& g, int batch) {
  std::vector<std::vector<size_t>> groups;
  for (size_t k : chunks) {
    if (groups.empty() || groups.back().size() >= static_cast<size_t>(batch) ||
        g.symbols(groups.back().front()) != g.symbols(k)) {
      groups.emplace_back();
    }
    groups.back().push_back(k);
  }
  return groups;
}

// Runs work(group, scorer) over every group on `threads` workers, each with its own scorer. Returns the
// exception of each group that failed (null where it succeeded).
std::vector<std::exception_ptr> run_groups(LanguageModel& model, size_t num_groups, int threads,
                                           const std::function<void(size_t, ExactScorer&)>& work) {
  std::vector<std::exception_ptr> errors(num_groups);
  const size_t workers = std::min<size_t>(num_groups, static_cast<size_t>(std::max(threads, 1)));
  std::vector<std::unique_ptr<ExactScorer>> scorers;
  for (size_t w = 0; w < workers; ++w) {
    scorers.push_back(model.exact_scorer());
    if (!scorers.back()) throw_error(ErrorCode::internal, "the model's exact scorer disappeared");
  }
  std::atomic<size_t> next{0};
  auto worker = [&](size_t w) {
    // Several workers share the cores: each runs its scorer's OpenMP regions on its own thread alone, so that
    // workers x OpenMP threads never oversubscribe the machine. (The bits do not depend on it.)
    if (workers > 1) omp_set_num_threads(1);
    for (size_t i = next++; i < num_groups; i = next++) {
      try {
        work(i, *scorers[w]);
      } catch (...) {
        errors[i] = std::current_exception();
      }
    }
  };
  std::vector<std::thread> pool;
  for (size_t w = 1; w < workers; ++w) pool.emplace_back(worker, w);
  const int main_thread_omp = omp_get_max_threads();
  if (workers > 0) worker(0);
  omp_set_num_threads(main_thread_omp);
  for (std::thread& t : pool) t.join();
  return errors;
}

std::unique_ptr<ExactScorer> require_exact_scorer(LanguageModel& model) {
  std::unique_ptr<ExactScorer> scorer = model.exact_scorer();
  if (!scorer) {
    throw_error(ErrorCode::unsupported,
                "model {} has no deterministic scorer yet: .lmac files need one, so that decompression sees "
                "bit-identical pdfs (`lmac eval` can still measure it)",
                model.info().name.empty() ? model.info().path : model.info().name);
  }
  if (scorer->alphabet_size() != model.alphabet_size()) {
    throw_error(ErrorCode::internal, "model {}: its exact scorer predicts {} symbols, the model {}", model.info().name,
                scorer->alphabet_size(), model.alphabet_size());
  }
  return scorer;
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------------
// Compression

CompressResult compress_audio(const AudioForCoding& input, LanguageModel& model, const ModelOptions& options_used,
                              const FileCodecOptions& options) {
  const std::unique_ptr<ExactScorer> probe = require_exact_scorer(model);
  const LmacAudio& audio = input.audio;
  const int bits = options.bits ? *options.bits : model.declared_bits().value_or(std::min<int>(audio.sample_bits, 16));
  if (bits != 8 && bits != 16) throw_error(ErrorCode::usage, "--bits must be 8 or 16, not {}", bits);
  if (options.chunk_size <= 0 || options.chunk_size > (int64_t{1} << 30)) {
    throw_error(ErrorCode::usage, "--chunk_size must be between 1 and 2^30, not {}", options.chunk_size);
  }
  if (bits == 16 && options.chunk_size % 2 != 0) {
    throw_error(ErrorCode::usage, "--chunk_size {} is odd: 16-bit symbols need an even number of bytes", options.chunk_size);
  }
  if (options.max_length <= 0) throw_error(ErrorCode::usage, "--max_length must be positive, not {}", options.max_length);
  if (options.stereo_blocking_n <= 0) {
    throw_error(ErrorCode::usage, "--stereo_blocking_n must be positive, not {}", options.stereo_blocking_n);
  }
  if (model.alphabet_size() == 65536 && bits != 16) {
    throw_error(ErrorCode::usage, "model {} predicts 65536 symbols (16-bit samples): use --bits 16", model.info().name);
  }

  LmacHeader header;
  header.writer = "lmac " LMAC_VERSION;
  LmacCoding& c = header.coding;
  c.model_name = model.info().name;
  c.model_type = model.info().model_type;
  c.model_fingerprint = model.info().fingerprint;
  c.kernel_id = probe->kernel_id();
  c.num_heads = options_used.num_heads;
  c.byte_mapping = options_used.byte_mapping;
  c.top_k = options_used.top_k;
  c.weights = options_used.weights;
  c.max_length = options.max_length;
  c.chunk_size = static_cast<uint64_t>(options.chunk_size);
  c.bits = static_cast<uint8_t>(bits);
  c.byte_order = options.byte_order == ByteOrder::lsb ? 1 : 0;
  c.stereo_blocking_n = static_cast<uint32_t>(options.stereo_blocking_n);
  c.alphabet_size = static_cast<uint32_t>(model.alphabet_size());
  c.fingerprint = coding_fingerprint(c);
  header.audio = audio;
  header.original_size = input.original_size;
  header.original_xxh64 = input.original_xxh64;

  const Geometry g = geometry_of(audio, c);
  if (input.samples.size() != g.total_samples) {
    throw_error(ErrorCode::internal, "compress: {} samples for {} frames", input.samples.size(), audio.frames);
  }
  // The stream: samples in channel-blocked order, then the symbol bytes of DESIGN.md section 2.
  DecodedAudio ordered;
  ordered.channels = 1;
  ordered.frames = static_cast<int64_t>(g.total_samples);
  ordered.samples.resize(g.total_samples);
  for_each_in_stream_order(audio.frames, audio.channels, c.stereo_blocking_n,
                           [&](uint64_t j, uint64_t i) { ordered.samples[j] = input.samples[i]; });
  StreamOptions stream_options;
  stream_options.bits = bits;
  stream_options.byte_order = options.byte_order;
  const Bytes stream = make_symbol_stream(ordered, stream_options);
  const SymbolFormat format = symbol_format_of(c);
  const int A = model.alphabet_size();

  header.chunks.resize(g.num_chunks);
  std::vector<Bytes> payloads(g.num_chunks);
  std::vector<size_t> all(g.num_chunks);
  for (size_t k = 0; k < all.size(); ++k) all[k] = k;
  // One full pass per window holds length * A floats per chunk: keep a batch within 256 MiB.
  const uint64_t window = std::min<uint64_t>(g.num_chunks ? g.symbols(0) : 0, static_cast<uint64_t>(c.max_length));
  const int by_memory = static_cast<int>(std::max<uint64_t>(1, (uint64_t{1} << 26) / std::max<uint64_t>(1, window * A)));
  const auto groups = group_chunks(all, g, std::clamp(options.batch_size, 1, by_memory));

  auto encode_group = [&](size_t gi, ExactScorer& scorer) {
    const std::vector<size_t>& group = groups[gi];
    const int batch = static_cast<int>(group.size());
    const uint64_t n = g.symbols(group[0]);
    std::vector<std::vector<uint32_t>> symbols(group.size());
    for (int b = 0; b < batch; ++b) {
      const size_t k = group[b];
      const uint64_t bps = g.stream_bytes_per_sample();
      symbols[b] = symbols_of_chunk(ByteView(stream).subspan(g.first(k) * bps, g.count(k) * bps), format, A);
      if (symbols[b].size() != n) throw_error(ErrorCode::internal, "chunk {}: {} symbols, expected {}", k, symbols[b].size(), n);
    }
    std::vector<ArithmeticEncoder> encoders(group.size());
    std::vector<uint32_t> in;
    std::vector<float> out, pdf(static_cast<size_t>(A));
    for (const Window& w : windows_of(n, static_cast<uint64_t>(c.max_length))) {
      const uint64_t L = w.end - w.begin;
      in.resize(batch * L);
      for (int b = 0; b < batch; ++b) std::copy_n(&symbols[b][w.begin], L, &in[b * L]);
      out.resize(in.size() * A);
      scorer.log_probs(in, batch, static_cast<int>(L), out);
      for (int b = 0; b < batch; ++b) {
        for (uint64_t t = w.first_new; t < w.end; ++t) {
          pdf_from_log_probs(std::span<const float>(&out[(b * L + (t - w.begin)) * A], A), pdf);
          encoders[b].encode(pdf, symbols[b][t]);
        }
      }
    }
    for (int b = 0; b < batch; ++b) {
      const size_t k = group[b];
      EncodedBits code = encoders[b].finish();
      if (code.bytes.size() != (code.num_bits + 7) / 8) throw_error(ErrorCode::internal, "chunk {}: code length mismatch", k);
      RawBitWriter raw;
      const int raw_per_sample = g.raw_bits_per_sample();
      std::span<const int32_t> samples(&ordered.samples[g.first(k)], g.count(k));
      if (raw_per_sample > 0) {
        const uint32_t mask = (raw_per_sample == 32) ? 0xFFFFFFFFu : ((1u << raw_per_sample) - 1);
        for (int32_t s : samples) raw.put((static_cast<uint32_t>(s) >> (32 - g.sample_bits)) & mask, raw_per_sample);
      }
      if (A == 128) {
        const uint64_t bps = g.stream_bytes_per_sample();
        for (uint8_t byte : ByteView(stream).subspan(g.first(k) * bps, g.count(k) * bps)) raw.put(byte & 1u, 1);
      }
      if (raw.num_bits() != g.raw_bits(k)) throw_error(ErrorCode::internal, "chunk {}: raw bit count mismatch", k);
      LmacChunk& entry = header.chunks[k];
      entry.code_bits = code.num_bits;
      entry.raw_bits = raw.num_bits();
      Bytes& payload = payloads[k];
      payload = std::move(code.bytes);
      payload.insert(payload.end(), raw.bytes.begin(), raw.bytes.end());
      entry.payload_xxh32 = xxh32_of(payload);
      entry.original_xxh32 = chunk_checksum(samples, g.sample_bits);
    }
  };
  for (std::exception_ptr& e : run_groups(model, groups.size(), resolve_threads(options.threads), encode_group)) {
    if (e) std::rethrow_exception(e);
  }

  CompressResult result;
  result.lmac = write_lmac(header, payloads);
  for (const LmacChunk& k : header.chunks) {
    result.code_bits += k.code_bits;
    result.raw_bits += k.raw_bits;
  }
  result.samples = g.total_samples;
  result.symbol_bits = bits;
  result.num_chunks = g.num_chunks;
  return result;
}

// ---------------------------------------------------------------------------------------------------------------
// Decompression

LmacFile read_lmac_file(ByteView file, const std::string& name) {
  try {
    return read_lmac(file);
  } catch (const Error& e) {
    throw Error(e.code(), fmt::format("{}: {}", name, e.what()));
  }
}

ModelOptions model_options_of(const LmacHeader& header) {
  ModelOptions o;
  o.num_heads = header.coding.num_heads;
  o.byte_mapping = header.coding.byte_mapping;
  o.top_k = header.coding.top_k;
  o.weights = header.coding.weights;
  return o;
}

void check_model_matches(const LmacHeader& header, LanguageModel& model, const std::string& name) {
  const LmacCoding& file = header.coding;
  const ModelInfo& info = model.info();
  if (info.fingerprint != file.model_fingerprint || static_cast<uint32_t>(model.alphabet_size()) != file.alphabet_size) {
    throw_error(ErrorCode::mismatch,
                "{} was compressed with model '{}' (fingerprint {}, {} symbols) with flags {}, but --model_path "
                "gives model '{}' (fingerprint {}, {} symbols) with those flags",
                name, file.model_name, file.model_fingerprint, file.alphabet_size, describe_flags(file), info.name,
                info.fingerprint, model.alphabet_size());
  }
  const std::unique_ptr<ExactScorer> scorer = require_exact_scorer(model);
  if (scorer->kernel_id() != file.kernel_id) {
    throw_error(ErrorCode::mismatch,
                "{} was coded on backend '{}', but model '{}' here computes on backend '{}': pdfs would differ, so "
                "decode it on the backend that made it",
                name, file.kernel_id, info.name, scorer->kernel_id());
  }
  LmacCoding ours = file;
  ours.model_fingerprint = info.fingerprint;
  ours.kernel_id = scorer->kernel_id();
  if (coding_fingerprint(ours) != file.fingerprint) {
    throw_error(ErrorCode::corrupt_stream, "{}: header damaged: its fingerprint {:016x} does not match its flags ({:016x})",
                name, file.fingerprint, coding_fingerprint(ours));
  }
}

namespace {

std::string list_chunks(const std::vector<size_t>& chunks) {
  std::string s;
  const size_t shown = std::min<size_t>(chunks.size(), 10);
  for (size_t i = 0; i < shown; ++i) s += (i ? ", " : "") + std::to_string(chunks[i]);
  if (chunks.size() > shown) s += fmt::format(" and {} more", chunks.size() - shown);
  return s;
}

}  // namespace

Bytes decompress_lmac(ByteView file, const LmacFile& parsed, LanguageModel& model, const DecodeOptions& options,
                      const std::string& name) {
  const LmacHeader& header = parsed.header;
  const LmacCoding& c = header.coding;
  const LmacAudio& audio = header.audio;
  check_model_matches(header, model, name);
  const Geometry g = geometry_of(audio, c);
  if (header.chunks.size() != g.num_chunks) {
    throw_error(ErrorCode::corrupt_stream, "{}: header damaged: {} chunks for {} samples in chunks of {}", name,
                header.chunks.size(), g.total_samples, g.samples_per_chunk);
  }
  for (size_t k = 0; k < g.num_chunks; ++k) {
    if (header.chunks[k].raw_bits != g.raw_bits(k)) {
      throw_error(ErrorCode::corrupt_stream, "{}: header damaged: chunk {} claims {} raw bits, not {}", name, k,
                  header.chunks[k].raw_bits, g.raw_bits(k));
    }
  }
  if (c.alphabet_size == 65536 && c.bits != 16) {
    throw_error(ErrorCode::corrupt_stream, "{}: header damaged: 65536 symbols at {} bits", name, c.bits);
  }

  // Every payload is checked before anything is decoded (FLAC's frame CRC).
  std::vector<size_t> damaged, intact;
  for (size_t k = 0; k < g.num_chunks; ++k) {
    (!options.check_payload_checksums || chunk_payload_intact(file, parsed, k) ? intact : damaged).push_back(k);
  }
  if (!damaged.empty()) {
    throw_error(ErrorCode::corrupt_stream, "{}: damaged: chunk{} {} of {} fail{} the payload checksum", name,
                damaged.size() > 1 ? "s" : "", list_chunks(damaged), g.num_chunks, damaged.size() > 1 ? "" : "s");
  }

  const int A = static_cast<int>(c.alphabet_size);
  const int B = c.bits, S = g.sample_bits;
  const uint64_t bps = g.stream_bytes_per_sample();
  std::vector<int32_t> ordered(g.total_samples);
  std::vector<uint8_t> chunk_ok(g.num_chunks, 0);
  const auto groups = group_chunks(intact, g, std::max(options.batch_size, 1));

  auto decode_group = [&](size_t gi, ExactScorer& scorer) {
    const std::vector<size_t>& group = groups[gi];
    const int batch = static_cast<int>(group.size());
    const uint64_t n = g.symbols(group[0]);
    std::vector<ArithmeticDecoder> decoders;
    for (size_t k : group) {
      decoders.emplace_back(file.subspan(parsed.payload_offsets[k], (header.chunks[k].code_bits + 7) / 8),
                            header.chunks[k].code_bits);
    }
    std::vector<std::vector<uint32_t>> symbols(group.size(), std::vector<uint32_t>(n));
    std::vector<uint32_t> previous(group.size(), 0);
    std::vector<float> rows(group.size() * A), pdf(static_cast<size_t>(A));
    for (const Window& w : windows_of(n, static_cast<uint64_t>(c.max_length))) {
      scorer.begin(batch);
      for (uint64_t t = w.begin; t < w.end; ++t) {
        scorer.step(previous, rows);
        for (int b = 0; b < batch; ++b) {
          if (t >= w.first_new) {
            pdf_from_log_probs(std::span<const float>(&rows[size_t(b) * A], A), pdf);
            symbols[b][t] = decoders[b].decode(pdf);
          }
          previous[b] = symbols[b][t];
        }
      }
    }
    // Symbols -> stream bytes -> the top B bits of each sample, then the raw bits below them.
    for (int b = 0; b < batch; ++b) {
      const size_t k = group[b];
      const LmacChunk& entry = header.chunks[k];
      Bytes bytes;
      bytes.reserve(g.count(k) * bps);
      RawBitReader raw(file.subspan(parsed.payload_offsets[k] + (entry.code_bits + 7) / 8, (entry.raw_bits + 7) / 8));
      const int raw_per_sample = g.raw_bits_per_sample();
      std::vector<uint32_t> low(raw_per_sample > 0 ? g.count(k) : 0);
      for (uint32_t& v : low) v = raw.get(raw_per_sample);
      for (uint32_t s : symbols[b]) {
        if (A == 65536) {
          const uint8_t hi = static_cast<uint8_t>(s >> 8), lo = static_cast<uint8_t>(s);
          bytes.push_back(c.byte_order ? lo : hi);
          bytes.push_back(c.byte_order ? hi : lo);
        } else if (A == 128) {
          bytes.push_back(static_cast<uint8_t>(s << 1));
        } else {
          bytes.push_back(static_cast<uint8_t>(s));
        }
      }
      if (A == 128) {
        for (uint8_t& byte : bytes) byte |= static_cast<uint8_t>(raw.get(1));
      }
      int32_t* out = &ordered[g.first(k)];
      for (uint64_t i = 0; i < g.count(k); ++i) {
        uint32_t v;
        if (B == 8) {
          v = static_cast<uint32_t>(bytes[i] ^ 0x80) << 24;
        } else {
          const uint32_t first = bytes[2 * i], second = bytes[2 * i + 1];
          const uint32_t u = c.byte_order ? (second << 8) | first : (first << 8) | second;
          v = (u ^ 0x8000u) << 16;
        }
        if (raw_per_sample > 0) v |= low[i] << (32 - S);
        out[i] = static_cast<int32_t>(v);
      }
      // Bits below a narrower sample must be zero; then the chunk's own checksum decides.
      const uint32_t below = S >= 32 ? 0u : (0xFFFFFFFFu >> S);
      bool ok = true;
      for (uint64_t i = 0; i < g.count(k); ++i) ok = ok && (static_cast<uint32_t>(out[i]) & below) == 0;
      chunk_ok[k] = ok && chunk_checksum(std::span<const int32_t>(out, g.count(k)), S) == entry.original_xxh32;
    }
  };
  const auto errors = run_groups(model, groups.size(), resolve_threads(options.threads), decode_group);
  std::vector<size_t> failed;
  std::string first_error;
  for (size_t gi = 0; gi < groups.size(); ++gi) {
    if (errors[gi] && first_error.empty()) {
      try {
        std::rethrow_exception(errors[gi]);
      } catch (const std::exception& e) {
        first_error = e.what();
      }
    }
    for (size_t k : groups[gi]) {
      if (errors[gi] || !chunk_ok[k]) failed.push_back(k);
    }
  }
  if (!failed.empty()) {
    std::sort(failed.begin(), failed.end());
    throw_error(ErrorCode::corrupt_stream,
                "{}: damaged: chunk{} {} of {} decode{} to samples that fail the checksum{}{} (damaged data, or pdfs that "
                "differ from the encoder's)",
                name, failed.size() > 1 ? "s" : "", list_chunks(failed), g.num_chunks, failed.size() > 1 ? "" : "s",
                first_error.empty() ? "" : ": ", first_error);
  }

  Bytes restored = audio.head;
  std::vector<int32_t> interleaved(g.total_samples);
  for_each_in_stream_order(audio.frames, audio.channels, c.stereo_blocking_n,
                           [&](uint64_t j, uint64_t i) { interleaved[i] = ordered[j]; });
  append_pcm_samples(interleaved, S, restored);
  restored.insert(restored.end(), audio.tail.begin(), audio.tail.end());
  if (restored.size() != header.original_size || xxh64_of(restored) != header.original_xxh64) {
    throw_error(ErrorCode::corrupt_stream, "{}: damaged: the restored file fails the whole-file checksum", name);
  }
  return restored;
}

std::unique_ptr<LanguageModel> load_model_for_files(const std::string& model_path, const ModelOptions& options) {
  if (model_path.rfind(kTestModelPrefix, 0) == 0) return make_test_model(model_path, options);
  if (model_path == "none") throw_error(ErrorCode::usage, "--model_path none: compress and decompress need a model");
  return load_model(resolve_model_path(model_path), options);
}

}  // namespace lmac
