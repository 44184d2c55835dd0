#include "engine/quant/quant_linear.h"

#include <cmath>
#include <map>

#include <ATen/ATen.h>
#include <torch/nn/init.h>

#include "absl/strings/str_cat.h"
#include "engine/quant/fp8_storage.h"

namespace videogen::quant {

QuantLinearImpl::QuantLinearImpl(const QuantLinearOptions& options) : options_(options) {
  weight = register_parameter("weight", torch::empty({options.out_features, options.in_features}),
                              /*requires_grad=*/false);
  if (options.bias) bias = register_parameter("bias", torch::empty({options.out_features}), /*requires_grad=*/false);
  if (options.init == ParamInit::kRandom) {
    torch::NoGradGuard no_grad;
    torch::nn::init::kaiming_uniform_(weight, std::sqrt(5.0));
    if (options.bias) {
      const double bound = options.in_features > 0 ? 1.0 / std::sqrt(static_cast<double>(options.in_features)) : 0.0;
      torch::nn::init::uniform_(bias, -bound, bound);
    }
  }
}

bool QuantLinearImpl::is_fp8() const { return IsFp8Storage(weight); }

torch::ScalarType QuantLinearImpl::compute_dtype() const {
  return is_fp8() ? fp8_compute_dtype_ : weight.scalar_type();
}

absl::Status QuantLinearImpl::SetFp8Weight(Fp8Weight w, torch::ScalarType compute_dtype) {
  if (!IsFp8Storage(w.storage) || w.storage.sizes() != weight.sizes()) {
    return absl::InvalidArgumentError(absl::StrCat("weight: expected fp8 storage of shape [", options_.out_features,
                                                   ", ", options_.in_features, "]"));
  }
  torch::NoGradGuard no_grad;
  weight.set_data(w.storage);
  scale_ = w.scale;
  fp8_compute_dtype_ = compute_dtype;
  return absl::OkStatus();
}

torch::Tensor QuantLinearImpl::WeightAs(torch::ScalarType dtype) const {
  if (!is_fp8()) return weight.to(dtype);
  return DecodeE4M3Tensor(weight, scale_, dtype);
}

torch::Tensor QuantLinearImpl::UpCastWeight(torch::ScalarType dtype) const {
  if (!weight.device().is_cpu()) return DecodeE4M3Tensor(weight, scale_, dtype);
  // One buffer per thread and dtype, grown to the largest weight this thread
  // has up-cast and reused by every later call: the values are the same as a
  // fresh tensor's, without faulting in the whole weight's pages every call
  // (on this machine ~2 s per 283 MB, against ~20 ms to rewrite warm pages).
  thread_local std::map<torch::ScalarType, torch::Tensor> scratch;
  torch::Tensor& buffer = scratch[dtype];
  if (!buffer.defined() || buffer.numel() < weight.numel()) {
    buffer = torch::Tensor();  // freed before the larger one is allocated
    buffer = torch::empty({weight.numel()}, torch::TensorOptions().dtype(dtype));
  }
  torch::Tensor out = buffer.narrow(0, 0, weight.numel()).view(weight.sizes());
  DecodeE4M3Into(weight, scale_, out);
  return out;
}

torch::Tensor QuantLinearImpl::forward(const torch::Tensor& x) {
  // x: [..., in] -> [..., out]
  const torch::ScalarType dtype = compute_dtype();
  const torch::Tensor b = bias.defined() ? bias.to(dtype) : torch::Tensor();
  const torch::Tensor xc = x.to(dtype);
  torch::Tensor y = is_fp8() ? at::linear(xc, UpCastWeight(dtype), b) : at::linear(xc, weight, b);
  for (const LowRankPath& p : side_paths_) {
    // The side paths stay on the device SetSidePaths found the weight on; a
    // weight staged on another device for this call (block streaming, expert
    // swap) takes a copy of them along for the call (rank-r matrices: ~0.7 MB
    // for a 5120-wide layer at rank 32).
    const bool here = p.down.device() == xc.device();
    const torch::Tensor down = here ? p.down : p.down.to(xc.device());
    const torch::Tensor up = here ? p.up : p.up.to(xc.device());
    y = y + at::linear(at::linear(xc, down), up) * p.scale;
  }
  return y;
}

absl::Status QuantLinearImpl::SetSidePaths(std::vector<LowRankPath> paths) {
  const torch::ScalarType dtype = compute_dtype();
  for (LowRankPath& p : paths) {
    if (!p.down.defined() || !p.up.defined() || p.down.dim() != 2 || p.up.dim() != 2 ||
        p.down.size(1) != options_.in_features || p.up.size(0) != options_.out_features ||
        p.up.size(1) != p.down.size(0)) {
      return absl::InvalidArgumentError(absl::StrCat("side path: expected down [r, ", options_.in_features,
                                                     "] and up [", options_.out_features, ", r]"));
    }
    p.down = p.down.to(weight.device(), dtype);
    p.up = p.up.to(weight.device(), dtype);
  }
  side_paths_ = std::move(paths);
  return absl::OkStatus();
}

}  // namespace videogen::quant
