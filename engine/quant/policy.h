// Which weights are held in fp8, as one documented policy per model family
// (not checks scattered through the models), and the tensor names that
// pre-quantized checkpoints put next to a layer's `weight`.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/quant/fp8_tensor.h"

namespace videogen::quant {

// Scale of the layer's fp8 weight (value = decode(weight) * scale): ComfyUI
// "fp8_scaled" files use `<layer>.scale_weight`, newer files `<layer>.weight_scale`.
inline constexpr std::string_view kWeightScaleNames[] = {"scale_weight", "weight_scale"};
// Activation scales for fp8 matrix products; read by nobody here (allowed in files).
inline constexpr std::string_view kInputScaleNames[] = {"scale_input", "input_scale"};
// Marker tensor of ComfyUI "fp8_scaled" files.
inline constexpr std::string_view kScaledFp8Marker = "scaled_fp8";

struct Fp8Policy {
  // A linear layer whose dotted module path contains one of these components
  // (e.g. "head" matches "head.head") keeps its weight in high precision.
  std::vector<std::string> keep_high_precision;

  // True when the weight of the linear layer at `module_path` ("blocks.3.ffn.0")
  // is stored in fp8. Biases, norms and every non-linear parameter are never
  // quantized (they are not QuantLinear weights).
  bool QuantizesLayer(std::string_view module_path) const;

  // The same decision from a checkpoint header: `name` ends in ".weight", the
  // tensor is 2-D, and QuantizesLayer(its module path). Exact for models whose
  // 2-D weights all belong to QuantLinear layers (the Wan DiT).
  bool QuantizesTensor(std::string_view name, const std::vector<int64_t>& shape) const;

  // Wan2.1 DiT: the attention (q, k, v, o, k_img, v_img) and FFN (ffn.0, ffn.2)
  // weights of every block are fp8; patch_embedding, text_embedding,
  // time_embedding, time_projection, head and img_emb stay high precision, as
  // do all norms, biases and modulation tensors (what works for Wan in
  // DiffSynth / ComfyUI fp8 files: the embeddings and head are small and
  // sensitive, the blocks hold > 97 % of the weights).
  static Fp8Policy WanDit();
};

// How a model is brought to fp8 on load.
struct Fp8Options {
  Fp8Policy policy = Fp8Policy::WanDit();
  // For weights stored in high precision; pre-quantized fp8 tensors keep
  // their own codes and scale.
  Fp8Scaling scaling = Fp8Scaling::kPerTensor;
};

}  // namespace videogen::quant
