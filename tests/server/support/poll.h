// Test support: polling for a condition another process or thread makes true
// when it offers nothing to wait on (a log line, a database row).
#pragma once

#include <functional>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace videogen::testing {

// Polls `done` every 10 ms until it holds or `timeout` passed; returns
// whether it held.
inline bool PollUntil(const std::function<bool()>& done, absl::Duration timeout = absl::Seconds(60)) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!done()) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return true;
}

}  // namespace videogen::testing
