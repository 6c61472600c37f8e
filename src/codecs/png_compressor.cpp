// PNG as the reference runs it: the bytes as one 8-bit greyscale image, `width` = the largest divisor of n that
// is <= round(sqrt(n)) (32 x 64 for 2048 bytes), saved with Pillow's `optimize=True`. Pillow does not use
// libpng; its encoder (libImaging/ZipEncode.c) is mirrored here on top of libpng:
//   - each row's filter is Pillow's pick: the least sum of |filtered byte| (bytes read as signed), trying
//     none, up, sub, average, paeth in that order and keeping the first minimum (average only with optimize);
//   - zlib level 9, windowBits 15, memLevel 9, strategy Z_FILTERED;
//   - IDAT chunks of 64 KiB (Pillow's MAXBLOCK).
// libpng drops the filters that need a left or upper neighbour from images one pixel wide or high (inputs of
// prime length); those rows then fall back to a filter libpng allows and may differ from Pillow by a few bytes.
// Symbol width does not matter: in 16-bit mode the reference has no PNG definition, and the stream's bytes are
// taken as an 8-bit image all the same.
#include <png.h>
#include <zlib.h>

#include <cmath>
#include <csetjmp>
#include <cstring>

#include "codecs/builtin.hpp"
#include "util/error.hpp"

namespace lmac {

namespace {

// |v| of a filtered byte read as signed, Pillow's measure of how far a row is from zero.
int distance(uint8_t v) { return v < 128 ? v : 256 - v; }

uint8_t paeth_predictor(int a, int b, int c) {
  const int pa = std::abs(b - c), pb = std::abs(a - c), pc = std::abs(a + b - 2 * c);
  return uint8_t((pa <= pb && pa <= pc) ? a : (pb <= pc) ? b : c);
}

// Pillow's filter choice for every row of a width x height greyscale image (PNG filter types 0..4).
std::vector<uint8_t> pillow_filters(const uint8_t* pixels, size_t width, size_t height) {
  std::vector<uint8_t> types(height);
  const std::vector<uint8_t> black(width, 0);  // Pillow's "previous" row for the first row
  for (size_t y = 0; y < height; ++y) {
    const uint8_t* row = pixels + y * width;
    const uint8_t* prev = y == 0 ? black.data() : row - width;
    auto left = [&](size_t i) { return i == 0 ? 0 : row[i - 1]; };
    auto upper_left = [&](size_t i) { return i == 0 ? 0 : prev[i - 1]; };
    long best = 0;
    for (size_t i = 0; i < width; ++i) best += distance(row[i]);
    uint8_t type = 0;
    auto consider = [&](uint8_t candidate, auto predict) {
      if (best == 0) return;  // Pillow stops looking once a row filters to all zeros
      long sum = 0;
      for (size_t i = 0; i < width; ++i) sum += distance(uint8_t(row[i] - predict(i)));
      if (sum < best) best = sum, type = candidate;
    };
    consider(2, [&](size_t i) { return prev[i]; });                                      // up
    consider(1, [&](size_t i) { return left(i); });                                      // sub
    consider(3, [&](size_t i) { return (left(i) + prev[i]) / 2; });                      // average
    consider(4, [&](size_t i) { return paeth_predictor(left(i), prev[i], upper_left(i)); });  // paeth
    types[y] = type;
  }
  return types;
}

// libpng reports errors by longjmp: the function that calls setjmp holds no object with a destructor, and no
// C++ frame with one is live when libpng jumps.
struct PngErrorSlot {
  char message[256] = "";
};

void on_error(png_structp png, png_const_charp message) {
  auto* slot = static_cast<PngErrorSlot*>(png_get_error_ptr(png));
  std::snprintf(slot->message, sizeof slot->message, "%s", message);
  std::longjmp(png_jmpbuf(png), 1);
}

void on_warning(png_structp, png_const_charp) {}

void on_write(png_structp png, png_bytep data, size_t size) {
  bool failed = false;
  try {
    auto* out = static_cast<Bytes*>(png_get_io_ptr(png));
    out->insert(out->end(), data, data + size);
  } catch (...) {
    failed = true;
  }
  if (failed) png_error(png, "out of memory");  // after the catch block: longjmp must not leave it
}

void on_flush(png_structp) {}

constexpr int kFilterFlag[5] = {PNG_FILTER_NONE, PNG_FILTER_SUB, PNG_FILTER_UP, PNG_FILTER_AVG, PNG_FILTER_PAETH};

// Writes the image; returns false with the message in `slot` if libpng fails.
bool write_png(png_structp png, png_infop info, const uint8_t* pixels, png_uint_32 width, png_uint_32 height,
               const uint8_t* filter_types) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_set_user_limits(png, 0x7fffffff, 0x7fffffff);  // prime-length inputs make one very tall column
  png_set_IHDR(png, info, width, height, 8, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_BASE,
               PNG_FILTER_TYPE_BASE);
  png_set_compression_level(png, Z_BEST_COMPRESSION);
  png_set_compression_mem_level(png, 9);
  png_set_compression_window_bits(png, 15);
  png_set_compression_strategy(png, Z_FILTERED);
  png_set_compression_buffer_size(png, 65536);
  png_write_info(png, info);
  for (png_uint_32 y = 0; y < height; ++y) {
    int filters = kFilterFlag[filter_types[y]];
    // libpng sets up its filter buffers at the first row and keeps the previous row only if a filter then needs
    // it. Adding "up" to the first row's set keeps it; on the first row "up" filters to the same bytes as
    // "none", and libpng takes a later filter only if strictly better, so Pillow's pick (none or sub, the only
    // ones besides average that Pillow can pick there) still wins.
    if (y == 0) filters |= PNG_FILTER_UP;
    png_set_filter(png, PNG_FILTER_TYPE_BASE, filters);
    png_write_row(png, pixels + size_t(y) * width);
  }
  png_write_end(png, info);
  return true;
}

class PngCompressor : public Compressor {
 public:
  std::string_view name() const override { return "png"; }

  Bytes compress(ByteView data, const SymbolFormat&) const override {
    const size_t n = data.size();
    if (n == 0) throw_error(ErrorCode::codec, "png: cannot make an image of 0 bytes");
    if (n > 0x7fffffff) throw_error(ErrorCode::codec, "png: input of {} bytes is too large", n);
    size_t width = size_t(std::llround(std::sqrt(double(n))));
    while (n % width != 0) --width;
    const size_t height = n / width;
    const std::vector<uint8_t> filter_types = pillow_filters(data.data(), width, height);

    PngErrorSlot slot;
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &slot, on_error, on_warning);
    if (!png) throw_error(ErrorCode::codec, "png: cannot create a libpng writer");
    png_infop info = png_create_info_struct(png);
    struct Destroy {
      png_structp* png;
      png_infop* info;
      ~Destroy() { png_destroy_write_struct(png, info); }
    } destroy{&png, &info};
    if (!info) throw_error(ErrorCode::codec, "png: cannot create a libpng info struct");

    Bytes out;
    png_set_write_fn(png, &out, on_write, on_flush);
    if (!write_png(png, info, data.data(), png_uint_32(width), png_uint_32(height), filter_types.data())) {
      throw_error(ErrorCode::codec, "png: {}", slot.message);
    }
    return out;
  }
};

}  // namespace

std::unique_ptr<Compressor> make_png_compressor() { return std::make_unique<PngCompressor>(); }

}  // namespace lmac
