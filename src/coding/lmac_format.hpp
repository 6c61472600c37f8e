// The .lmac container (docs/format.md): a checksummed header that holds everything a decoder needs (model
// fingerprint and flags, backend, audio format, the original file's non-sample bytes, per-chunk code lengths
// in bits and checksums), followed by the chunks' payloads back to back. The container knows nothing of
// models or audio: it stores and checks bytes; src/eval/file_codec gives them meaning.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "util/bytes.hpp"

namespace lmac {

inline constexpr uint8_t kLmacMagic[8] = {0x89, 'L', 'M', 'A', 'C', 0x0D, 0x0A, 0x1A};
inline constexpr uint16_t kLmacVersion = 1;

// Everything that changes a pdf, and the arithmetic that computed it.
struct LmacCoding {
  std::string model_name;         // for messages only
  std::string model_type;         // "framework", "llama", ...
  std::string model_fingerprint;  // ModelInfo::fingerprint
  std::string kernel_id;          // ExactScorer::kernel_id(): backend and device class
  int32_t num_heads = 8;
  std::string byte_mapping = "bytes";
  int32_t top_k = 0;
  int32_t max_length = 2048;
  uint64_t chunk_size = 2048;     // bytes of the symbol stream per chunk
  uint8_t bits = 8;               // symbol width: 8 or 16
  uint8_t byte_order = 0;         // 0: msb, 1: lsb
  uint32_t stereo_blocking_n = 1024;
  std::string weights = "stored";
  std::string dtype = "fp32";
  uint32_t alphabet_size = 256;
  uint64_t fingerprint = 0;       // xxh64 of the model fingerprint and every flag above (coding_fingerprint)
};

// The file that comes back: head + samples + tail, byte for byte.
struct LmacAudio {
  uint8_t container = 0;          // 0: a WAV restored verbatim; 1: a canonical WAV for another lossless format
  std::string source_format;      // e.g. "WAV PCM_16", "FLAC PCM_24"
  uint32_t sample_rate = 0;
  uint16_t channels = 0;
  uint8_t sample_bits = 0;        // container width of one sample in the output WAV: 8, 16, 24 or 32
  uint64_t frames = 0;
  Bytes head;                     // bytes before the first sample
  Bytes tail;                     // bytes after the last whole frame
};

struct LmacChunk {
  uint64_t code_bits = 0;         // arithmetic code length; its ceil(code_bits / 8) bytes are front-padded
  uint64_t raw_bits = 0;          // bits stored verbatim after the code (low sample bits), packed MSB first
  uint32_t payload_xxh32 = 0;     // of the chunk's payload bytes, checked before decoding
  uint32_t original_xxh32 = 0;    // of the chunk's original sample bytes, checked after decoding
  uint64_t payload_bytes() const { return (code_bits + 7) / 8 + (raw_bits + 7) / 8; }
};

struct LmacHeader {
  std::string writer;             // "lmac 0.1.0"
  LmacCoding coding;
  LmacAudio audio;
  uint64_t original_size = 0;     // bytes of the restored file
  uint64_t original_xxh64 = 0;    // of the restored file
  std::vector<LmacChunk> chunks;
};

// The fingerprint of a coding: the model's fingerprint with every pdf-changing flag, hashed (xxh64).
uint64_t coding_fingerprint(const LmacCoding& coding);
// The flags in one readable line, e.g. "bits=8 byte_order=msb ... dtype=fp32", for messages.
std::string describe_flags(const LmacCoding& coding);

// The whole file: header, then every payload in chunk order. `payloads[k].size()` must equal
// header.chunks[k].payload_bytes().
Bytes write_lmac(const LmacHeader& header, const std::vector<Bytes>& payloads);

struct LmacFile {
  LmacHeader header;
  std::vector<uint64_t> payload_offsets;  // where each chunk's payload starts in the file
};

struct LmacReadOptions {
  bool check_header_checksum = true;  // off only for fuzzing what lies behind the checksum
};

// Parses and checks the header and the file's length. Throws lmac::Error (corrupt_stream) with a message that
// names the header or the first chunk whose payload is missing; (unsupported) for a newer format version.
// Payload checksums are not checked here: see chunk_payload_intact.
LmacFile read_lmac(ByteView file, const LmacReadOptions& options = {});

// Whether chunk k's payload matches its checksum.
bool chunk_payload_intact(ByteView file, const LmacFile& parsed, size_t k);

uint32_t xxh32_of(ByteView bytes);
uint64_t xxh64_of(ByteView bytes);

}  // namespace lmac
