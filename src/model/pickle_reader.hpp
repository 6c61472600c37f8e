// A restricted unpickler for the checkpoints the paper's training script writes (np.savez of a dict of dicts of
// jax arrays). It executes nothing: it knows the opcodes that build None, bools, numbers, strings, bytes,
// tuples, lists and dicts, the memo and mark opcodes, and exactly five globals, which it treats as data that
// describe an ndarray:
//   numpy.core.multiarray._reconstruct, numpy._core.multiarray._reconstruct, numpy.ndarray, numpy.dtype,
//   jax._src.array._reconstruct_array.
// Any other global, and any call that does not have the shape NumPy and JAX write, is refused with an
// lmac::Error naming it. Every read is bounds-checked; memory stays proportional to the input.
#pragma once

#include <map>
#include <string>

#include "model/npy_array.hpp"
#include "util/bytes.hpp"

namespace lmac {

// Unpickles the payload of one object-array .npy entry (a 0-d object array holding a dict) and returns the dict:
// parameter name -> array. `where` ("<file>:<entry>") is named in every error.
std::map<std::string, NpyArray> unpickle_param_dict(ByteView pickle, const std::string& where);

}  // namespace lmac
