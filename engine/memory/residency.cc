#include "engine/memory/residency.h"

#include <algorithm>

namespace videogen::memory {

void Residency::Add(const ResidentKey& key, uint64_t bytes) {
  absl::MutexLock lock(&mu_);
  ResidentEntry& e = entries_[key];
  e.key = key;
  e.bytes += bytes;
  e.peak_bytes = std::max(e.peak_bytes, e.bytes);
  uint64_t& device = device_bytes_[key.device];
  device += bytes;
  uint64_t& peak = device_peak_[key.device];
  peak = std::max(peak, device);
}

void Residency::Remove(const ResidentKey& key, uint64_t bytes) {
  absl::MutexLock lock(&mu_);
  ResidentEntry& e = entries_[key];
  e.key = key;
  if (bytes > e.bytes) {
    ++mismatched_;
    bytes = e.bytes;
  }
  e.bytes -= bytes;
  device_bytes_[key.device] -= std::min(bytes, device_bytes_[key.device]);
}

void Residency::Move(const ResidentKey& from, const ResidentKey& to, uint64_t bytes) {
  Remove(from, bytes);
  Add(to, bytes);
}

std::vector<ResidentEntry> Residency::Entries() const {
  absl::MutexLock lock(&mu_);
  std::vector<ResidentEntry> out;
  for (const auto& [key, e] : entries_) out.push_back(e);
  return out;
}

uint64_t Residency::DeviceBytes(const Device& device) const {
  absl::MutexLock lock(&mu_);
  auto it = device_bytes_.find(device);
  return it == device_bytes_.end() ? 0 : it->second;
}

uint64_t Residency::DevicePeakBytes(const Device& device) const {
  absl::MutexLock lock(&mu_);
  auto it = device_peak_.find(device);
  return it == device_peak_.end() ? 0 : it->second;
}

uint64_t Residency::mismatched_releases() const {
  absl::MutexLock lock(&mu_);
  return mismatched_;
}

}  // namespace videogen::memory
