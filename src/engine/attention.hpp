// Causal multi-head self-attention on the CPU, for the framework transformer's layout.
#pragma once

#include <vector>

namespace lmac {

// qkv: [batch * T, 3 * D] row-major, the columns holding q | k | v, each split into `heads` heads of D / heads.
// out: [batch * T, D], heads joined. Row t attends to rows 0..t of its own sequence:
//   out_h[t] = sum_{s <= t} softmax_s(q_h[t] . k_h[s] / sqrt(D / heads)) v_h[s].
// Masked scores contribute exactly 0, as the reference's float32-minimum mask does after its softmax.
// Work proceeds in blocks of query rows so that scores take O(block * T) memory and the skipped upper triangle
// costs at most one block. `scratch` is reused between calls.
void causal_self_attention(const float* qkv, float* out, int batch, int T, int D, int heads,
                           std::vector<float>& scratch);

}  // namespace lmac
