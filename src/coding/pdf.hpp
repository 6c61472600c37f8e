// From a model's log-probabilities to the pdf the arithmetic coder splits its interval with, rounded exactly
// like the reference of "Language Modeling Is Compression" (utils.normalize_pdf_for_arithmetic_coding):
//
//   p = exp(log_probs)                      float32
//   p = p / sum(p)                          sum taken left to right in float32, one rounded division per value
//   p = (1 - 2 * A * eps) * p + eps         eps = 2^-23 (float32 machine epsilon); a multiply and an add,
//                                           each rounded to float32 (never fused into an FMA)
//
// A is the alphabet size (the pdf's length), as in the reference, which reads it from pdf.shape[0]:
// 256 for bytes (factor 1 - 2^-14), 128 for 7-bit symbols (1 - 2^-15), 65536 for 16-bit symbols (1 - 2^-6).
// For every A up to 2^21 the factor is exact in float32, so it does not matter whether it is formed in float32
// (as NumPy does) or in double. Every normalised value is >= eps, which keeps every symbol's interval non-empty
// for the coder's 32-bit precision, whatever A is.
//
// exp: the reference calls np.exp, whose float32 result depends on the CPU NumPy runs on (its AVX2/AVX-512 loops
// and libm's expf round differently), and the model's log-probs never match XLA's bit for bit anyway. lmac uses
// its own float32 exp (exp_f32), built only from IEEE additions and multiplications, so that the same log-probs
// give the same pdf on every x86-64 machine, with or without AVX2, and a file decodes wherever it was written.
// It is within 3 ulp of the true exp (about 2 in practice).
#pragma once

#include <cstdint>
#include <span>

namespace lmac {

inline constexpr float kPdfEpsilon = 0x1p-23f;  // np.finfo(np.float32).eps

// The factor (1 - 2 * A * eps) of the reference, exact in float32.
float pdf_mix_factor(int alphabet_size);

// exp(x) in float32, deterministic on every machine: 0 below -104, +inf above 88.72..., NaN stays NaN.
float exp_f32(float x);
void exp_f32(std::span<const float> x, std::span<float> out);

// The reference normalisation, in place. Throws lmac::Error (ErrorCode::internal) if the values do not sum to a
// finite positive number (a NaN, an infinity, a negative value or all zeros), naming the offending index.
void normalize_pdf(std::span<float> pdf);

// exp then normalize_pdf: the pdf the coder gets for one row of log-probabilities.
void pdf_from_log_probs(std::span<const float> log_probs, std::span<float> pdf);

}  // namespace lmac
