#include "engine/pipeline/model_overrides.h"

#include <fstream>

#include "absl/strings/str_cat.h"
#include "engine/common/status_macros.h"

namespace videogen::pipeline {
namespace {

using nlohmann::json;

// `section` prefixes the key in errors ("" or "defaults.").
template <typename T>
absl::Status ReadOptional(const json& j, const char* section, const char* key, std::optional<T>* out) {
  if (!j.contains(key)) return absl::OkStatus();
  try {
    *out = j.at(key).get<T>();
  } catch (const json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(section, key, ": ", e.what()));
  }
  return absl::OkStatus();
}

template <typename Config>
absl::Status ReadConfig(const json& j, const char* key, std::optional<Config>* out) {
  if (!j.contains(key)) return absl::OkStatus();
  ASSIGN_OR_RETURN(*out, Config::FromJson(j.at(key)));
  return absl::OkStatus();
}

absl::StatusOr<Sampler> ParseSampler(const std::string& name) {
  if (name == "unipc") return Sampler::kUniPC;
  if (name == "dpmpp") return Sampler::kDpmPP;
  if (name == "euler") return Sampler::kEuler;
  if (name == "step_distill") return Sampler::kStepDistill;
  return absl::InvalidArgumentError(
      absl::StrCat("defaults.sampler: '", name, "' is not one of unipc, dpmpp, euler, step_distill"));
}

absl::StatusOr<ModelOverrides> ParseOverrides(const json& j) {
  if (!j.is_object()) return absl::InvalidArgumentError("must be a JSON object");
  ModelOverrides o;
  RETURN_IF_ERROR(ReadOptional(j, "", "variant", &o.variant));
  RETURN_IF_ERROR(ReadOptional(j, "", "description", &o.description));
  RETURN_IF_ERROR(ReadConfig(j, "dit", &o.dit));
  RETURN_IF_ERROR(ReadConfig(j, "t5", &o.t5));
  RETURN_IF_ERROR(ReadConfig(j, "clip", &o.clip));
  RETURN_IF_ERROR(ReadConfig(j, "vae", &o.vae));
  if (j.contains("defaults")) {
    const json& d = j.at("defaults");
    RETURN_IF_ERROR(ReadOptional(d, "defaults.", "width", &o.width));
    RETURN_IF_ERROR(ReadOptional(d, "defaults.", "height", &o.height));
    RETURN_IF_ERROR(ReadOptional(d, "defaults.", "max_area", &o.max_area));
    RETURN_IF_ERROR(ReadOptional(d, "defaults.", "num_frames", &o.num_frames));
    RETURN_IF_ERROR(ReadOptional(d, "defaults.", "steps", &o.steps));
    RETURN_IF_ERROR(ReadOptional(d, "defaults.", "shift", &o.shift));
    RETURN_IF_ERROR(ReadOptional(d, "defaults.", "guidance_scale", &o.guidance_scale));
    RETURN_IF_ERROR(ReadOptional(d, "defaults.", "fps", &o.fps));
    RETURN_IF_ERROR(ReadOptional(d, "defaults.", "timesteps", &o.timesteps));
    std::optional<std::string> sampler;
    RETURN_IF_ERROR(ReadOptional(d, "defaults.", "sampler", &sampler));
    if (sampler) {
      ASSIGN_OR_RETURN(o.sampler, ParseSampler(*sampler));
    }
  }
  return o;
}

}  // namespace

void ModelOverrides::ApplyTo(GenerationDefaults& d) const {
  if (width) d.width = *width;
  if (height) d.height = *height;
  if (max_area) d.max_area = *max_area;
  if (num_frames) d.num_frames = *num_frames;
  if (steps) d.steps = *steps;
  if (shift) d.shift = *shift;
  if (guidance_scale) d.guidance_scale = *guidance_scale;
  if (fps) d.fps = *fps;
  if (sampler) d.sampler = *sampler;
  if (timesteps) d.timesteps = *timesteps;
}

absl::StatusOr<json> ReadJsonFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  try {
    return json::parse(in);
  } catch (const json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", e.what()));
  }
}

absl::StatusOr<ModelOverrides> ReadModelOverrides(const std::string& path) {
  if (path.empty()) return ModelOverrides{};
  ASSIGN_OR_RETURN(const json j, ReadJsonFile(path));
  auto overrides = ParseOverrides(j);
  if (!overrides.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", overrides.status().message()));
  }
  return overrides;
}

}  // namespace videogen::pipeline
