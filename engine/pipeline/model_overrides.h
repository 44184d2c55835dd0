// videogen.json: optional, beside config.json (or the ComfyUI files), for
// models whose encoders are not the official sizes, such as the embedded tiny
// model. Read once into typed fields:
//   {"variant": "tiny", "description": "...",
//    "t5": {T5Encoder kwargs}, "clip": {XLMRobertaCLIP kwargs}, "vae": {WanVAE_ kwargs},
//    "dit": {WanModel kwargs: used only without config.json (ComfyUI files),
//            where the DiT config is otherwise inferred from the tensor shapes},
//    "defaults": {"width": .., "height": .., "max_area": .., "num_frames": ..,
//                 "steps": .., "shift": .., "guidance_scale": .., "fps": ..,
//                 "sampler": "unipc|dpmpp|euler|step_distill", "timesteps": [1000, 750, 500, 250]}}
// (a step-distilled model: "sampler": "step_distill", "timesteps": [...], "guidance_scale": 1)
// Absent keys take the official presets (umT5-XXL, ViT-H/14, Wan2.1 VAE) and
// the descriptor's defaults (model_family.h).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/models/clip/clip_config.h"
#include "engine/models/dit/config.h"
#include "engine/models/t5/t5_config.h"
#include "engine/models/vae/vae_config.h"
#include "engine/pipeline/api/generator.h"

namespace videogen::pipeline {

struct ModelOverrides {
  std::optional<std::string> variant;
  std::optional<std::string> description;
  std::optional<models::WanConfig> dit;
  std::optional<models::T5Config> t5;
  std::optional<models::ClipVisionConfig> clip;
  std::optional<models::vae::VaeConfig> vae;
  // The keys of "defaults" that are present.
  std::optional<int> width, height, num_frames, steps;
  std::optional<int64_t> max_area;
  std::optional<double> shift, guidance_scale, fps;
  std::optional<Sampler> sampler;             // "unipc", "dpmpp", "euler", "step_distill"
  std::optional<std::vector<int>> timesteps;  // step-distilled models, e.g. [1000, 750, 500, 250]

  // Sets the present default keys on `defaults`.
  void ApplyTo(GenerationDefaults& defaults) const;
};

// Reads `path`; "" gives no overrides. NotFound when it cannot be opened;
// InvalidArgument naming the file and the key for bad JSON or values.
absl::StatusOr<ModelOverrides> ReadModelOverrides(const std::string& path);

// Reads a JSON file (config.json, videogen.json). NotFound / InvalidArgument naming `path`.
absl::StatusOr<nlohmann::json> ReadJsonFile(const std::string& path);

}  // namespace videogen::pipeline
