// The factories behind make_compressor, one per codec source file. Internal to the codecs layer.
#pragma once

#include <memory>

#include "codecs/compressor.hpp"

namespace lmac {

std::unique_ptr<Compressor> make_gzip_compressor();
std::unique_ptr<Compressor> make_lzma_compressor();
std::unique_ptr<Compressor> make_flac_compressor();
std::unique_ptr<Compressor> make_zstd_compressor();
std::unique_ptr<Compressor> make_bzip2_compressor();
std::unique_ptr<Compressor> make_brotli_compressor();
std::unique_ptr<Compressor> make_wavpack_compressor();
std::unique_ptr<Compressor> make_png_compressor();
std::unique_ptr<Compressor> make_flac_lmic_compressor();

}  // namespace lmac
