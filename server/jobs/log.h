// Structured one-line logs (logfmt on stderr): `ts=... event=... key=value ...`.
// Thread-safe: each line is written with a single write().
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace videogen::jobs {

using LogFields = std::vector<std::pair<absl::string_view, std::string>>;

// Values containing spaces, quotes or '=' are quoted.
void LogEvent(absl::string_view event, const LogFields& fields = {});

}  // namespace videogen::jobs
