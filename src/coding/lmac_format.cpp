#include "coding/lmac_format.hpp"

#include <xxhash.h>

#include <cstring>
#include <string_view>

#include "util/error.hpp"

namespace lmac {

uint32_t xxh32_of(ByteView bytes) { return XXH32(bytes.data(), bytes.size(), 0); }
uint64_t xxh64_of(ByteView bytes) { return XXH64(bytes.data(), bytes.size(), 0); }

std::string describe_flags(const LmacCoding& c) {
  return fmt::format("bits={} byte_order={} stereo_blocking_n={} chunk_size={} max_length={} num_heads={} "
                     "byte_mapping={} top_k={} weights={} dtype={}",
                     c.bits, c.byte_order ? "lsb" : "msb", c.stereo_blocking_n, c.chunk_size, c.max_length, c.num_heads,
                     c.byte_mapping, c.top_k, c.weights, c.dtype);
}

uint64_t coding_fingerprint(const LmacCoding& c) {
  const std::string text = fmt::format("lmac coding v1\nmodel={}\nkernel={}\nalphabet={}\n{}\n", c.model_fingerprint,
                                       c.kernel_id, c.alphabet_size, describe_flags(c));
  return XXH64(text.data(), text.size(), 0);
}

namespace {

// Little-endian fields, LEB128 varints for counts and lengths.
class FieldWriter {
 public:
  void u8(uint64_t v) { out.push_back(static_cast<uint8_t>(v)); }
  void u16(uint64_t v) { fixed(v, 2); }
  void u32(uint64_t v) { fixed(v, 4); }
  void u64(uint64_t v) { fixed(v, 8); }
  void varint(uint64_t v) {
    while (v >= 0x80) {
      out.push_back(static_cast<uint8_t>(v | 0x80));
      v >>= 7;
    }
    out.push_back(static_cast<uint8_t>(v));
  }
  void bytes(ByteView b) {
    varint(b.size());
    out.insert(out.end(), b.begin(), b.end());
  }
  void str(const std::string& s) { bytes(ByteView(reinterpret_cast<const uint8_t*>(s.data()), s.size())); }
  Bytes out;

 private:
  void fixed(uint64_t v, int n) {
    for (int k = 0; k < n; ++k) out.push_back(static_cast<uint8_t>(v >> (8 * k)));
  }
};

// Reads the header body; every read is bounds-checked and names the field it was reading.
class FieldReader {
 public:
  explicit FieldReader(ByteView b) : b_(b) {}
  uint64_t u8(const char* field) { return fixed(1, field); }
  uint64_t u16(const char* field) { return fixed(2, field); }
  uint64_t u32(const char* field) { return fixed(4, field); }
  uint64_t u64(const char* field) { return fixed(8, field); }
  uint64_t varint(const char* field) {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      need(1, field);
      const uint8_t byte = b_[at_++];
      v |= static_cast<uint64_t>(byte & 0x7F) << shift;
      if (!(byte & 0x80)) return v;
    }
    throw_error(ErrorCode::corrupt_stream, "header damaged: field '{}' is not a valid number", field);
  }
  Bytes bytes(const char* field) {
    const uint64_t n = varint(field);
    need(n, field);
    Bytes v(b_.begin() + static_cast<std::ptrdiff_t>(at_), b_.begin() + static_cast<std::ptrdiff_t>(at_ + n));
    at_ += n;
    return v;
  }
  std::string str(const char* field) {
    Bytes v = bytes(field);
    return std::string(v.begin(), v.end());
  }
  uint64_t remaining() const { return b_.size() - at_; }

 private:
  void need(uint64_t n, const char* field) {
    if (n > remaining()) throw_error(ErrorCode::corrupt_stream, "header damaged: field '{}' runs past its end", field);
  }
  uint64_t fixed(int n, const char* field) {
    need(static_cast<uint64_t>(n), field);
    uint64_t v = 0;
    for (int k = 0; k < n; ++k) v |= static_cast<uint64_t>(b_[at_ + k]) << (8 * k);
    at_ += static_cast<uint64_t>(n);
    return v;
  }
  ByteView b_;
  uint64_t at_ = 0;
};

constexpr size_t kPreambleSize = 8 + 2 + 2 + 4;  // magic, version, reserved, body size
constexpr size_t kChecksumSize = 8;

Bytes header_body(const LmacHeader& h) {
  FieldWriter w;
  w.str(h.writer);
  const LmacCoding& c = h.coding;
  w.str(c.model_name);
  w.str(c.model_type);
  w.str(c.model_fingerprint);
  w.str(c.kernel_id);
  w.u32(static_cast<uint32_t>(c.num_heads));
  w.str(c.byte_mapping);
  w.u32(static_cast<uint32_t>(c.top_k));
  w.u32(static_cast<uint32_t>(c.max_length));
  w.u64(c.chunk_size);
  w.u8(c.bits);
  w.u8(c.byte_order);
  w.u32(c.stereo_blocking_n);
  w.str(c.weights);
  w.str(c.dtype);
  w.u32(c.alphabet_size);
  w.u64(c.fingerprint);
  const LmacAudio& a = h.audio;
  w.u8(a.container);
  w.str(a.source_format);
  w.u32(a.sample_rate);
  w.u16(a.channels);
  w.u8(a.sample_bits);
  w.u64(a.frames);
  w.bytes(a.head);
  w.bytes(a.tail);
  w.u64(h.original_size);
  w.u64(h.original_xxh64);
  w.varint(h.chunks.size());
  for (const LmacChunk& k : h.chunks) {
    w.varint(k.code_bits);
    w.varint(k.raw_bits);
    w.u32(k.payload_xxh32);
    w.u32(k.original_xxh32);
  }
  return std::move(w.out);
}

void parse_body(ByteView body, LmacHeader& h) {
  FieldReader r(body);
  h.writer = r.str("writer");
  LmacCoding& c = h.coding;
  c.model_name = r.str("model_name");
  c.model_type = r.str("model_type");
  c.model_fingerprint = r.str("model_fingerprint");
  c.kernel_id = r.str("kernel_id");
  c.num_heads = static_cast<int32_t>(r.u32("num_heads"));
  c.byte_mapping = r.str("byte_mapping");
  c.top_k = static_cast<int32_t>(r.u32("top_k"));
  c.max_length = static_cast<int32_t>(r.u32("max_length"));
  c.chunk_size = r.u64("chunk_size");
  c.bits = static_cast<uint8_t>(r.u8("bits"));
  c.byte_order = static_cast<uint8_t>(r.u8("byte_order"));
  c.stereo_blocking_n = static_cast<uint32_t>(r.u32("stereo_blocking_n"));
  c.weights = r.str("weights");
  c.dtype = r.str("dtype");
  c.alphabet_size = static_cast<uint32_t>(r.u32("alphabet_size"));
  c.fingerprint = r.u64("fingerprint");
  LmacAudio& a = h.audio;
  a.container = static_cast<uint8_t>(r.u8("container"));
  a.source_format = r.str("source_format");
  a.sample_rate = static_cast<uint32_t>(r.u32("sample_rate"));
  a.channels = static_cast<uint16_t>(r.u16("channels"));
  a.sample_bits = static_cast<uint8_t>(r.u8("sample_bits"));
  a.frames = r.u64("frames");
  a.head = r.bytes("head");
  a.tail = r.bytes("tail");
  h.original_size = r.u64("original_size");
  h.original_xxh64 = r.u64("original_xxh64");
  const uint64_t n = r.varint("num_chunks");
  // Each chunk entry takes at least 10 bytes: this bounds the allocation by the header's real size.
  if (n > r.remaining() / 10) throw_error(ErrorCode::corrupt_stream, "header damaged: {} chunks cannot fit it", n);
  h.chunks.resize(n);
  for (LmacChunk& k : h.chunks) {
    k.code_bits = r.varint("code_bits");
    k.raw_bits = r.varint("raw_bits");
    k.payload_xxh32 = static_cast<uint32_t>(r.u32("payload_xxh32"));
    k.original_xxh32 = static_cast<uint32_t>(r.u32("original_xxh32"));
  }
  if (r.remaining() != 0) throw_error(ErrorCode::corrupt_stream, "header damaged: {} unread bytes at its end", r.remaining());
}

// Values a correct writer never produces. They can only come from a damaged file whose checksum was not checked
// (fuzzing) or from a faulty writer; the decoder relies on them.
void check_values(const LmacHeader& h) {
  const LmacCoding& c = h.coding;
  const LmacAudio& a = h.audio;
  auto bad = [](const std::string& what) { throw_error(ErrorCode::corrupt_stream, "header damaged: {}", what); };
  if (c.bits != 8 && c.bits != 16) bad(fmt::format("symbol width {}", c.bits));
  if (c.byte_order > 1) bad(fmt::format("byte order {}", c.byte_order));
  if (c.alphabet_size != 128 && c.alphabet_size != 256 && c.alphabet_size != 65536) {
    bad(fmt::format("alphabet of {} symbols", c.alphabet_size));
  }
  if (c.chunk_size == 0 || c.chunk_size > (uint64_t{1} << 30) || c.chunk_size % (c.bits / 8) != 0) {
    bad(fmt::format("chunk size {}", c.chunk_size));
  }
  if (c.max_length <= 0) bad(fmt::format("max_length {}", c.max_length));
  if (c.stereo_blocking_n == 0 || c.stereo_blocking_n > 0x7FFFFFFF) bad(fmt::format("stereo_blocking_n {}", c.stereo_blocking_n));
  if (a.container > 1) bad(fmt::format("container kind {}", a.container));
  if (a.channels == 0) bad("zero channels");
  if (a.sample_bits != 8 && a.sample_bits != 16 && a.sample_bits != 24 && a.sample_bits != 32) {
    bad(fmt::format("sample width {}", a.sample_bits));
  }
  const uint64_t block = static_cast<uint64_t>(a.channels) * (a.sample_bits / 8);
  if (a.frames > (uint64_t{1} << 50) / block) bad(fmt::format("{} frames", a.frames));
  if (h.original_size != a.head.size() + a.frames * block + a.tail.size()) bad("the original size does not add up");
  for (size_t k = 0; k < h.chunks.size(); ++k) {
    // No chunk holds more than 2^30 symbols, each coded in at most 64 bits, plus 64 raw bits per sample.
    if (h.chunks[k].code_bits > (uint64_t{1} << 37) || h.chunks[k].raw_bits > (uint64_t{1} << 37)) {
      bad(fmt::format("chunk {} claims {} code bits and {} raw bits", k, h.chunks[k].code_bits, h.chunks[k].raw_bits));
    }
  }
}

}  // namespace

Bytes write_lmac(const LmacHeader& header, const std::vector<Bytes>& payloads) {
  if (payloads.size() != header.chunks.size()) {
    throw_error(ErrorCode::internal, "write_lmac: {} payloads for {} chunks", payloads.size(), header.chunks.size());
  }
  const Bytes body = header_body(header);
  if (body.size() > 0xFFFFFFFFu) throw_error(ErrorCode::unsupported, "the .lmac header would exceed 4 GiB");
  FieldWriter w;
  w.out.assign(kLmacMagic, kLmacMagic + 8);
  w.u16(kLmacVersion);
  w.u16(0);
  w.u32(body.size());
  w.out.insert(w.out.end(), body.begin(), body.end());
  w.u64(xxh64_of(w.out));
  for (size_t k = 0; k < payloads.size(); ++k) {
    if (payloads[k].size() != header.chunks[k].payload_bytes()) {
      throw_error(ErrorCode::internal, "write_lmac: chunk {} has {} payload bytes, its entry says {}", k,
                  payloads[k].size(), header.chunks[k].payload_bytes());
    }
    w.out.insert(w.out.end(), payloads[k].begin(), payloads[k].end());
  }
  return std::move(w.out);
}

LmacFile read_lmac(ByteView file, const LmacReadOptions& options) {
  if (file.size() < 8 || std::memcmp(file.data(), kLmacMagic, 8) != 0) {
    if (file.size() >= 5 && std::memcmp(file.data() + 1, kLmacMagic + 1, 4) == 0) {
      throw_error(ErrorCode::corrupt_stream, "header damaged: the magic bytes are wrong");
    }
    throw_error(ErrorCode::corrupt_stream, "not an .lmac file (no lmac magic bytes at the start; or a damaged header)");
  }
  if (file.size() < kPreambleSize + kChecksumSize) {
    throw_error(ErrorCode::corrupt_stream, "header truncated: the file holds only {} bytes", file.size());
  }
  FieldReader preamble(file.subspan(8, kPreambleSize - 8));
  const uint64_t version = preamble.u16("version");
  const uint64_t reserved = preamble.u16("reserved");
  const uint64_t body_size = preamble.u32("header_size");
  const uint64_t header_end = kPreambleSize + body_size + kChecksumSize;
  if (header_end > file.size()) {
    throw_error(ErrorCode::corrupt_stream, "header damaged or truncated: it claims {} bytes, the file holds {}",
                header_end, file.size());
  }
  uint64_t stored = 0;
  for (int k = 0; k < 8; ++k) stored |= static_cast<uint64_t>(file[header_end - 8 + k]) << (8 * k);
  if (options.check_header_checksum && stored != xxh64_of(file.first(header_end - kChecksumSize))) {
    throw_error(ErrorCode::corrupt_stream, "header damaged: its checksum does not match");
  }
  if (version != kLmacVersion) {
    throw_error(ErrorCode::unsupported, "format version {} is not readable by this lmac (it reads version {})", version,
                kLmacVersion);
  }
  if (reserved != 0) throw_error(ErrorCode::corrupt_stream, "header damaged: reserved field is {}", reserved);

  LmacFile parsed;
  parse_body(file.subspan(kPreambleSize, body_size), parsed.header);
  check_values(parsed.header);

  const std::vector<LmacChunk>& chunks = parsed.header.chunks;
  parsed.payload_offsets.resize(chunks.size());
  uint64_t at = header_end;
  for (size_t k = 0; k < chunks.size(); ++k) {
    parsed.payload_offsets[k] = at;
    const uint64_t n = chunks[k].payload_bytes();
    if (n > file.size() - at) {
      throw_error(ErrorCode::corrupt_stream, "truncated: chunk {} of {} is cut short or missing (the file ends at byte {})",
                  k, chunks.size(), file.size());
    }
    at += n;
  }
  if (at != file.size()) {
    throw_error(ErrorCode::corrupt_stream, "damaged: {} unexpected bytes after the last chunk (chunk {})", file.size() - at,
                chunks.empty() ? 0 : chunks.size() - 1);
  }
  return parsed;
}

bool chunk_payload_intact(ByteView file, const LmacFile& parsed, size_t k) {
  const LmacChunk& c = parsed.header.chunks.at(k);
  return xxh32_of(file.subspan(parsed.payload_offsets.at(k), c.payload_bytes())) == c.payload_xxh32;
}

}  // namespace lmac
