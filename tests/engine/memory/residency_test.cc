#include "engine/memory/residency.h"

#include <gtest/gtest.h>

namespace videogen::memory {
namespace {

constexpr ResidentKey kDitGpu{Component::kDit, Device{DeviceKind::kCuda, 0}, Precision::kFp8};
constexpr ResidentKey kDitHost{Component::kDit, Device{DeviceKind::kCpu, 0}, Precision::kFp8};
constexpr ResidentKey kT5Host{Component::kT5, Device{DeviceKind::kCpu, 0}, Precision::kBf16};

TEST(Residency, AccountsBytesAndPeaksPerEntryAndDevice) {
  Residency r;
  r.Add(kDitHost, 100);
  r.Add(kT5Host, 40);  // host: 140
  r.Remove(kT5Host, 40);
  r.Add(kT5Host, 30);  // host: 130
  EXPECT_EQ(r.DeviceBytes(Device::Cpu()), 130u);
  EXPECT_EQ(r.DevicePeakBytes(Device::Cpu()), 140u);
  r.Move(kDitHost, kDitGpu, 100);  // the DiT moves to the GPU
  EXPECT_EQ(r.DeviceBytes(Device::Cpu()), 30u);
  EXPECT_EQ(r.DeviceBytes(Device::Cuda(0)), 100u);
  EXPECT_EQ(r.DevicePeakBytes(Device::Cuda(0)), 100u);
  EXPECT_EQ(r.DevicePeakBytes(Device::Cpu()), 140u);
  for (const ResidentEntry& e : r.Entries()) {
    if (e.key.component == Component::kT5) {
      EXPECT_EQ(e.bytes, 30u);
      EXPECT_EQ(e.peak_bytes, 40u);
    }
    if (e.key.component == Component::kDit && !e.key.device.is_cuda()) {
      EXPECT_EQ(e.bytes, 0u);  // kept at 0 once moved away
      EXPECT_EQ(e.peak_bytes, 100u);
    }
  }
  EXPECT_EQ(r.Entries().size(), 3u);
  EXPECT_EQ(r.mismatched_releases(), 0u);
}

TEST(Residency, ReleasingMoreThanRecordedIsClampedAndCounted) {
  Residency r;
  r.Add(kT5Host, 10);
  r.Remove(kT5Host, 25);
  EXPECT_EQ(r.DeviceBytes(Device::Cpu()), 0u);
  EXPECT_EQ(r.mismatched_releases(), 1u);
}

}  // namespace
}  // namespace videogen::memory
