// Reading constructor kwargs (fixture.json `config`, config.json, videogen.json)
// into config structs: an absent key leaves the field as it is; a present key
// of the wrong kind is InvalidArgument("config.<key>: must be ...").
#pragma once

#include <cstdint>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"

namespace videogen::models {

absl::Status ReadPositiveInt(const nlohmann::json& j, const char* key, int64_t* out);
absl::Status ReadPositiveNumber(const nlohmann::json& j, const char* key, double* out);
absl::Status ReadBool(const nlohmann::json& j, const char* key, bool* out);

}  // namespace videogen::models
