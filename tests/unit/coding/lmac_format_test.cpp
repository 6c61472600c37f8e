// The .lmac container: what is written is read back, and every damaged or cut byte is caught by the reader
// (header) or by the payload checksum (chunks), with the header or the chunk named.
#include "coding/lmac_format.hpp"

#include <gtest/gtest.h>
#include <xxhash.h>

#include <random>

#include "util/error.hpp"

namespace lmac {
namespace {

LmacHeader sample_header(const std::vector<Bytes>& payloads) {
  LmacHeader h;
  h.writer = "lmac test";
  h.coding.model_name = "tiny";
  h.coding.model_type = "framework";
  h.coding.model_fingerprint = "0123456789abcdef";
  h.coding.kernel_id = "cpu-exact-v1";
  h.coding.bits = 16;
  h.coding.chunk_size = 64;
  h.coding.fingerprint = coding_fingerprint(h.coding);
  h.audio.container = 0;
  h.audio.source_format = "WAV PCM_16";
  h.audio.sample_rate = 16000;
  h.audio.channels = 2;
  h.audio.sample_bits = 16;
  h.audio.frames = 50;
  h.audio.head = Bytes(44, 7);
  h.audio.tail = {1, 2, 3};
  h.original_size = 44 + 50 * 4 + 3;
  h.original_xxh64 = 42;
  for (const Bytes& p : payloads) {
    LmacChunk c;
    c.code_bits = (p.size() - 2) * 8 + 3;  // the last byte holds the 5 raw bits
    c.raw_bits = 5;
    c.payload_xxh32 = XXH32(p.data(), p.size(), 0);
    c.original_xxh32 = 99;
    h.chunks.push_back(c);
  }
  return h;
}

std::vector<Bytes> sample_payloads() {
  std::mt19937 rng(5);
  std::vector<Bytes> payloads;
  for (size_t n : {30, 17, 9}) {
    Bytes p(n);
    for (uint8_t& b : p) b = static_cast<uint8_t>(rng());
    payloads.push_back(p);
  }
  return payloads;
}

// What a decoder does before decoding: the header, then every payload checksum. Returns "" when all is intact,
// else the message (the reader's) or "chunk K" (a payload checksum).
std::string damage_found(ByteView file) {
  try {
    const LmacFile parsed = read_lmac(file);
    for (size_t k = 0; k < parsed.header.chunks.size(); ++k) {
      if (!chunk_payload_intact(file, parsed, k)) return "chunk " + std::to_string(k);
    }
    return "";
  } catch (const Error& e) {
    EXPECT_TRUE(e.code() == ErrorCode::corrupt_stream || e.code() == ErrorCode::unsupported) << e.what();
    return e.what();
  }
}

TEST(LmacFormat, RoundTrip) {
  const auto payloads = sample_payloads();
  const LmacHeader h = sample_header(payloads);
  const Bytes file = write_lmac(h, payloads);
  ASSERT_EQ(Bytes(file.begin(), file.begin() + 8), Bytes(kLmacMagic, kLmacMagic + 8));
  const LmacFile parsed = read_lmac(file);
  EXPECT_EQ(parsed.header.writer, "lmac test");
  EXPECT_EQ(parsed.header.coding.kernel_id, "cpu-exact-v1");
  EXPECT_EQ(parsed.header.coding.bits, 16);
  EXPECT_EQ(parsed.header.audio.head, h.audio.head);
  EXPECT_EQ(parsed.header.audio.tail, h.audio.tail);
  ASSERT_EQ(parsed.header.chunks.size(), 3u);
  for (size_t k = 0; k < 3; ++k) {
    EXPECT_EQ(parsed.header.chunks[k].code_bits, h.chunks[k].code_bits);
    EXPECT_EQ(parsed.header.chunks[k].raw_bits, 5u);
    EXPECT_TRUE(chunk_payload_intact(file, parsed, k));
    EXPECT_EQ(Bytes(file.begin() + parsed.payload_offsets[k], file.begin() + parsed.payload_offsets[k] + payloads[k].size()),
              payloads[k]);
  }
  EXPECT_EQ(parsed.payload_offsets.back() + payloads.back().size(), file.size());
}

TEST(LmacFormat, FingerprintCoversEveryPdfFlag) {
  LmacCoding base;
  base.model_fingerprint = "abc";
  const uint64_t f0 = coding_fingerprint(base);
  std::vector<LmacCoding> changed(12, base);
  changed[0].model_fingerprint = "abd";
  changed[1].kernel_id = "other";
  changed[2].num_heads = 4;
  changed[3].byte_mapping = "ascii";
  changed[4].top_k = 16;
  changed[5].max_length = 1024;
  changed[6].chunk_size = 1024;
  changed[7].bits = 16;
  changed[8].byte_order = 1;
  changed[9].stereo_blocking_n = 512;
  changed[10].weights = "q8_0";
  changed[11].dtype = "bf16";
  for (size_t i = 0; i < changed.size(); ++i) EXPECT_NE(coding_fingerprint(changed[i]), f0) << "flag " << i;
}

TEST(LmacFormat, EverySingleBitFlipIsCaught) {
  const auto payloads = sample_payloads();
  const LmacHeader h = sample_header(payloads);
  const Bytes file = write_lmac(h, payloads);
  const LmacFile parsed = read_lmac(file);
  const uint64_t header_end = parsed.payload_offsets[0];
  for (size_t bit = 0; bit < file.size() * 8; ++bit) {
    Bytes damaged = file;
    damaged[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    const std::string found = damage_found(damaged);
    ASSERT_FALSE(found.empty()) << "bit " << bit << " flipped unnoticed";
    if (bit / 8 < header_end) {
      EXPECT_NE(found.find("header"), std::string::npos) << "bit " << bit << ": " << found;
    } else {
      size_t k = 0;
      while (k + 1 < parsed.payload_offsets.size() && parsed.payload_offsets[k + 1] <= bit / 8) ++k;
      EXPECT_EQ(found, "chunk " + std::to_string(k)) << "bit " << bit;
    }
  }
}

TEST(LmacFormat, EveryTruncationAndExtensionIsCaught) {
  const auto payloads = sample_payloads();
  const Bytes file = write_lmac(sample_header(payloads), payloads);
  const LmacFile parsed = read_lmac(file);
  for (size_t n = 0; n < file.size(); ++n) {
    const std::string found = damage_found(ByteView(file).first(n));
    ASSERT_FALSE(found.empty()) << "truncated to " << n;
    if (n >= parsed.payload_offsets[0]) {
      // The first chunk that does not end within n bytes is named.
      size_t first_cut = 0;
      while (parsed.payload_offsets[first_cut] + payloads[first_cut].size() <= n) ++first_cut;
      EXPECT_NE(found.find("chunk " + std::to_string(first_cut) + " of 3"), std::string::npos) << n << ": " << found;
    } else if (n >= 8) {
      EXPECT_NE(found.find("header"), std::string::npos) << n << ": " << found;
    }
  }
  Bytes longer = file;
  longer.push_back(0);
  EXPECT_NE(damage_found(longer).find("unexpected bytes after the last chunk"), std::string::npos);
}

TEST(LmacFormat, NewerVersionIsRefusedAsSuch) {
  const auto payloads = sample_payloads();
  Bytes file = write_lmac(sample_header(payloads), payloads);
  // The version becomes 2, and the header checksum is fixed so that only the version differs.
  const uint64_t header_end = read_lmac(file).payload_offsets[0];
  file[8] = 2;
  const uint64_t sum = XXH64(file.data(), header_end - 8, 0);
  for (int k = 0; k < 8; ++k) file[header_end - 8 + k] = static_cast<uint8_t>(sum >> (8 * k));
  try {
    read_lmac(file);
    FAIL() << "version 2 accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::unsupported);
    EXPECT_NE(std::string(e.what()).find("version 2"), std::string::npos) << e.what();
  }
}

TEST(LmacFormat, NotAnLmacFile) {
  const Bytes text = {'R', 'I', 'F', 'F', 0, 0, 0, 0, 'W', 'A', 'V', 'E'};
  EXPECT_NE(damage_found(text).find("not an .lmac file"), std::string::npos);
  EXPECT_NE(damage_found(Bytes{}).find("not an .lmac file"), std::string::npos);
}

TEST(LmacFormat, NoChunksIsValid) {
  LmacHeader h = sample_header({});
  h.audio.frames = 0;
  h.original_size = 47;
  const Bytes file = write_lmac(h, {});
  EXPECT_TRUE(read_lmac(file).header.chunks.empty());
}

}  // namespace
}  // namespace lmac
