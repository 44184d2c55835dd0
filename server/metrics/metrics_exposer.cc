#include "server/metrics/metrics_exposer.h"

#include <exception>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

namespace videogen::metrics {

class MetricsExposer::Refreshing final : public prometheus::Collectable {
 public:
  Refreshing(std::shared_ptr<prometheus::Registry> registry, std::function<void()> before)
      : registry_(std::move(registry)), before_(std::move(before)) {}
  std::vector<prometheus::MetricFamily> Collect() const override {
    if (before_) before_();
    return registry_->Collect();
  }

 private:
  const std::shared_ptr<prometheus::Registry> registry_;
  const std::function<void()> before_;
};

absl::StatusOr<std::unique_ptr<MetricsExposer>> MetricsExposer::Create(const std::string& address,
                                                                       std::shared_ptr<prometheus::Registry> registry,
                                                                       std::function<void()> before_scrape,
                                                                       const MetricsExposerOptions& options) {
  if (options.threads < 1) return absl::InvalidArgumentError("metrics threads: must be at least 1");
  const int64_t timeout_ms = absl::ToInt64Milliseconds(options.request_timeout);
  if (timeout_ms < 1) return absl::InvalidArgumentError("metrics request_timeout: must be at least 1 ms");
  std::unique_ptr<MetricsExposer> out(new MetricsExposer());
  out->collectable_ = std::make_shared<Refreshing>(std::move(registry), std::move(before_scrape));
  // civetweb's options (prometheus-cpp passes them through).
  std::vector<std::string> civetweb = {"listening_ports",    address,
                                       "num_threads",        absl::StrCat(options.threads),
                                       "request_timeout_ms", absl::StrCat(timeout_ms)};
  try {
    out->exposer_ = std::make_unique<prometheus::Exposer>(std::move(civetweb));
  } catch (const std::exception& e) {
    return absl::UnavailableError(absl::StrCat("metrics_listen: cannot listen on ", address, ": ", e.what()));
  }
  out->exposer_->RegisterCollectable(out->collectable_);
  const std::vector<int> ports = out->exposer_->GetListeningPorts();
  if (ports.empty()) return absl::UnavailableError(absl::StrCat("metrics_listen: no port bound for ", address));
  out->port_ = ports.front();
  return out;
}

MetricsExposer::~MetricsExposer() {
  if (exposer_) exposer_->RemoveCollectable(collectable_);
  exposer_.reset();
}

}  // namespace videogen::metrics
