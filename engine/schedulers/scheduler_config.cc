#include "engine/schedulers/scheduler_config.h"

#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/common/status_macros.h"

namespace videogen::schedulers {
namespace {

// The value of `key` under "constructor" or at the top level; nullptr when absent or null.
const nlohmann::json* Find(const nlohmann::json& config, const std::string& key) {
  if (config.contains("constructor") && config["constructor"].is_object()) {
    const nlohmann::json& c = config["constructor"];
    if (c.contains(key) && !c[key].is_null()) return &c[key];
  }
  if (config.contains(key) && !config[key].is_null()) return &config[key];
  return nullptr;
}

absl::Status BadType(const std::string& key, const char* want) {
  return absl::InvalidArgumentError(absl::StrCat("scheduler config: ", key, " must be ", want));
}

absl::Status ReadInt(const nlohmann::json& config, const std::string& key, bool required, int* out) {
  const nlohmann::json* v = Find(config, key);
  if (v == nullptr) {
    return required ? absl::InvalidArgumentError(absl::StrCat("scheduler config: missing ", key))
                    : absl::OkStatus();
  }
  if (v->is_number_integer()) {
    const int64_t i = v->get<int64_t>();
    if (i < -(int64_t{1} << 31) || i >= (int64_t{1} << 31)) return BadType(key, "a 32-bit integer");
    *out = static_cast<int>(i);
    return absl::OkStatus();
  }
  if (v->is_number_float()) {
    const double d = v->get<double>();
    if (std::floor(d) == d && std::fabs(d) < 2147483648.0) {
      *out = static_cast<int>(d);
      return absl::OkStatus();
    }
  }
  return BadType(key, "an integer");
}

absl::Status ReadDouble(const nlohmann::json& config, const std::string& key, bool required, double* out) {
  const nlohmann::json* v = Find(config, key);
  if (v == nullptr) {
    return required ? absl::InvalidArgumentError(absl::StrCat("scheduler config: missing ", key))
                    : absl::OkStatus();
  }
  if (!v->is_number()) return BadType(key, "a number");
  *out = v->get<double>();
  return absl::OkStatus();
}

absl::Status ReadBool(const nlohmann::json& config, const std::string& key, bool* out) {
  const nlohmann::json* v = Find(config, key);
  if (v == nullptr) return absl::OkStatus();
  if (!v->is_boolean()) return BadType(key, "a boolean");
  *out = v->get<bool>();
  return absl::OkStatus();
}

// A string setting that must be one of `accepted` when present.
absl::Status CheckString(const nlohmann::json& config, const std::string& key,
                         const std::vector<std::string>& accepted) {
  const nlohmann::json* v = Find(config, key);
  if (v == nullptr) return absl::OkStatus();
  if (!v->is_string()) return BadType(key, "a string");
  const std::string s = v->get<std::string>();
  for (const std::string& a : accepted) {
    if (s == a) return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat("scheduler config: ", key, " '", s,
                                                 "' is not supported (supported: ", absl::StrJoin(accepted, ", "),
                                                 ")"));
}

// A boolean setting that must have the value `supported` when present.
absl::Status CheckBool(const nlohmann::json& config, const std::string& key, bool supported) {
  bool value = supported;
  RETURN_IF_ERROR(ReadBool(config, key, &value));
  if (value != supported) {
    return absl::InvalidArgumentError(
        absl::StrCat("scheduler config: ", key, "=", value ? "true" : "false", " is not supported"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<SchedulerConfig> SchedulerConfig::FromJson(SamplerKind kind, const nlohmann::json& config) {
  if (!config.is_object()) return absl::InvalidArgumentError("scheduler config: config must be an object");
  SchedulerConfig c;
  c.kind = kind;
  SchedulerOptions& o = c.options;
  RETURN_IF_ERROR(ReadInt(config, "sampling_steps", /*required=*/true, &c.sampling_steps));
  // "shift" at the top level is the sampling shift; the constructor's is separate.
  if (!config.contains("shift") || !config["shift"].is_number()) {
    return absl::InvalidArgumentError("scheduler config: missing or non-numeric shift");
  }
  c.shift = config["shift"].get<double>();
  RETURN_IF_ERROR(ReadInt(config, "num_train_timesteps", false, &o.num_train_timesteps));

  if (kind == SamplerKind::kEuler) {
    RETURN_IF_ERROR(CheckString(config, "template", {"Wan"}));
    RETURN_IF_ERROR(ReadDouble(config, "denoising_strength", false, &o.denoising_strength));
  } else {
    if (config.contains("constructor") && config["constructor"].is_object() &&
        config["constructor"].contains("shift")) {
      if (!config["constructor"]["shift"].is_number()) return BadType("constructor.shift", "a number");
      o.shift = config["constructor"]["shift"].get<double>();
    }
    RETURN_IF_ERROR(CheckBool(config, "use_dynamic_shifting", false));
    RETURN_IF_ERROR(CheckBool(config, "thresholding", false));
    RETURN_IF_ERROR(CheckString(config, "prediction_type", {"flow_prediction"}));
    RETURN_IF_ERROR(CheckString(config, "final_sigmas_type", {"zero"}));
    RETURN_IF_ERROR(ReadInt(config, "solver_order", false, &o.solver_order));
    RETURN_IF_ERROR(ReadBool(config, "lower_order_final", &o.lower_order_final));
    if (kind == SamplerKind::kUniPC) {
      // The reference maps midpoint/heun/logrho to bh2.
      RETURN_IF_ERROR(CheckString(config, "solver_type", {"bh2", "midpoint", "heun", "logrho"}));
      RETURN_IF_ERROR(CheckBool(config, "predict_x0", true));
      const nlohmann::json* dc = Find(config, "disable_corrector");
      if (dc != nullptr && !(dc->is_array() && dc->empty())) {
        return absl::InvalidArgumentError("scheduler config: a non-empty disable_corrector is not supported");
      }
    } else {
      // The reference maps deis to dpmsolver++ and logrho/bh1/bh2 to midpoint.
      RETURN_IF_ERROR(CheckString(config, "algorithm_type", {"dpmsolver++", "deis"}));
      RETURN_IF_ERROR(CheckString(config, "solver_type", {"midpoint", "logrho", "bh1", "bh2"}));
    }
  }
  if (c.sampling_steps < 1) {
    return absl::InvalidArgumentError(absl::StrCat("scheduler config: sampling_steps must be >= 1, got ",
                                                   c.sampling_steps));
  }
  if (!(std::isfinite(c.shift) && c.shift > 0)) {
    return absl::InvalidArgumentError(absl::StrCat("scheduler config: shift must be positive, got ", c.shift));
  }
  return c;
}

}  // namespace videogen::schedulers
