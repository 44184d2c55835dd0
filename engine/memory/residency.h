// The one account of where model weights are: every load, release or move of
// a component's weights between devices is recorded here (the loader at load,
// a streamed T5 per block, offload executors per move), as bytes per
// component, device and precision, with the peaks -- per entry and per
// device, all components together. Tests assert the accounted peaks against
// the memory plan; the server exports the current figures as metrics.
#pragma once

#include <cstdint>
#include <map>
#include <tuple>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "engine/common/model_types.h"

namespace videogen::memory {

struct ResidentKey {
  Component component = Component::kDit;
  Device device;
  Precision precision = Precision::kFp32;
  bool operator<(const ResidentKey& o) const {
    return std::tie(component, device, precision) < std::tie(o.component, o.device, o.precision);
  }
};

struct ResidentEntry {
  ResidentKey key;
  uint64_t bytes = 0;       // now
  uint64_t peak_bytes = 0;  // the most at once since construction
};

// Thread-safe.
class Residency {
 public:
  // `bytes` more of `key` became resident (loaded, or moved in).
  void Add(const ResidentKey& key, uint64_t bytes);
  // `bytes` of `key` were freed (released, or moved out). More than is
  // recorded is clamped to zero (and counted in mismatched_releases()).
  void Remove(const ResidentKey& key, uint64_t bytes);
  // A move: Remove from `from`, Add to `to` (same component and precision
  // unless given otherwise), as one step.
  void Move(const ResidentKey& from, const ResidentKey& to, uint64_t bytes);

  // Every key ever recorded (keys at 0 stay: a streamed component between uses).
  std::vector<ResidentEntry> Entries() const;
  // Bytes on `device` now / the most at once (all components together).
  uint64_t DeviceBytes(const Device& device) const;
  uint64_t DevicePeakBytes(const Device& device) const;
  // Removes of more than was recorded (an accounting bug when non-zero).
  uint64_t mismatched_releases() const;

 private:
  mutable absl::Mutex mu_;
  std::map<ResidentKey, ResidentEntry> entries_ ABSL_GUARDED_BY(mu_);
  std::map<Device, uint64_t> device_bytes_ ABSL_GUARDED_BY(mu_);
  std::map<Device, uint64_t> device_peak_ ABSL_GUARDED_BY(mu_);
  uint64_t mismatched_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace videogen::memory
