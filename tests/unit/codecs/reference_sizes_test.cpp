// Sizes against the independent references: tests/data/reference_protocol/codec_sizes.json holds the sizes of the
// reference's compressors (Python gzip/lzma, Pillow, pydub + ffmpeg), the flac CLI and the wavpack CLI on one
// zero sample and on real 2048-byte chunks (8 and 16 bits, and the 8-bit one with every top bit flipped, where
// flac-lmic's settings matter), written by tools/reference_protocol.py --codec_fixture.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "codecs/compressor.hpp"

namespace lmac {
namespace {

const std::string kDir = std::string(LMAC_TEST_DATA_DIR) + "/reference_protocol/";

Bytes read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in) << path;
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

// Within 1% of the payload, the size beyond the reference's header probe: flac-lmic's 8300-byte header would
// otherwise hide a payload 5% off.
TEST(ReferenceSizes, EveryCodecIsWithinOnePercentOfItsReferenceOnARealChunk) {
  std::ifstream in(kDir + "codec_sizes.json");
  ASSERT_TRUE(in) << kDir << "codec_sizes.json";
  const nlohmann::json fixture = nlohmann::json::parse(in);
  const ByteOrder order = fixture.at("byte_order") == "lsb" ? ByteOrder::lsb : ByteOrder::msb;
  int compared = 0;
  for (const auto& [key, input] : fixture.at("inputs").items()) {
    if (input.at("file").is_null()) continue;  // a header probe, checked below
    const int bits = input.at("bits").get<int>();
    const auto& header = fixture.at("inputs").at("zero" + std::to_string(bits)).at("sizes");
    const SymbolFormat format{bits, order, input.at("sample_rate").get<int>()};
    const Bytes data = read_file(kDir + input.at("file").get<std::string>());
    ASSERT_EQ(data.size(), input.at("bytes").get<size_t>()) << key;
    for (const auto& [name, expected] : input.at("sizes").items()) {
      const double payload = expected.get<double>() - header.at(name).get<double>();
      const double size = double(make_compressor(name)->compress(data, format).size());
      EXPECT_NEAR(size, expected.get<double>(), 0.01 * payload) << name << " on " << key;
      ++compared;
    }
  }
  EXPECT_EQ(compared, 18);  // 6 references x (chunk8, chunk8_flipped, chunk16)
}

// The header probe of SPEC-LMIC section 3 is exact for the reference's own compressors.
TEST(ReferenceSizes, HeadersOfOneZeroSampleAreExact) {
  std::ifstream in(kDir + "codec_sizes.json");
  const nlohmann::json fixture = nlohmann::json::parse(in);
  for (const char* key : {"zero8", "zero16"}) {
    const auto& input = fixture.at("inputs").at(key);
    const SymbolFormat format{input.at("bits").get<int>(), ByteOrder::msb, input.at("sample_rate").get<int>()};
    for (const auto& [name, expected] : input.at("sizes").items()) {
      EXPECT_EQ(make_compressor(name)->compress(Bytes(format.bytes_per_sample(), 0), format).size(),
                expected.get<size_t>())
          << name << " on " << key;
    }
  }
}

}  // namespace
}  // namespace lmac
