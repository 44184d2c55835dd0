// Structured one-line logs (logfmt on stderr): `ts=... event=... key=value ...`.
// Thread-safe: each line is passed to a single write() (continued only after a
// partial write); nothing is buffered.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace videogen::logging {

using LogFields = std::vector<std::pair<absl::string_view, std::string>>;

// Writes `ts=<UTC, ms> event=<event>` and then ` key=value` per field, in order.
// Values that are empty or contain spaces, tabs, newlines, quotes or '=' are
// quoted (with \\, \" and \n escaped).
void LogEvent(absl::string_view event, const LogFields& fields = {});

}  // namespace videogen::logging
