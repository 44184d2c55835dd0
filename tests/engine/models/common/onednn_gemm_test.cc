#include "engine/models/common/onednn_gemm.h"

#include <limits>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <gtest/gtest.h>

namespace videogen::models {
namespace {

// The reference: float32 GEMM of the same bf16-exact values.
at::Tensor Reference(const at::Tensor& a, const at::Tensor& b_op, float alpha, float beta, const at::Tensor& c) {
  return at::addmm(c, a.to(at::kFloat), b_op.to(at::kFloat), beta, alpha);
}

class Bf16FloatGemmTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!Bf16FloatGemmAvailable()) GTEST_SKIP() << "this LibTorch hides oneDNN's dnnl_gemm_bf16bf16f32";
  }
};

// Both layouts of B, row strides wider than the rows, beta 0 over NaN and beta 1.
TEST_F(Bf16FloatGemmTest, MatchesFloat32GemmOfTheSameValues) {
  at::manual_seed(3);
  const int64_t m = 37, n = 53, k = 70;
  const at::Tensor a = at::randn({m, k + 6}).to(at::kBFloat16).narrow(1, 0, k);  // lda = k + 6
  for (bool transpose_b : {false, true}) {
    const at::Tensor b = transpose_b ? at::randn({n, k}).to(at::kBFloat16) : at::randn({k, n}).to(at::kBFloat16);
    const at::Tensor b_op = transpose_b ? b.t() : b;
    const at::Tensor c0 = at::randn({m, n});
    at::Tensor c = at::full({m, n + 3}, std::numeric_limits<float>::quiet_NaN()).narrow(1, 0, n);  // ldc = n + 3
    Bf16FloatGemm(transpose_b, m, n, k, 0.5f, a.data_ptr<c10::BFloat16>(), a.stride(0), b.data_ptr<c10::BFloat16>(),
                  b.stride(0), 0.0f, c.data_ptr<float>(), c.stride(0));
    const at::Tensor expected0 = Reference(a, b_op, 0.5f, 0.0f, at::zeros({m, n}));
    EXPECT_LT((c - expected0).abs().max().item<double>(), 1e-4 * expected0.abs().max().item<double>())
        << "transpose_b " << transpose_b;
    c.copy_(c0);
    Bf16FloatGemm(transpose_b, m, n, k, 1.0f, a.data_ptr<c10::BFloat16>(), a.stride(0), b.data_ptr<c10::BFloat16>(),
                  b.stride(0), 1.0f, c.data_ptr<float>(), c.stride(0));
    const at::Tensor expected1 = Reference(a, b_op, 1.0f, 1.0f, c0);
    EXPECT_LT((c - expected1).abs().max().item<double>(), 1e-4 * expected1.abs().max().item<double>())
        << "transpose_b " << transpose_b;
  }
}

// Called from LibTorch's worker threads at once (as attention's tiles do),
// each on its own output, every result is right.
TEST_F(Bf16FloatGemmTest, IsCorrectFromParallelTasks) {
  at::manual_seed(4);
  const int64_t m = 64, n = 96, k = 128, tasks = 16;
  const at::Tensor a = at::randn({tasks, m, k}).to(at::kBFloat16), b = at::randn({tasks, n, k}).to(at::kBFloat16);
  at::Tensor c = at::empty({tasks, m, n});
  at::parallel_for(0, tasks, 1, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      Bf16FloatGemm(true, m, n, k, 1.0f, a[i].data_ptr<c10::BFloat16>(), k, b[i].data_ptr<c10::BFloat16>(), k, 0.0f,
                    c[i].data_ptr<float>(), n);
    }
  });
  const at::Tensor expected = at::bmm(a.to(at::kFloat), b.to(at::kFloat).transpose(1, 2));
  EXPECT_LT((c - expected).abs().max().item<double>(), 1e-4 * expected.abs().max().item<double>());
}

// FloatGemm against LibTorch's float32 addmm: both layouts of B, strided rows,
// beta 0 over NaN and beta 1, and from parallel tasks.
TEST(FloatGemmTest, MatchesLibTorchsFloat32Gemm) {
  if (!FloatGemmAvailable()) GTEST_SKIP() << "this LibTorch hides oneDNN's dnnl_sgemm";
  at::manual_seed(5);
  const int64_t m = 37, n = 53, k = 70;
  const at::Tensor a = at::randn({m, k + 6}).narrow(1, 0, k);  // lda = k + 6
  for (bool transpose_b : {false, true}) {
    const at::Tensor b = transpose_b ? at::randn({n, k}) : at::randn({k, n});
    const at::Tensor b_op = transpose_b ? b.t() : b;
    const at::Tensor c0 = at::randn({m, n});
    at::Tensor c = at::full({m, n + 3}, std::numeric_limits<float>::quiet_NaN()).narrow(1, 0, n);  // ldc = n + 3
    FloatGemm(transpose_b, m, n, k, 0.5f, a.data_ptr<float>(), a.stride(0), b.data_ptr<float>(), b.stride(0), 0.0f,
              c.data_ptr<float>(), c.stride(0));
    const at::Tensor expected0 = at::mm(a, b_op) * 0.5;
    EXPECT_LT((c - expected0).abs().max().item<double>(), 1e-5 * expected0.abs().max().item<double>())
        << "transpose_b " << transpose_b;
    c.copy_(c0);
    FloatGemm(transpose_b, m, n, k, 1.0f, a.data_ptr<float>(), a.stride(0), b.data_ptr<float>(), b.stride(0), 1.0f,
              c.data_ptr<float>(), c.stride(0));
    const at::Tensor expected1 = at::addmm(c0, a, b_op);
    EXPECT_LT((c - expected1).abs().max().item<double>(), 1e-5 * expected1.abs().max().item<double>())
        << "transpose_b " << transpose_b;
  }
  const int64_t tasks = 16;
  const at::Tensor as = at::randn({tasks, 64, 128}), bs = at::randn({tasks, 96, 128});
  at::Tensor cs = at::empty({tasks, 64, 96});
  at::parallel_for(0, tasks, 1, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      FloatGemm(true, 64, 96, 128, 1.0f, as[i].data_ptr<float>(), 128, bs[i].data_ptr<float>(), 128, 0.0f,
                cs[i].data_ptr<float>(), 96);
    }
  });
  const at::Tensor expected = at::bmm(as, bs.transpose(1, 2));
  EXPECT_LT((cs - expected).abs().max().item<double>(), 1e-5 * expected.abs().max().item<double>());
}

}  // namespace
}  // namespace videogen::models
