// The baseline compressors by name, as `--baseline_compressors` spells them.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "codecs/builtin.hpp"
#include "util/error.hpp"

namespace lmac {

#ifdef LMAC_NO_FFMPEG
// Built with -DLMAC_FFMPEG=OFF (a lean binary for machines without ffmpeg): the name stays known, and asking for it
// says why it is missing.
std::unique_ptr<Compressor> make_flac_lmic_compressor() {
  throw_error(ErrorCode::unsupported, "flac-lmic: this lmac was built without ffmpeg (-DLMAC_FFMPEG=OFF)");
}
#endif

namespace {

struct Entry {
  const char* name;
  std::unique_ptr<Compressor> (*make)();
};

// The order `--help` lists them in.
constexpr Entry kEntries[] = {
    {"gzip", make_gzip_compressor},       {"lzma", make_lzma_compressor},
    {"flac", make_flac_compressor},       {"zstd", make_zstd_compressor},
    {"bzip2", make_bzip2_compressor},     {"brotli", make_brotli_compressor},
    {"wavpack", make_wavpack_compressor}, {"png", make_png_compressor},
    {"flac-lmic", make_flac_lmic_compressor},
};

}  // namespace

const std::vector<std::string>& compressor_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const Entry& e : kEntries) out.emplace_back(e.name);
    return out;
  }();
  return names;
}

std::unique_ptr<Compressor> make_compressor(std::string_view name) {
  for (const Entry& e : kEntries) {
    if (name == e.name) return e.make();
  }
  throw_error(ErrorCode::usage, "unknown baseline compressor '{}'; valid names: {}", name,
              fmt::join(compressor_names(), ", "));
}

}  // namespace lmac
