// Real lossless files: audio -> .lmac -> the same bytes (DESIGN.md section 4).
//
// compress:   the input is split into head | samples | tail (a WAV kept byte for byte; any other lossless
//             format becomes a canonical WAV). The samples, in the channel-blocked order of DESIGN.md section
//             2, become the symbol stream; each chunk of it is coded with the model's ExactScorer (the
//             full-pass log_probs) and the arithmetic coder. Bits below the symbol width, and the bit the
//             `ascii` mapping drops, are stored raw after the chunk's code.
// decompress: the header is checked, the model is checked against the file's fingerprint and backend, every
//             chunk payload is checked against its checksum BEFORE decoding, chunks decode in parallel with
//             the incremental begin()/step() path, and each chunk's samples and the whole file are checked
//             against their checksums. Nothing is returned unless everything matches.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "coding/lmac_format.hpp"
#include "model/language_model.hpp"
#include "model/model_resolver.hpp"
#include "util/bytes.hpp"
#include "util/symbol_format.hpp"

namespace lmac {

// An input file ready to be coded: the file that decompress must give back, split around its samples.
struct AudioForCoding {
  LmacAudio audio;               // format, head and tail
  std::vector<int32_t> samples;  // interleaved, left-justified (DecodedAudio's convention)
  uint64_t original_size = 0;
  uint64_t original_xxh64 = 0;
};

// Reads the input held in `file` (named `name` in messages). A PCM WAV is laid out directly; anything else goes
// through libsndfile, from `path` when the bytes came from that file, else from a temporary copy. Throws
// lmac::Error (bad_audio / unsupported) for float and lossy audio and for damaged input.
AudioForCoding audio_for_coding(ByteView file, const std::string& name, const std::optional<std::string>& path);

struct FileCodecOptions {
  std::optional<int> bits;  // --bits; by default the model's declared width, else the audio's own, at most 16
  ByteOrder byte_order = ByteOrder::msb;
  int stereo_blocking_n = 1024;
  int64_t chunk_size = 2048;
  int max_length = 2048;
  int threads = 0;     // chunks coded at once; 0: OMP_NUM_THREADS if set, else one per hardware thread
  int batch_size = 8;  // chunks of one length stepped together by one scorer (no effect on the output)
};

struct CompressResult {
  Bytes lmac;
  uint64_t code_bits = 0;  // arithmetic code, all chunks
  uint64_t raw_bits = 0;   // bits stored verbatim
  uint64_t samples = 0;
  int symbol_bits = 0;
  size_t num_chunks = 0;
};

// Codes `input` with the model's exact scorer. `options_used` are the model flags it was loaded with; they
// are recorded so that decompress can load it the same way. Throws lmac::Error (unsupported) naming the
// model when it has no exact scorer yet.
CompressResult compress_audio(const AudioForCoding& input, LanguageModel& model, const ModelOptions& options_used,
                              const FileCodecOptions& options);

// The header of an .lmac file, with `name` in front of every error message.
LmacFile read_lmac_file(ByteView file, const std::string& name);

// The model flags the file was made with, to load the model the same way.
ModelOptions model_options_of(const LmacHeader& header);

// Throws lmac::Error (mismatch) naming both sides when `model` is not the model, the flags or the backend
// the file was made with: the file's fingerprint must equal the one computed from its flags, this model's
// fingerprint and this scorer's kernel_id.
void check_model_matches(const LmacHeader& header, LanguageModel& model, const std::string& name);

struct DecodeOptions {
  int threads = 0;
  int batch_size = 8;
  bool check_payload_checksums = true;  // off only to fuzz the decoder behind them (fuzz/lmac_reader_fuzz.cpp)
};

// The original file's bytes. Throws lmac::Error (corrupt_stream) naming every damaged chunk, or the header,
// and (mismatch) as check_model_matches does.
Bytes decompress_lmac(ByteView file, const LmacFile& parsed, LanguageModel& model, const DecodeOptions& options,
                      const std::string& name);

// What --model_path gives: a test: stand-in (eval/file_codec_test_model.hpp) or a real model.
std::unique_ptr<LanguageModel> load_model_for_files(const std::string& model_path, const ModelOptions& options);

}  // namespace lmac
