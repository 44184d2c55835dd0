// Waiting for the real server to serve: the grpc.health.v1 Watch stream until
// SERVING (every worker warmed up and idle), pushed by the server, no polling.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace videogen::testing {

// OK once the server at `address` reports SERVING; DeadlineExceeded after
// `timeout`; Unavailable when the stream ends first.
absl::Status WaitUntilServing(const std::string& address, absl::Duration timeout = absl::Seconds(60));

}  // namespace videogen::testing
