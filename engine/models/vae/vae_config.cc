#include "engine/models/vae/vae_config.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "engine/common/status_macros.h"

namespace videogen::models::vae {
namespace {

absl::Status Invalid(const std::string& field, const std::string& why) {
  return absl::InvalidArgumentError(absl::StrCat("vae config: field '", field, "' ", why));
}

absl::StatusOr<const nlohmann::json*> Field(const nlohmann::json& json, const std::string& name) {
  auto it = json.find(name);
  if (it == json.end()) return Invalid(name, "is missing");
  return &*it;
}

absl::StatusOr<int64_t> IntField(const nlohmann::json& json, const std::string& name) {
  ASSIGN_OR_RETURN(const nlohmann::json* value, Field(json, name));
  if (!value->is_number_integer()) return Invalid(name, "must be an integer");
  return value->get<int64_t>();
}

absl::StatusOr<double> NumberField(const nlohmann::json& json, const std::string& name) {
  ASSIGN_OR_RETURN(const nlohmann::json* value, Field(json, name));
  if (!value->is_number()) return Invalid(name, "must be a number");
  return value->get<double>();
}

absl::StatusOr<const nlohmann::json*> ArrayField(const nlohmann::json& json,
                                                 const std::string& name) {
  ASSIGN_OR_RETURN(const nlohmann::json* value, Field(json, name));
  if (!value->is_array()) return Invalid(name, "must be a list");
  return value;
}

}  // namespace

VaeConfig VaeConfig::Wan21() { return VaeConfig{}; }

absl::StatusOr<VaeConfig> VaeConfig::FromJson(const nlohmann::json& json) {
  if (!json.is_object()) return absl::InvalidArgumentError("vae config: expected a JSON object");
  VaeConfig config;
  ASSIGN_OR_RETURN(config.dim, IntField(json, "dim"));
  ASSIGN_OR_RETURN(config.z_dim, IntField(json, "z_dim"));
  ASSIGN_OR_RETURN(config.num_res_blocks, IntField(json, "num_res_blocks"));
  ASSIGN_OR_RETURN(config.dropout, NumberField(json, "dropout"));

  ASSIGN_OR_RETURN(const nlohmann::json* dim_mult, ArrayField(json, "dim_mult"));
  config.dim_mult.clear();
  for (const nlohmann::json& v : *dim_mult) {
    if (!v.is_number_integer()) return Invalid("dim_mult", "must hold integers");
    config.dim_mult.push_back(v.get<int64_t>());
  }
  ASSIGN_OR_RETURN(const nlohmann::json* attn_scales, ArrayField(json, "attn_scales"));
  config.attn_scales.clear();
  for (const nlohmann::json& v : *attn_scales) {
    if (!v.is_number()) return Invalid("attn_scales", "must hold numbers");
    config.attn_scales.push_back(v.get<double>());
  }
  ASSIGN_OR_RETURN(const nlohmann::json* temporal, ArrayField(json, "temperal_downsample"));
  config.temperal_downsample.clear();
  for (const nlohmann::json& v : *temporal) {
    if (!v.is_boolean()) return Invalid("temperal_downsample", "must hold booleans");
    config.temperal_downsample.push_back(v.get<bool>());
  }
  RETURN_IF_ERROR(config.Validate());
  return config;
}

absl::Status VaeConfig::Validate() const {
  if (dim <= 0) return Invalid("dim", absl::StrCat("must be positive, got ", dim));
  if (z_dim <= 0) return Invalid("z_dim", absl::StrCat("must be positive, got ", z_dim));
  if (num_res_blocks < 0) {
    return Invalid("num_res_blocks", absl::StrCat("must be >= 0, got ", num_res_blocks));
  }
  if (dim_mult.empty()) return Invalid("dim_mult", "must not be empty");
  for (int64_t m : dim_mult) {
    if (m <= 0) return Invalid("dim_mult", absl::StrCat("entries must be positive, got ", m));
  }
  // The reference decoder halves the input channels of levels 1..3 only (after
  // each upsample), so deeper configs cannot be built there either.
  if (dim_mult.size() > 4) {
    return Invalid("dim_mult", absl::StrCat("supports at most 4 levels, got ", dim_mult.size()));
  }
  if (temperal_downsample.size() + 1 != dim_mult.size()) {
    return Invalid("temperal_downsample",
                   absl::StrCat("needs ", dim_mult.size() - 1, " entries (one per downsampling level), got ",
                                temperal_downsample.size()));
  }
  if (!(dropout >= 0.0 && dropout < 1.0)) {
    return Invalid("dropout", absl::StrCat("must be in [0, 1), got ", dropout));
  }
  return absl::OkStatus();
}

int64_t VaeConfig::spatial_stride() const {
  return int64_t{1} << (dim_mult.size() - 1);
}

int64_t VaeConfig::temporal_stride() const {
  int64_t stride = 1;
  for (size_t i = 0; i + 1 < dim_mult.size(); ++i) {
    if (temperal_downsample[i]) stride *= 2;
  }
  return stride;
}

}  // namespace videogen::models::vae
