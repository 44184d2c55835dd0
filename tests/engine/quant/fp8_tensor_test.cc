#include "engine/quant/fp8_tensor.h"

#include <cmath>
#include <limits>
#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "engine/quant/e4m3.h"
#include "engine/quant/e4m3_simd.h"
#include "engine/quant/fp8_storage.h"

namespace videogen::quant {
namespace {

TEST(Fp8Tensor, EncodeMatchesScalarCodecForEveryDtype) {
  torch::manual_seed(0);
  const torch::Tensor x = torch::randn({300, 257}) * 100;  // spans subnormals to saturation
  for (torch::ScalarType dtype : {torch::kFloat32, torch::kBFloat16, torch::kFloat16, torch::kFloat64}) {
    const torch::Tensor xd = x.to(dtype);
    const torch::Tensor codes = EncodeE4M3Tensor(xd, 2.0f);
    ASSERT_EQ(codes.scalar_type(), torch::kUInt8);
    ASSERT_EQ(codes.sizes(), x.sizes());
    const torch::Tensor xf = xd.to(torch::kFloat32).contiguous();
    const float* src = xf.data_ptr<float>();
    const uint8_t* got = codes.data_ptr<uint8_t>();
    for (int64_t i = 0; i < x.numel(); ++i) ASSERT_EQ(got[i], EncodeE4M3(src[i] / 2.0f)) << i;
  }
}

TEST(Fp8Tensor, DecodeIsTheTableTimesScale) {
  const torch::Tensor codes = torch::arange(256, torch::kInt32).to(torch::kUInt8).repeat({3});
  for (torch::ScalarType dtype : {torch::kFloat32, torch::kBFloat16, torch::kFloat16}) {
    const torch::Tensor out = DecodeE4M3Tensor(codes, 0.5f, dtype);
    ASSERT_EQ(out.scalar_type(), dtype);
    const torch::Tensor outf = out.to(torch::kFloat32);
    for (int c = 0; c < 768; ++c) {
      const float want = DecodeE4M3(static_cast<uint8_t>(c % 256)) * 0.5f;
      const float got = outf[c].item<float>();
      if (std::isnan(want)) {
        EXPECT_TRUE(std::isnan(got)) << c;
      } else {
        // e4m3 values (times 0.5) are exact in bf16 and fp16 except fp16 subnormal underflow: none here.
        EXPECT_EQ(got, want) << c << " dtype " << c10::toString(dtype);
      }
    }
  }
}

TEST(Fp8Tensor, SimdDecodeMatchesScalarDecodeBitForBit) {
  if (!HasSimdE4M3Decode()) GTEST_SKIP() << "no AVX2/F16C";
  std::vector<uint8_t> codes(256 * 3 + 13);
  for (size_t i = 0; i < codes.size(); ++i) codes[i] = static_cast<uint8_t>(i * 7 + 3);
  for (float scale : {1.0f, 0.0123f, 3.5f}) {
    for (int64_t n : {int64_t{1}, int64_t{7}, int64_t{16}, int64_t{37}, static_cast<int64_t>(codes.size())}) {
      std::vector<float> f(n);
      std::vector<uint16_t> b(n), v(n);
      DecodeE4M3ToF32Simd(codes.data(), n, scale, f.data());
      DecodeE4M3ToBf16Simd(codes.data(), n, scale, b.data());
      if (HasVbmiE4M3Decode()) {
        DecodeE4M3ToBf16Vbmi(codes.data(), n, scale, v.data());
        EXPECT_EQ(v, b) << "n " << n << " scale " << scale;
      }
      for (int64_t i = 0; i < n; ++i) {
        const float want = DecodeE4M3(codes[i]) * scale;
        if (std::isnan(want)) {
          EXPECT_TRUE(std::isnan(f[i]));
          EXPECT_EQ(b[i] & 0x7FC0, 0x7FC0);
          continue;
        }
        EXPECT_EQ(f[i], want) << "code " << int(codes[i]) << " scale " << scale;
        EXPECT_EQ(b[i], at::BFloat16(want).x) << "code " << int(codes[i]) << " scale " << scale;
      }
    }
  }
}

TEST(Fp8Tensor, SimdEncodeMatchesScalarCodecOnEveryFloatClass) {
  if (!HasSimdE4M3Decode()) GTEST_SKIP() << "no AVX2/F16C";
  std::vector<float> in;
  for (int c = 0; c < 256; ++c) {  // every code, its midpoints and neighbours
    const float v = DecodeE4M3(static_cast<uint8_t>(c));
    in.push_back(v);
    in.push_back(std::nextafter(v, 0.0f));
    in.push_back(std::nextafter(v, 1e9f));
    if (c < 0x7E) in.push_back((v + DecodeE4M3(static_cast<uint8_t>(c + 1))) / 2);
  }
  for (float v : {0.0f, -0.0f, 448.0f, 464.0f, 1e30f, -1e30f, std::numeric_limits<float>::infinity(),
                  -std::numeric_limits<float>::infinity(), std::numeric_limits<float>::quiet_NaN(),
                  -std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::denorm_min()}) {
    in.push_back(v);
  }
  for (float scale : {1.0f, 0.37f}) {
    std::vector<uint8_t> out(in.size());
    EncodeE4M3Simd(in.data(), static_cast<int64_t>(in.size()), scale, out.data());
    for (size_t i = 0; i < in.size(); ++i) ASSERT_EQ(out[i], EncodeE4M3(in[i] / scale)) << in[i] << " scale " << scale;
  }
  std::vector<float> m = {1, -9, std::nanf(""), 3, 2, 2, 2, 2, 2, -8.5f, 1};
  EXPECT_EQ(AbsMaxSimd(m.data(), static_cast<int64_t>(m.size())), 9.0f);
}

TEST(Fp8Tensor, AbsMaxIgnoresNanAndHandlesChunks) {
  torch::Tensor x = torch::zeros({200001});
  x[123456] = -7.5f;
  x[5] = std::nanf("");
  EXPECT_EQ(AbsMax(x), 7.5f);
  EXPECT_EQ(AbsMax(x.to(torch::kBFloat16)), 7.5f);
  EXPECT_EQ(AbsMax(torch::zeros({0})), 0.0f);
}

TEST(Fp8Tensor, PerTensorScalingUsesTheFullRange) {
  torch::manual_seed(1);
  const torch::Tensor w = torch::randn({64, 96}) * 0.02;
  auto q = QuantizeWeight(w, Fp8Scaling::kPerTensor);
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_TRUE(IsFp8Storage(q->storage));
  EXPECT_FLOAT_EQ(q->scale, w.abs().max().item<float>() / 448.0f);
  const torch::Tensor back = DequantizeWeight(*q, torch::kFloat32);
  const double rel = ((back - w).norm() / w.norm()).item<double>();
  EXPECT_LT(rel, 0.04);  // 3 mantissa bits: ~2^-4 relative per element, less in L2
  // The largest magnitude maps to ±448 exactly.
  EXPECT_EQ((Fp8CodesFromStorage(q->storage).to(torch::kInt32).bitwise_and(0x7F) == 0x7E).sum().item<int64_t>(), 1);
}

TEST(Fp8Tensor, PlainCastLosesSmallWeightsScaledDoesNot) {
  torch::manual_seed(2);
  const torch::Tensor w = torch::randn({128, 128}) * 1e-3;  // mostly below 2^-6: subnormal in e4m3
  auto plain = QuantizeWeight(w, Fp8Scaling::kPlainCast);
  auto scaled = QuantizeWeight(w, Fp8Scaling::kPerTensor);
  ASSERT_TRUE(plain.ok() && scaled.ok());
  EXPECT_EQ(plain->scale, 1.0f);
  const auto err = [&](const Fp8Weight& q) {
    return ((DequantizeWeight(q, torch::kFloat32) - w).norm() / w.norm()).item<double>();
  };
  EXPECT_GT(err(*plain), 0.1);
  EXPECT_LT(err(*scaled), 0.04);
}

TEST(Fp8Tensor, QuantizeRejectsNonFloatAndNonFinite) {
  EXPECT_EQ(QuantizeWeight(torch::zeros({2, 2}, torch::kInt64), Fp8Scaling::kPlainCast).status().code(),
            absl::StatusCode::kInvalidArgument);
  torch::Tensor w = torch::ones({2, 2});
  w[0][0] = std::numeric_limits<float>::infinity();
  const auto s = QuantizeWeight(w, Fp8Scaling::kPerTensor).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("weight"), std::string::npos);
}

}  // namespace
}  // namespace videogen::quant
