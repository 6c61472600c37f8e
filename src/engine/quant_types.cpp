#include "engine/quant_types.hpp"

#include <array>

namespace lmac {

namespace {

// Block layouts from ggml-common.h (QK_K = 256 weights per super-block for the K types).
struct Entry {
  uint32_t id;
  GgmlTypeTraits traits;
};
constexpr int kQK = 256;
constexpr Entry kTypes[] = {
    {0, {"F32", 1, 4, true}},
    {1, {"F16", 1, 2, true}},
    {2, {"Q4_0", 32, 2 + 16, true}},
    {3, {"Q4_1", 32, 2 + 2 + 16, true}},
    {6, {"Q5_0", 32, 2 + 4 + 16, true}},
    {7, {"Q5_1", 32, 2 + 2 + 4 + 16, true}},
    {8, {"Q8_0", 32, 2 + 32, true}},
    {9, {"Q8_1", 32, 4 + 4 + 32, false}},
    {10, {"Q2_K", kQK, 2 + 2 + kQK / 16 + kQK / 4, false}},
    {11, {"Q3_K", kQK, 2 + kQK / 4 + kQK / 8 + 12, false}},
    {12, {"Q4_K", kQK, 2 + 2 + kQK / 2 + 12, true}},
    {13, {"Q5_K", kQK, 2 + 2 + kQK / 2 + kQK / 8 + 12, true}},
    {14, {"Q6_K", kQK, 2 + kQK / 2 + kQK / 4 + kQK / 16, true}},
    {15, {"Q8_K", kQK, 4 + kQK + kQK / 8, false}},
    {16, {"IQ2_XXS", kQK, 2 + kQK / 4, false}},
    {17, {"IQ2_XS", kQK, 2 + kQK / 4 + kQK / 32, false}},
    {18, {"IQ3_XXS", kQK, 2 + kQK / 4 + kQK / 8, false}},
    {19, {"IQ1_S", kQK, 2 + kQK / 8 + kQK / 16, false}},
    {20, {"IQ4_NL", 32, 2 + 16, false}},
    {21, {"IQ3_S", kQK, 2 + kQK / 4 + kQK / 8 + kQK / 32 + 4, false}},
    {22, {"IQ2_S", kQK, 2 + kQK / 4 + kQK / 16, false}},
    {23, {"IQ4_XS", kQK, 2 + 2 + kQK / 2 + kQK / 64, false}},
    {24, {"I8", 1, 1, false}},
    {25, {"I16", 1, 2, false}},
    {26, {"I32", 1, 4, false}},
    {27, {"I64", 1, 8, false}},
    {28, {"F64", 1, 8, false}},
    {29, {"IQ1_M", kQK, kQK / 8 + kQK / 16 + kQK / 32, false}},
    {30, {"BF16", 1, 2, true}},
    {34, {"TQ1_0", kQK, 2 + 4 * 13, false}},
    {35, {"TQ2_0", kQK, 2 + 64, false}},
    {39, {"MXFP4", 32, 1 + 16, false}},
    {40, {"NVFP4", 64, 4 + 32, false}},
    {41, {"Q1_0", 128, 2 + 16, false}},
};

}  // namespace

const GgmlTypeTraits* ggml_type_traits(uint32_t id) {
  for (const Entry& e : kTypes)
    if (e.id == id) return &e.traits;
  return nullptr;
}

const GgmlTypeTraits& ggml_traits(GgmlType type) {
  static const GgmlTypeTraits unknown{"unknown", 1, 1, false};
  const GgmlTypeTraits* t = ggml_type_traits(uint32_t(type));
  return t ? *t : unknown;
}

std::string ggml_dequantizable_type_list() {
  // The order of the list, not of the ids.
  static const GgmlType order[] = {GgmlType::f32,  GgmlType::f16,  GgmlType::bf16, GgmlType::q8_0,
                                   GgmlType::q4_0, GgmlType::q4_1, GgmlType::q5_0, GgmlType::q5_1,
                                   GgmlType::q4_k, GgmlType::q5_k, GgmlType::q6_k};
  std::string list;
  for (GgmlType t : order) list += std::string(list.empty() ? "" : ", ") + ggml_type_name(t);
  return list;
}

}  // namespace lmac
