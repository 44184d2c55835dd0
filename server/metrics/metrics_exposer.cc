#include "server/metrics/metrics_exposer.h"

#include <exception>
#include <utility>

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
                                                                       std::function<void()> before_scrape) {
  std::unique_ptr<MetricsExposer> out(new MetricsExposer());
  out->collectable_ = std::make_shared<Refreshing>(std::move(registry), std::move(before_scrape));
  try {
    out->exposer_ = std::make_unique<prometheus::Exposer>(address, 2);
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
