#include "engine/models/vae/rms_norm_silu.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/record_function.h>

#include "engine/models/common/vector_math.h"

namespace videogen::models::vae {
namespace {

// Positions per task: the sums of squares of one block stay in L1 while every
// channel's row segment streams past.
constexpr int64_t kBlock = 512;

}  // namespace

bool RmsNormSiluApplies(const torch::Tensor& x) {
  return x.defined() && x.device().is_cpu() && x.scalar_type() == at::kFloat && x.dim() >= 2 && x.is_contiguous();
}

torch::Tensor RmsNormSilu(const torch::Tensor& x, const torch::Tensor& gamma, const torch::Tensor& bias, double scale) {
  RECORD_FUNCTION("videogen::RmsNormSilu", std::vector<c10::IValue>());
  TORCH_CHECK(RmsNormSiluApplies(x), "RmsNormSilu: x must be a contiguous float32 CPU tensor of >= 2 dims");
  const int64_t batch = x.size(0), channels = x.size(1);
  const int64_t positions = batch * channels == 0 ? 0 : x.numel() / (batch * channels);
  const torch::Tensor g = gamma.to(at::kFloat).contiguous().view({-1});
  const torch::Tensor bb = bias.defined() ? bias.to(at::kFloat).contiguous().view({-1}) : torch::Tensor();
  TORCH_CHECK(g.numel() == channels && (!bb.defined() || bb.numel() == channels),
              "RmsNormSilu: gamma and bias need one value per channel");
  torch::Tensor out = at::empty_like(x);
  const float* xp = x.data_ptr<float>();
  const float* gp = g.data_ptr<float>();
  const float* bp = bb.defined() ? bb.data_ptr<float>() : nullptr;
  float* op = out.data_ptr<float>();
  const float s = static_cast<float>(scale);
  const int64_t blocks = (positions + kBlock - 1) / kBlock;
  at::parallel_for(0, batch * blocks, 1, [&](int64_t begin, int64_t end) {
    float norm[kBlock];
    for (int64_t task = begin; task < end; ++task) {
      const int64_t b = task / blocks, p0 = (task % blocks) * kBlock, n = std::min(kBlock, positions - p0);
      const float* xb = xp + (b * channels) * positions + p0;
      float* ob = op + (b * channels) * positions + p0;
      vec::RunVectorised([&]() VIDEOGEN_VECTOR_LOOP {
        for (int64_t j = 0; j < n; ++j) norm[j] = 0;
        for (int64_t c = 0; c < channels; ++c) {
          const float* xc = xb + c * positions;
          for (int64_t j = 0; j < n; ++j) norm[j] += xc[j] * xc[j];
        }
        for (int64_t j = 0; j < n; ++j) {
          const float r = __builtin_sqrtf(norm[j]);
          norm[j] = r > 1e-12f || r != r ? r : 1e-12f;  // clamp_min, NaN kept
        }
        for (int64_t c = 0; c < channels; ++c) {
          const float* xc = xb + c * positions;
          float* oc = ob + c * positions;
          const float gc = gp[c], bc = bp != nullptr ? bp[c] : 0.0f;
          for (int64_t j = 0; j < n; ++j) {
            float y = xc[j] / norm[j] * s * gc;
            if (bp != nullptr) y += bc;
            oc[j] = y / (1.0f + vec::ExpClamped(-y));
          }
        }
      });
    }
  });
  return out;
}

}  // namespace videogen::models::vae
