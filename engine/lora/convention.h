// LoRA file conventions and their key-mapping tables. One table per
// convention maps a key of a LoRA file to the official WanModel module it
// changes and the part it carries; the base modules never learn about file
// conventions (diffusers loaders/lora_conversion_utils.py does the same in
// the other direction).
//
//   comfyui   (ComfyUI, lightx2v, "original Wan"): diffusion_model.<module>.
//             {lora_down.weight|lora_up.weight|lora_A.weight|lora_B.weight|alpha|diff|diff_b}
//   kohya     (kohya, musubi-tuner): lora_unet_<module with '.' -> '_'>.
//             {lora_down.weight|lora_up.weight|alpha|diff|diff_b}; the underscores are resolved
//             against the model's module names
//   diffusers (diffusers, PEFT): transformer.<diffusers module>.{lora_A.weight|lora_B.weight|lora_B.bias};
//             blocks.N.attn1.{to_q,to_k,to_v,to_out.0} = blocks.N.self_attn.{q,k,v,o},
//             blocks.N.attn2.{to_q,to_k,to_v,to_out.0} = blocks.N.cross_attn.{q,k,v,o},
//             blocks.N.attn2.{add_k_proj,add_v_proj} = blocks.N.cross_attn.{k_img,v_img},
//             blocks.N.ffn.net.0.proj = blocks.N.ffn.0, blocks.N.ffn.net.2 = blocks.N.ffn.2,
//             blocks.N.norm2 = blocks.N.norm3, plus the embedders and proj_out (see convention.cc)
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/io/tensor_source.h"

namespace videogen::lora {

enum class LoraConvention { kComfyUI, kKohya, kDiffusers };
const char* LoraConventionName(LoraConvention convention);  // "comfyui", "kohya", "diffusers"
std::optional<LoraConvention> ParseLoraConvention(absl::string_view name);

// The convention of a file from its keys' prefixes. InvalidArgument naming
// the file and a key when the keys have no known prefix or mix conventions.
absl::StatusOr<LoraConvention> DetectLoraConvention(const io::TensorSource& file);

// What one key carries for its module.
enum class LoraPart {
  kDown,      // [r, in]  (lora_down / lora_A)
  kUp,        // [out, r] (lora_up / lora_B)
  kAlpha,     // 0-d; scale = alpha / r
  kDiff,      // full delta of <module>.weight
  kDiffBias,  // delta of <module>.bias (diff_b, diffusers lora_B.bias)
};

struct LoraKey {
  std::string module;  // official module path, e.g. "blocks.0.self_attn.q"
  LoraPart part = LoraPart::kDown;
};

// Maps keys of one convention onto a model's official module paths.
// Thread safety: immutable after construction.
class LoraKeyMap {
 public:
  // `modules`: the official paths of the model's modules that own
  // parameters (parameter names without their last component).
  LoraKeyMap(LoraConvention convention, std::set<std::string> modules);

  // InvalidArgument naming `key` when it has no meaning in this convention or
  // names a module the model does not have.
  absl::StatusOr<LoraKey> Map(absl::string_view key) const;

 private:
  // The official path of a diffusers module path (without "transformer."), or nullopt.
  std::optional<std::string> FromDiffusers(absl::string_view module) const;

  // Constant after construction.
  const LoraConvention convention_;
  const std::set<std::string> modules_;
  std::map<std::string, std::string> kohya_names_;  // underscored -> dotted
};

}  // namespace videogen::lora
