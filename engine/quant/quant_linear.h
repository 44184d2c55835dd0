// A linear layer whose weight may be held in fp8 (e4m3fn): y = x W^T + b with
// W up-cast just in time, per call, to the compute dtype (on the CPU into a
// buffer each calling thread keeps for its life, as large as the largest
// weight it has up-cast). Parameters are
// registered as `weight` [out, in] and `bias` [out], the names of
// torch.nn.Linear, so checkpoints map 1:1; a model adopts fp8 by using
// QuantLinear where it used torch::nn::Linear, and the loader
// (models::LoadStateDict with LoadOptions::fp8) decides per layer from the
// quant::Fp8Policy.
#pragma once

#include <vector>

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include "engine/quant/fp8_tensor.h"

namespace videogen::quant {

enum class ParamInit {
  kRandom,         // as torch.nn.Linear (kaiming-uniform weight, uniform bias)
  kUninitialized,  // allocated, never written: for layers loaded right away
                   // (untouched pages cost no RSS until the loader replaces them)
};

struct QuantLinearOptions {
  int64_t in_features = 0;
  int64_t out_features = 0;
  bool bias = true;
  ParamInit init = ParamInit::kRandom;
};

// A low-rank side path beside the frozen (possibly fp8) weight, as PEFT's
// LoraLayer: forward adds (x down^T) up^T * scale. down [r, in], up [out, r].
struct LowRankPath {
  torch::Tensor down;
  torch::Tensor up;
  double scale = 1.0;
};

// Not thread-safe to modify; forward() may run concurrently once loaded.
// Do not call Module::to(dtype) on a model holding fp8 layers: it would
// convert the codes as numbers. Load with the wanted dtype instead.
class QuantLinearImpl : public torch::nn::Module {
 public:
  explicit QuantLinearImpl(const QuantLinearOptions& options);
  QuantLinearImpl(int64_t in_features, int64_t out_features, ParamInit init = ParamInit::kRandom)
      : QuantLinearImpl(QuantLinearOptions{in_features, out_features, true, init}) {}

  // x: [..., in] (any float dtype; cast to compute_dtype()) -> [..., out],
  // plus the side paths (in the compute dtype).
  torch::Tensor forward(const torch::Tensor& x);

  // Replaces the side paths (empty: none); their tensors are converted to the
  // compute dtype and the weight's device. InvalidArgument on a shape
  // mismatch. Not thread-safe: call between forwards (per request).
  absl::Status SetSidePaths(std::vector<LowRankPath> paths);
  size_t num_side_paths() const { return side_paths_.size(); }

  // Takes over `weight` (shape [out, in]) as the resident fp8 weight; later
  // calls compute in `compute_dtype`. InvalidArgument on a shape mismatch.
  absl::Status SetFp8Weight(Fp8Weight weight, torch::ScalarType compute_dtype);

  bool is_fp8() const;
  float weight_scale() const { return scale_; }
  // The dtype activations are cast to: the weight's own for high-precision
  // weights, the one given to SetFp8Weight for fp8 weights.
  torch::ScalarType compute_dtype() const;
  // The weight's value in `dtype` (a fresh up-cast for fp8 weights).
  torch::Tensor WeightAs(torch::ScalarType dtype) const;

  torch::Tensor weight;
  torch::Tensor bias;  // undefined when options.bias is false

 private:
  // The fp8 weight up-cast to `dtype` for one forward. On the CPU it is a
  // view of this thread's reusable buffer, valid until the thread's next
  // up-cast (so it must not escape forward()); elsewhere a fresh tensor.
  torch::Tensor UpCastWeight(torch::ScalarType dtype) const;

  QuantLinearOptions options_;
  float scale_ = 1.0f;
  torch::ScalarType fp8_compute_dtype_ = torch::kFloat32;
  std::vector<LowRankPath> side_paths_;
};
TORCH_MODULE(QuantLinear);

}  // namespace videogen::quant
