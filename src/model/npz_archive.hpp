// .npz files are zip archives of .npy entries (np.savez stores them, np.savez_compressed deflates them).
// Read through libzip from memory, so that a fuzzer can feed bytes directly.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "model/npy_array.hpp"
#include "util/bytes.hpp"

namespace lmac {

struct ZipEntry {
  std::string name;  // as stored, e.g. "multi_head_dot_product_attention/linear.npy"
  Bytes data;        // uncompressed, CRC checked
};

// Every file entry of a zip archive held in `zip`. `file` names the archive in errors.
std::vector<ZipEntry> read_zip_entries(ByteView zip, const std::string& file);

// The parameters of a framework checkpoint, from either form:
//  - the training script's np.savez(path, **params): entry "<module>.npy" is a pickled 0-d object array holding
//    {param: array};
//  - the flat form: entry "<module>/<param>.npy" is a plain array.
// Keys come out as "<module>/<param>". A top-level plain array without '/' (e.g. "lmac_bits") is kept under its
// own name. Duplicate names are an error.
std::map<std::string, NpyArray> read_npz_params(ByteView zip, const std::string& file);

// Reads the file from disk, then as above.
std::map<std::string, NpyArray> read_npz_params_file(const std::string& path);

}  // namespace lmac
