// `lmac compress`, `lmac decompress` and `lmac test`: real .lmac files, with flac/zstd-style flags.
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <optional>

#include "audio/wav_layout.hpp"
#include "cli/commands.hpp"
#include "eval/file_codec.hpp"
#include "util/atomic_file.hpp"
#include "util/error.hpp"

namespace lmac {

namespace {

// Flags shared by the three commands.
struct FileFlags {
  std::vector<std::string> inputs;
  std::string output;
  std::string model_path;
  bool to_stdout = false, keep = false, remove_input = false, force = false, verify = false, test_only = false;
  bool quiet = false;
  int threads = 0, batch_size = 8;
};

void add_file_flags(CLI::App* cmd, FileFlags& f, bool writes) {
  cmd->add_option("inputs", f.inputs, "input files; - reads standard input")->required();
  cmd->add_option("--model_path,--model-path", f.model_path, "the model (the one the file was made with, to decode)")
      ->required();
  if (writes) {
    cmd->add_option("-o,--output", f.output, "the output file (one input only)");
    cmd->add_flag("-c,--stdout", f.to_stdout, "write to standard output");
    cmd->add_flag("-k,--keep", f.keep, "keep the input (the default)");
    cmd->add_flag("--rm", f.remove_input, "remove the input after success");
    cmd->add_flag("-f,--force", f.force, "overwrite an existing output");
  }
  cmd->add_option("--threads", f.threads, "chunks coded at once (default: OMP_NUM_THREADS, else every core); "
                                          "the output does not depend on it");
  cmd->add_option("--batch_size,--batch-size", f.batch_size, "chunks stepped together by one scorer (no effect on the output)")
      ->capture_default_str();
  cmd->add_flag("-q,--quiet", f.quiet, "no report on standard error");
}

Bytes read_input(const std::string& path) {
  if (path == "-") {
    std::string data((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
    if (std::cin.bad()) throw_error(ErrorCode::io, "standard input: read failed");
    return Bytes(data.begin(), data.end());
  }
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw_error(ErrorCode::io, "{}: is a directory", path);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw_error(ErrorCode::io, "{}: cannot read: {}", path, std::strerror(errno));
  Bytes data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw_error(ErrorCode::io, "{}: read failed", path);
  return data;
}

void write_stdout(ByteView bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = write(STDOUT_FILENO, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw_error(ErrorCode::io, "standard output: write failed: {}", std::strerror(errno));
    done += static_cast<size_t>(n);
  }
}

std::string display_name(const std::string& path) { return path == "-" ? "standard input" : path; }

// Where one input's result goes: "" means standard output.
std::string output_of(const FileFlags& f, const std::string& input, const std::function<std::string()>& default_name) {
  if (f.to_stdout) return "";
  if (!f.output.empty()) return f.output == "-" ? "" : f.output;
  if (input == "-") return "";
  return default_name();
}

void check_flags(const FileFlags& f) {
  if (f.keep && f.remove_input) throw_error(ErrorCode::usage, "-k and --rm contradict each other");
  if (!f.output.empty() && f.inputs.size() > 1) throw_error(ErrorCode::usage, "-o takes one input, not {}", f.inputs.size());
  if (!f.output.empty() && f.to_stdout) throw_error(ErrorCode::usage, "-o and -c contradict each other");
  if (f.to_stdout && f.inputs.size() > 1) throw_error(ErrorCode::usage, "-c takes one input, not {}", f.inputs.size());
  if (f.threads < 0) throw_error(ErrorCode::usage, "--threads must not be negative, not {}", f.threads);
  if (f.batch_size <= 0) throw_error(ErrorCode::usage, "--batch_size must be positive, not {}", f.batch_size);
}

// Refuses before any work is done: an existing output without -f, or an output that is the input.
void check_output(const FileFlags& f, const std::string& input, const std::string& output) {
  if (output.empty()) return;
  std::error_code ec;
  if (input != "-" && std::filesystem::exists(output, ec) && std::filesystem::equivalent(input, output, ec)) {
    throw_error(ErrorCode::usage, "{}: the output would overwrite the input", output);
  }
  if (!f.force && std::filesystem::exists(output, ec)) {
    throw_error(ErrorCode::io, "{}: already exists (use -f to overwrite)", output);
  }
}

void deliver(const FileFlags& f, const std::string& input, const std::string& output, ByteView bytes) {
  if (output.empty()) {
    write_stdout(bytes);
  } else {
    write_file_atomically(output, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
  }
  if (f.remove_input && input != "-") {
    std::error_code ec;
    if (!std::filesystem::remove(input, ec)) throw_error(ErrorCode::io, "{}: cannot remove: {}", input, ec.message());
  }
}

// Decodes `lmac` bytes; the model is loaded with the file's own flags (and reused while they stay the same).
class Decoder {
 public:
  explicit Decoder(const FileFlags& f) : flags_(f) {}
  Bytes decode(ByteView file, const LmacFile& parsed, const std::string& name) {
    const ModelOptions options = model_options_of(parsed.header);
    if (!model_ || options != options_) {
      model_.reset();
      model_ = load_model_for_files(flags_.model_path, options);
      options_ = options;
    }
    return decompress_lmac(file, parsed, *model_, DecodeOptions{flags_.threads, flags_.batch_size}, name);
  }

 private:
  const FileFlags& flags_;
  std::unique_ptr<LanguageModel> model_;
  ModelOptions options_;
};

// --verify: the written bytes must decode to the original file (or, for a canonical WAV, the same samples).
void verify(LanguageModel& model, const FileFlags& f, ByteView lmac, const AudioForCoding& input, ByteView original,
            const std::string& name) {
  const LmacFile parsed = read_lmac_file(lmac, name + " (verify)");
  const Bytes restored = decompress_lmac(lmac, parsed, model, DecodeOptions{f.threads, f.batch_size}, name);
  bool same;
  if (input.audio.container == 0) {
    same = restored.size() == original.size() && std::equal(restored.begin(), restored.end(), original.begin());
  } else {
    const WavParse wav = parse_wav_layout(restored, name);
    same = wav.kind == WavKind::pcm &&
           read_pcm_samples(ByteView(restored).subspan(wav.layout.data_offset, wav.layout.data_end() - wav.layout.data_offset),
                            wav.layout.container_bits) == input.samples;
  }
  if (!same) throw_error(ErrorCode::internal, "{}: --verify failed: the .lmac data does not decode to the input", name);
}

}  // namespace

Action add_compress_command(CLI::App& app) {
  auto flags = std::make_shared<FileFlags>();
  auto model_flags = std::make_shared<ModelFlags>();
  auto codec = std::make_shared<FileCodecOptions>();
  auto bits = std::make_shared<int>(0);
  auto byte_order = std::make_shared<std::string>("msb");
  CLI::App* cmd = app.add_subcommand(
      "compress",
      "Compress audio files losslessly into .lmac files (IN -> IN.lmac). A WAV file comes back byte for byte; "
      "any other lossless format (FLAC, AIFF, ...) comes back as a WAV file with identical samples, as with "
      "flac -d. Float and lossy input (float WAV, Vorbis, MP3, Opus) is refused.");
  add_file_flags(cmd, *flags, true);
  cmd->add_flag("-V,--verify", flags->verify, "decode the result and compare it with the input before reporting success");
  add_model_flags(cmd, *model_flags);
  cmd->add_option("--bits", *bits, "symbol width, 8 or 16 (default: the model's declared width, else the audio's own, "
                                   "at most 16); bits below it are stored raw");
  cmd->add_option("--byte_order,--byte-order", *byte_order, "byte order of 16-bit samples for byte-level models: msb or lsb")
      ->check(CLI::IsMember({"msb", "lsb"}))
      ->capture_default_str();
  cmd->add_option("--stereo_blocking_n,--stereo-blocking-n", codec->stereo_blocking_n, "channel block length in samples")
      ->capture_default_str();
  cmd->add_option("--chunk_size,--chunk-size", codec->chunk_size, "bytes of the symbol stream per chunk; the last, "
                                                                  "partial chunk is coded too")
      ->capture_default_str();
  cmd->add_option("--max_length,--max-length", codec->max_length, "context window")->capture_default_str();
  return [=]() {
    FileFlags& f = *flags;
    check_flags(f);
    if (*bits) codec->bits = *bits;
    codec->byte_order = *byte_order == "lsb" ? ByteOrder::lsb : ByteOrder::msb;
    codec->threads = f.threads;
    codec->batch_size = f.batch_size;
    const ModelOptions options = finish_model_options(*model_flags);
    std::unique_ptr<LanguageModel> model = load_model_for_files(f.model_path, options);
    for (const std::string& input : f.inputs) {
      const std::string output = output_of(f, input, [&] { return input + ".lmac"; });
      if (output.empty() && isatty(STDOUT_FILENO)) {
        throw_error(ErrorCode::usage, "refusing to write compressed data to a terminal (use -o, or redirect)");
      }
      check_output(f, input, output);
      const Bytes original = read_input(input);
      const std::string name = display_name(input);
      const AudioForCoding audio =
          audio_for_coding(original, name, input == "-" ? std::nullopt : std::optional<std::string>(input));
      const CompressResult r = compress_audio(audio, *model, options, *codec);
      if (f.verify) verify(*model, f, r.lmac, audio, original, name);
      deliver(f, input, output, r.lmac);
      if (!f.quiet) {
        fmt::print(stderr, "lmac: {} -> {}: {} -> {} bytes ({:.2f}%), {:.3f} bits/sample ({} chunks, {}-bit symbols{}){}\n",
                   name, output.empty() ? "standard output" : output, original.size(), r.lmac.size(),
                   original.empty() ? 0.0 : 100.0 * r.lmac.size() / original.size(),
                   r.samples ? 8.0 * r.lmac.size() / r.samples : 0.0, r.num_chunks, r.symbol_bits,
                   r.raw_bits ? fmt::format(", {} raw bits", r.raw_bits) : "",
                   audio.audio.container == 1 ? "; decompresses to WAV" : "", f.verify ? ", verified" : "");
      }
    }
    return 0;
  };
}

namespace {

// FILE.lmac -> FILE; a source that was not WAV (a.flac.lmac) comes back as a WAV (a.wav), as with flac -d.
std::string decompressed_name(const std::string& input, const LmacHeader& header) {
  const std::string suffix = ".lmac";
  if (input.size() <= suffix.size() || input.compare(input.size() - suffix.size(), suffix.size(), suffix) != 0) {
    throw_error(ErrorCode::usage, "{}: does not end in .lmac: name the output with -o (or use -c)", input);
  }
  std::filesystem::path name = input.substr(0, input.size() - suffix.size());
  if (header.audio.container == 1) name.replace_extension(".wav");
  return name.string();
}

int run_decode(FileFlags& f) {
  check_flags(f);
  Decoder decoder(f);
  for (const std::string& input : f.inputs) {
    const std::string name = display_name(input);
    const Bytes lmac = read_input(input);
    const LmacFile parsed = read_lmac_file(lmac, name);
    const std::string output =
        f.test_only ? "" : output_of(f, input, [&] { return decompressed_name(input, parsed.header); });
    if (!f.test_only) check_output(f, input, output);
    const Bytes restored = decoder.decode(lmac, parsed, name);
    if (f.test_only) {
      if (!f.quiet) fmt::print(stderr, "lmac: {}: ok ({} bytes)\n", name, restored.size());
      continue;
    }
    deliver(f, input, output, restored);
    if (!f.quiet) {
      fmt::print(stderr, "lmac: {} -> {}: {} bytes\n", name, output.empty() ? "standard output" : output, restored.size());
    }
  }
  return 0;
}

}  // namespace

Action add_decompress_command(CLI::App& app) {
  auto flags = std::make_shared<FileFlags>();
  CLI::App* cmd = app.add_subcommand(
      "decompress",
      "Restore .lmac files (FILE.lmac -> FILE). The file supplies the model flags, symbol width and backend; only "
      "the model is given. A source that was not WAV comes back as a WAV file with identical samples. Damaged files "
      "are refused with the damaged chunk or header named, and nothing is written.");
  add_file_flags(cmd, *flags, true);
  cmd->add_flag("-t,--test", flags->test_only, "decode and check without writing anything");
  return [flags]() { return run_decode(*flags); };
}

Action add_test_command(CLI::App& app) {
  auto flags = std::make_shared<FileFlags>();
  CLI::App* cmd = app.add_subcommand("test", "Decode .lmac files and check every checksum, writing nothing");
  add_file_flags(cmd, *flags, false);
  return [flags]() {
    flags->test_only = true;
    return run_decode(*flags);
  };
}

}  // namespace lmac
