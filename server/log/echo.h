// Client-supplied values (model ids, job ids, client_request_id, names) as
// they may appear in status messages and log lines: bounded, so that a huge
// value can neither overflow gRPC's metadata limit nor flood the log.
#pragma once

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"

namespace videogen::logging {

// Longest prefix of a client value that Echo() keeps, in bytes.
inline constexpr size_t kMaxEchoedBytes = 64;

// `value` when at most kMaxEchoedBytes long; otherwise its first
// kMaxEchoedBytes bytes (never ending inside a UTF-8 sequence) + "...".
std::string Echo(absl::string_view value);

}  // namespace videogen::logging
