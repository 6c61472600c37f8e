// The registry: the exact names `--baseline_compressors` accepts, and the error for any other.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "codecs/compressor.hpp"
#include "util/error.hpp"

namespace lmac {
namespace {

TEST(Registry, ListsTheNineBaselinesInHelpOrder) {
  EXPECT_THAT(compressor_names(), ::testing::ElementsAre("gzip", "lzma", "flac", "zstd", "bzip2", "brotli", "wavpack",
                                                         "png", "flac-lmic"));
}

TEST(Registry, EveryNameMakesACompressorOfThatName) {
  for (const std::string& name : compressor_names()) {
    const std::unique_ptr<Compressor> compressor = make_compressor(name);
    ASSERT_NE(compressor, nullptr) << name;
    EXPECT_EQ(compressor->name(), name);
  }
}

TEST(Registry, UnknownNameIsAUsageErrorListingTheValidNames) {
  for (const char* bad : {"zip", "FLAC", "flac_lmic", ""}) {
    try {
      make_compressor(bad);
      ADD_FAILURE() << "no error for '" << bad << "'";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::usage);
      const std::string message = e.what();
      EXPECT_THAT(message, ::testing::HasSubstr("'" + std::string(bad) + "'"));
      for (const std::string& name : compressor_names()) EXPECT_THAT(message, ::testing::HasSubstr(name));
    }
  }
}

TEST(Registry, EmptyInputGivesBytesOrACodecErrorNeverACrash) {
  for (const std::string& name : compressor_names()) {
    try {
      make_compressor(name)->compress({}, SymbolFormat{});
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::codec) << name;
    }
  }
}

}  // namespace
}  // namespace lmac
