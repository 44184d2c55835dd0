#include "engine/models/common/config_json.h"

#include "absl/strings/str_cat.h"

namespace videogen::models {

using json = nlohmann::json;

absl::Status ReadPositiveInt(const json& j, const char* key, int64_t* out) {
  if (!j.contains(key)) return absl::OkStatus();
  if (!j[key].is_number_integer() || j[key].get<int64_t>() <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("config.", key, ": must be a positive integer"));
  }
  *out = j[key].get<int64_t>();
  return absl::OkStatus();
}

absl::Status ReadPositiveNumber(const json& j, const char* key, double* out) {
  if (!j.contains(key)) return absl::OkStatus();
  if (!j[key].is_number() || j[key].get<double>() <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("config.", key, ": must be a positive number"));
  }
  *out = j[key].get<double>();
  return absl::OkStatus();
}

absl::Status ReadBool(const json& j, const char* key, bool* out) {
  if (!j.contains(key)) return absl::OkStatus();
  if (!j[key].is_boolean()) return absl::InvalidArgumentError(absl::StrCat("config.", key, ": must be a boolean"));
  *out = j[key].get<bool>();
  return absl::OkStatus();
}

}  // namespace videogen::models
