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

namespace videogen::metrics {

// Thread-safe; owns the exposer's threads (stopped in the destructor).
class MetricsExposer {
 public:
  // `address` is HOST:PORT (port 0 picks a free one). `before_scrape` (may be
  // empty) runs on the exposer's thread before each collection.
  // Errors: Unavailable when the address cannot be bound.
  static absl::StatusOr<std::unique_ptr<MetricsExposer>> Create(const std::string& address,
                                                                std::shared_ptr<prometheus::Registry> registry,
                                                                std::function<void()> before_scrape);
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
