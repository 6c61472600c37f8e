// The ratio formulas of SPEC-LMIC.md section 3, against numbers worked out by hand.
#include "eval/protocol.hpp"

#include <gtest/gtest.h>

namespace lmac {
namespace {

TEST(Protocol, HeaderIsCountedOnce) {
  // 3 chunks of 100 bytes compressed to 60 each with a 21-byte header: (180 - 2 * 21) / 300.
  EXPECT_DOUBLE_EQ(chunked_ratio_header_once(180, 300, 21, 3), 138.0 / 300.0);
  EXPECT_DOUBLE_EQ(chunked_ratio_header_once(60, 100, 21, 1), 0.6);
}

TEST(Protocol, MaskScalesByEightSevenths) {
  // One missed bit per byte: 2 chunks of 2048 bytes, 1000 coded bytes -> 1000 * 8/7 / 4096.
  EXPECT_DOUBLE_EQ(masked_ratio(1000, 4096, 4096, 2, 2048), 1000.0 * (32768.0 / (32768.0 - 4096.0)) / 4096.0);
  EXPECT_DOUBLE_EQ(masked_ratio(1000, 4096, 0, 2, 2048), 1000.0 / 4096.0);
}

}  // namespace
}  // namespace lmac
