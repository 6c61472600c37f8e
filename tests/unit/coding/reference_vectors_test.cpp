// Vectors from tools/make_coder_vectors.py, an independent Python/NumPy restatement of the reference coder (it
// also reproduces SPEC vectors A and B). The pdfs are built from small integers, so this file rebuilds the same
// float32 values without sharing code with the script; symbols come from the same 32-bit LCG.
#include "coding/arithmetic_coder.hpp"
#include "coding/pdf.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace lmac {
namespace {

struct Vector {
  const char* kind;
  int alphabet;
  int length;
  uint32_t seed;
  uint64_t num_bits;
  int padding_bits;
  const char* hex;
};

// Output of `/work/venv-ref/bin/python tools/make_coder_vectors.py` (NumPy 2.4).
const Vector kVectors[] = {
    {"mixed", 256, 300, 1u, 2697u, 7, "00a99b2780cd38f06a6892c9b37fe836bf9488364b8a66f7c647ff9ecb4cbd082f75e77db81778d6e2fffaf37032611597fd78cef30cbfc4dcd1a5597d7037c688d6cbc6d95a470b7165175e22c79fe22a69dceaadde36bed7cd8375072b0a633772a20eb2417d8e66a379cbf7ebabb0dee161c5a1ef3d45464904e0a825f82518851c8302190dc1304a848fd60d9243db549822e2484be6ce5fdf33af5c487aa5d91de1a2068018c9f2dfa2a9e2ea892ac2bc17e0f3765fc2014f16ce045880fac5b6a008f3b156aab19bbe7e874b4e36555a8daa9e2841d62d131890372e388b91f0b19aecc2ee0fa1907bd1a83cbb464b3f4663a4f19940195737820d8658463e9f2a3bb99d83314ce526a53834f5643a28207f496c6afcc25f196396c9a940bd537fbd8260fcadaf86781621d79e1dfb204c62093aa43513305b7ba365b1b7fdd182a66ea43fef4b94fb05ac7cfd2a42"},
    {"peaked", 256, 400, 2u, 1162u, 6, "023808181abbb6da1bb2a59c5d2092e4726d5bee51382aaaf6968530c6a0b8381a6ba81e04f9ac6981dde752295fda2bab6378e70369cd8b995c2ff417530c69a7247e8fccf9862a3da73695937ef1cfd7fc5a9d95687870c44ceda1b75ecf55f0fe2ddb4b5502588b4c0481902ea997ec1cb0f408dc08c8eb61a40ee2f7de9d36b75883abbc34178098997d7da97695133e"},
    {"zeros", 256, 200, 3u, 2193u, 7, "0046657a40741165e261f6ed9683efc9571ca20d1425a0fdacba47fe1e16faa85f637347d98d0b24f98425cb77ebaffaec9a1bcfa4235c9458b8395bfa8ec3ea5f4af16e867c44b2d9af9dcb3cfaada01b10a108a916d66d1cc15e6f75e63480c68d8580a2da9fd88065f4bdfaa36bc452b6244620e31ca7d3a86083e06fc33ca8bf825754a099c269f79737ef9e7d288c58e1fb13f3bf62fe7c8dcf93f09f56a58c1f22d78db702baa084451d1a12ab9a7173c672d5076178826970a8d4bdd72022d6af7b6de033dc440766c95f93a9622b4ceab1b5a8e6f99a390a52f0d7dfa78ea219fe7b04a1a7c34f5608834564c897de69d70693c02be2a5a7563b9b2571bff230d14494f19b0d711f24bf7ed9418c1d"},
    {"mixed", 128, 200, 4u, 1528u, 0, "07faf815a4505d6b36d8bae1daef5fb9ebbe00c845b0a4b3726c4345184d60b8f875f3eb839e52bfdf5174837dcfa80d9b8aada85800f69400c61dd6385b9db085c9f247141ffdd9af450d4fb536798f1784ffd5cb25a202c19d33f7824b32551cd66601c95cdd458a81c2f777df0f5f4fa2db29016a3950b3d4a278cc00bd8c2b702f47af466c9badc326429fd3311d85b5af07e77346e3d66ce1a0ce00f9d047d2c98e008f797b8da1fb0079a61e35cd3348daa1ac633835d4e6ff7b94fd"},
    {"peaked", 65536, 40, 5u, 117u, 3, "1fbf5b8ef111591e341040bc92cec0"},
    {"mixed", 65536, 30, 6u, 488u, 0, "074472068c654ea50f6f15db2af90eef0bf77bd0820e54c12a70ca79062a7ea6eeb64a21aabc65c6e0d0c3130758949a281c30d261c65c2a721fc77c8d"},
    {"mixed", 2, 500, 7u, 894u, 2, "311c7765a4866f75fb78d2a5390c77d5d187547e16173e4682f1873d3900d2b99c64537649bf79599081e29e385ae768b7c0643e31b9c1d0a1ab26771720df85e4c0a90f3e3d7784ce16af15e48592be2a9f252ccb49de67ce7aade37825273d4b6f9bdcf83bb44b9e86697a236a612e"},
    {"zeros", 3, 300, 8u, 1923u, 5, "019999918b15557647332e05621fed0c4fa1f8a3aaaae1efff91a95557bf330097fff89719772c73b2aaacdfffda1ffed622aaa7afda4811de236502a6dc5aaab0a68861f9664805e4a332f1d4abffe516ffeff59332cfe85554cac442ce98aa7afefffcbefffe27d32d6933b77f8f0647fffc0eb2aa16fd9ffe6c9555af3ffd9f798291133fff03b4f0d329456847793fff18c000142fff71feaaae0d662ebc7ffe8573311b240000242ffe7cac466ef888ccca6e7aaa6945fff8440000cbfffa7b4cc884237f95cecffe3167ffef817d2505e37ffc715cca072ad54262fffb41ab2b27d193c045c8aa6e9aaab147ffd5"},
    {"uniform", 1000, 50, 9u, 498u, 6, "00531c1fef7c5facda4b8ddc853d21bc08b1a71f2ba1e02af7622e014a6a8ab21eedbde22725066ad7a0ac4d75b32707ffa12aa0b8fc49227003ac9913a026"},
    {"peaked", 2, 300, 10u, 108u, 4, "06df80acfa2e357424d808d8ffb8"},
};

struct Lcg {
  uint32_t state;
  uint32_t next() { return state = state * 1664525u + 1013904223u; }
};

// Integer weights, exactly as raw_weights() in the script.
std::vector<float> raw_weights(const std::string& kind, int A, int t) {
  std::vector<float> w(static_cast<size_t>(A));
  for (int64_t i = 0; i < A; ++i) {
    int64_t v = 1;
    if (kind == "mixed") {
      v = (i * 131 + t * 71) % 257;
      v = (v * v * v) % 100003;
    } else if (kind == "zeros") {
      v = (i * 7 + t) % 5 == 0 ? 0 : (i % 13) + 1;
    }
    w[static_cast<size_t>(i)] = static_cast<float>(v);
  }
  if (kind == "peaked") {
    w[static_cast<size_t>((t * 37) % A)] = static_cast<float>(1 << 23);
    w[static_cast<size_t>((t * 53 + 1) % A)] += static_cast<float>(1 << 20);
  }
  return w;
}

std::string to_hex(const Bytes& b) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (uint8_t v : b) {
    s += digits[v >> 4];
    s += digits[v & 15];
  }
  return s;
}

TEST(ReferenceVectors, EncodeAndDecodeBitExact) {
  for (const Vector& v : kVectors) {
    SCOPED_TRACE(std::string(v.kind) + " A=" + std::to_string(v.alphabet) + " seed=" + std::to_string(v.seed));
    Lcg rng{v.seed};
    std::vector<std::vector<float>> pdfs;
    std::vector<uint32_t> symbols;
    ArithmeticEncoder enc;
    for (int t = 0; t < v.length; ++t) {
      std::vector<float> pdf = raw_weights(v.kind, v.alphabet, t);
      normalize_pdf(pdf);
      const uint32_t r = rng.next();
      uint32_t s = (r >> 8) % static_cast<uint32_t>(v.alphabet);
      if (std::string(v.kind) == "peaked" && r % 8 != 0) s = static_cast<uint32_t>((t * 37) % v.alphabet);
      enc.encode(pdf, s);
      pdfs.push_back(std::move(pdf));
      symbols.push_back(s);
    }
    const EncodedBits e = enc.finish();
    EXPECT_EQ(e.num_bits, v.num_bits);
    EXPECT_EQ(e.padding_bits, v.padding_bits);
    EXPECT_EQ(to_hex(e.bytes), v.hex);

    ArithmeticDecoder dec(e.bytes, e.num_bits);
    for (int t = 0; t < v.length; ++t) ASSERT_EQ(dec.decode(pdfs[static_cast<size_t>(t)]), symbols[static_cast<size_t>(t)]);
  }
}

}  // namespace
}  // namespace lmac
