// Serves a registry on its own HTTP address (/metrics), refreshing the
// sampled figures (device memory) right before each scrape.
#pragma once

#include <prometheus/collectable.h>
#include <prometheus/exposer.h>
#include <prometheus/registry.h>

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace videogen::metrics {

// The HTTP server's (civetweb's) limits: a client that sends its request
// slowly, or not at all, holds one thread for at most `request_timeout`;
// scrapes are answered while fewer than `threads` such clients are connected.
struct MetricsExposerOptions {
  int threads = 8;
  absl::Duration request_timeout = absl::Seconds(5);  // to receive a request, and to send the answer
};

// Thread-safe; owns the exposer's threads (stopped in the destructor).
class MetricsExposer {
 public:
  // `address` is HOST:PORT (port 0 picks a free one). `before_scrape` (may be
  // empty) runs on the exposer's thread before each collection.
  // Errors: Unavailable when the address cannot be bound; InvalidArgument
  // for fewer than 1 thread or a timeout under 1 ms.
  static absl::StatusOr<std::unique_ptr<MetricsExposer>> Create(const std::string& address,
                                                                std::shared_ptr<prometheus::Registry> registry,
                                                                std::function<void()> before_scrape,
                                                                const MetricsExposerOptions& options = {});
  ~MetricsExposer();
  int port() const { return port_; }

 private:
  class Refreshing;
  MetricsExposer() = default;

  std::shared_ptr<Refreshing> collectable_;
  std::unique_ptr<prometheus::Exposer> exposer_;
  int port_ = 0;
};

}  // namespace videogen::metrics
