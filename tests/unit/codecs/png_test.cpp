// png (the reference's Pillow image): libpng reads the output back as an 8-bit greyscale image of the reference's
// shape holding exactly the input bytes.
#include <gtest/gtest.h>
#include <png.h>

#include "codecs/compressor.hpp"
#include "test_inputs.hpp"
#include "util/error.hpp"

namespace lmac {
namespace {

using test::noise;
using test::speech_like;

struct Image {
  uint32_t width = 0, height = 0;
  Bytes pixels;
};

Image read_png(const Bytes& png) {
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  Image out;
  EXPECT_TRUE(png_image_begin_read_from_memory(&image, png.data(), png.size())) << image.message;
  EXPECT_EQ(image.format, PNG_FORMAT_GRAY);  // an 8-bit greyscale file, no alpha, no palette
  image.format = PNG_FORMAT_GRAY;
  out.width = image.width, out.height = image.height;
  out.pixels.resize(PNG_IMAGE_SIZE(image));
  EXPECT_TRUE(png_image_finish_read(&image, nullptr, out.pixels.data(), 0, nullptr)) << image.message;
  png_image_free(&image);
  return out;
}

TEST(Png, DecodesBackToTheInputInTheReferenceShape) {
  struct Shape {
    size_t n;
    uint32_t width, height;
  };
  // width = the largest divisor of n that is <= round(sqrt(n)); height = n / width.
  for (const Shape s : {Shape{2048, 32, 64}, Shape{1, 1, 1}, Shape{1000, 25, 40}, Shape{4096, 64, 64},
                        Shape{2 * 1031, 2, 1031}, Shape{1031, 1, 1031}, Shape{100000, 250, 400}}) {
    for (const Bytes& input : {speech_like(s.n, 1), noise(s.n, 2), Bytes(s.n, 0x80)}) {
      const Image image = read_png(make_compressor("png")->compress(input, {}));
      EXPECT_EQ(image.width, s.width) << s.n;
      EXPECT_EQ(image.height, s.height) << s.n;
      EXPECT_EQ(image.pixels, input) << s.n;
    }
  }
}

TEST(Png, SixteenBitStreamIsTheSameEightBitImage) {
  const Bytes input = speech_like(2048, 3);
  EXPECT_EQ(make_compressor("png")->compress(input, SymbolFormat{16, ByteOrder::msb, 16000}),
            make_compressor("png")->compress(input, SymbolFormat{}));
}

TEST(Png, HeaderOfOneZeroByteMatchesTheReference) {
  EXPECT_EQ(make_compressor("png")->compress(Bytes{0}, {}).size(), 67u);  // SPEC-LMIC section 4
}

TEST(Png, EmptyInputIsACodecError) {
  try {
    make_compressor("png")->compress({}, {});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::codec);
  }
}

}  // namespace
}  // namespace lmac
