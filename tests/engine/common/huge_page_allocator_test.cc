// The huge page allocator behind LibTorch's CPU allocator: large tensors are
// mapped 2 MiB-aligned, freed ones are reused by the next request of their
// length without ever holding more than the peak of live blocks, small ones
// go to the previous allocator, raw allocations round-trip, and with
// transparent huge pages on a large block faults far less than once per
// 4 KiB page.
#include "engine/common/huge_page_allocator.h"

#include <sys/resource.h>

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <vector>

#include <ATen/ATen.h>
#include <c10/core/CPUAllocator.h>
#include <gtest/gtest.h>

namespace videogen {
namespace {

constexpr size_t kMiB = size_t{1} << 20;

long MinorFaults() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_minflt;
}

at::Tensor MiBTensor(size_t mib) { return at::empty({static_cast<int64_t>(mib * kMiB)}, at::kByte); }

class HugePageAllocatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(InstallHugePageAllocator({.min_bytes = 8 * kMiB, .cache_bytes = 64 * kMiB}).ok());
    ReleaseHugePageCache();
  }
  void TearDown() override { ReleaseHugePageCache(); }
};

TEST_F(HugePageAllocatorTest, LargeTensorsAreMappedAligned) {
  EXPECT_TRUE(HugePageAllocatorInstalled());
  const HugePageAllocatorStats before = GetHugePageAllocatorStats();
  {
    at::Tensor t = at::empty({static_cast<int64_t>(9 * kMiB / 4)}, at::kFloat);  // 9 MiB: mapped as 10 MiB
    EXPECT_EQ(reinterpret_cast<uintptr_t>(t.data_ptr()) % (2 * kMiB), 0u);
    const HugePageAllocatorStats during = GetHugePageAllocatorStats();
    EXPECT_EQ(during.blocks, before.blocks + 1);
    EXPECT_EQ(during.mapped_bytes, before.mapped_bytes + 10 * kMiB);
    t.fill_(3.0f);
    EXPECT_EQ((t + 1).sum().item<double>(), 4.0 * t.numel());  // the sum's tensors are small or mapped alike
  }
  EXPECT_EQ(GetHugePageAllocatorStats().mapped_bytes, before.mapped_bytes);
}

TEST_F(HugePageAllocatorTest, AFreedBlockServesTheNextRequestOfItsLength) {
  void* first = nullptr;
  {
    at::Tensor t = MiBTensor(9);
    first = t.data_ptr();
    t.fill_(5);
  }
  EXPECT_EQ(GetHugePageAllocatorStats().cached_bytes, 10 * kMiB);
  const HugePageAllocatorStats before = GetHugePageAllocatorStats();
  at::Tensor again = MiBTensor(10);  // 10 MiB: the same mapped length
  const HugePageAllocatorStats after = GetHugePageAllocatorStats();
  EXPECT_EQ(again.data_ptr(), first);
  EXPECT_EQ(after.reused, before.reused + 1);
  EXPECT_EQ(after.blocks, before.blocks);
  EXPECT_EQ(after.cached_bytes, 0u);
  EXPECT_EQ(after.mapped_bytes, before.mapped_bytes + 10 * kMiB);
}

// The cache's contract: mapped + cached bytes never exceed the high-water
// mark of mapped (live) bytes, because a request the cache cannot serve first
// unmaps cached blocks until live + requested + cached bytes fit in the mark.
TEST_F(HugePageAllocatorTest, TheCacheNeverHoldsMoreThanThePeakOfLiveBlocks) {
  auto check = [] {
    const HugePageAllocatorStats s = GetHugePageAllocatorStats();
    EXPECT_LE(s.mapped_bytes + s.cached_bytes, s.high_water_bytes);
    EXPECT_LE(s.cached_bytes, 64 * kMiB);  // the cap
  };
  // Shapes that repeat and shapes that do not, freed in varying order, and
  // live sets that grow past earlier marks.
  const size_t sizes[] = {10, 12, 10, 16, 20, 12, 10, 30, 10, 12};
  std::vector<at::Tensor> held;
  for (int round = 0; round < 3; ++round) {
    for (size_t i = 0; i < std::size(sizes); ++i) {
      held.push_back(MiBTensor(sizes[(i + round) % std::size(sizes)] + 8 * round));
      check();
      if (held.size() > static_cast<size_t>(3 + round))
        held.erase(held.begin() + static_cast<std::ptrdiff_t>((i * 7) % held.size()));
      check();
    }
  }
  held.clear();
  check();
  EXPECT_GT(GetHugePageAllocatorStats().reused, 0u);
}

TEST_F(HugePageAllocatorTest, ARequestThatRaisesTheHighWaterMarkKeepsNothingCached) {
  { at::Tensor a = MiBTensor(10), b = MiBTensor(12); }
  EXPECT_EQ(GetHugePageAllocatorStats().cached_bytes, 22 * kMiB);
  const size_t mark_mib = GetHugePageAllocatorStats().high_water_bytes / kMiB;
  at::Tensor c = MiBTensor(mark_mib + 8);  // above the mark: nothing may stay cached next to it
  const HugePageAllocatorStats s = GetHugePageAllocatorStats();
  EXPECT_EQ(s.cached_bytes, 0u);
  EXPECT_EQ(s.mapped_bytes, (mark_mib + 8) * kMiB);
  EXPECT_EQ(s.high_water_bytes, (mark_mib + 8) * kMiB);
}

TEST_F(HugePageAllocatorTest, ARequestBelowTheMarkKeepsTheCachedBlocksThatFit) {
  { at::Tensor a = MiBTensor(30), b = MiBTensor(30); }  // the mark is now at least 60 MiB
  at::Tensor d = MiBTensor(20);                         // no 20 MiB block: a miss
  const HugePageAllocatorStats s = GetHugePageAllocatorStats();
  EXPECT_GE(s.cached_bytes, 30 * kMiB);  // 20 + 30 + 30 may exceed the mark; 20 + 30 does not
  EXPECT_LE(s.mapped_bytes + s.cached_bytes, s.high_water_bytes);
}

TEST_F(HugePageAllocatorTest, PeakCountsLiveBlocksSinceTheLastReset) {
  {
    at::Tensor a = MiBTensor(20), b = MiBTensor(30);
    EXPECT_GE(GetHugePageAllocatorStats().peak_mapped_bytes, 50 * kMiB);
  }
  ResetHugePagePeak();
  EXPECT_EQ(GetHugePageAllocatorStats().peak_mapped_bytes, 0u);
  { at::Tensor c = MiBTensor(12), d = MiBTensor(10); }
  { at::Tensor e = MiBTensor(12); }  // a cached block: reuse counts as live too
  EXPECT_EQ(GetHugePageAllocatorStats().peak_mapped_bytes, 22 * kMiB);
}

TEST_F(HugePageAllocatorTest, BlocksBeyondTheCapAreUnmappedAndReleaseEmptiesTheCache) {
  { at::Tensor big = MiBTensor(80); }  // over the 64 MiB cap: unmapped at once
  EXPECT_EQ(GetHugePageAllocatorStats().cached_bytes, 0u);
  { at::Tensor a = MiBTensor(40), b = MiBTensor(30); }  // 70 MiB freed: the older one goes
  EXPECT_LE(GetHugePageAllocatorStats().cached_bytes, 64 * kMiB);
  EXPECT_GT(GetHugePageAllocatorStats().cached_bytes, 0u);
  ReleaseHugePageCache();
  EXPECT_EQ(GetHugePageAllocatorStats().cached_bytes, 0u);
  ASSERT_TRUE(InstallHugePageAllocator({.min_bytes = 8 * kMiB, .cache_bytes = 0}).ok());
  { at::Tensor a = MiBTensor(10); }
  EXPECT_EQ(GetHugePageAllocatorStats().cached_bytes, 0u);  // cache off: unmapped when freed
}

TEST_F(HugePageAllocatorTest, SmallTensorsGoToThePreviousAllocator) {
  const HugePageAllocatorStats before = GetHugePageAllocatorStats();
  at::Tensor t = at::ones({static_cast<int64_t>(kMiB)}, at::kFloat);  // 4 MiB < 8 MiB
  EXPECT_EQ(t.sum().item<double>(), static_cast<double>(kMiB));
  EXPECT_EQ(GetHugePageAllocatorStats().blocks, before.blocks);
}

TEST_F(HugePageAllocatorTest, RawAllocationsOfBothSizesRoundTrip) {
  c10::Allocator* allocator = c10::GetCPUAllocator();
  for (size_t bytes : {size_t{100}, 16 * kMiB}) {
    void* p = allocator->raw_allocate(bytes);
    ASSERT_NE(p, nullptr);
    static_cast<char*>(p)[bytes - 1] = 7;
    allocator->raw_deallocate(p);
  }
  EXPECT_EQ(GetHugePageAllocatorStats().mapped_bytes, 0u);
}

// The point of the allocator. THP "never" (or no THP in the kernel): skipped.
TEST_F(HugePageAllocatorTest, ALargeBlockFaultsInHugePages) {
  const std::string mode = TransparentHugePageMode();
  if (mode != "madvise" && mode != "always") GTEST_SKIP() << "transparent huge pages: '" << mode << "'";
  constexpr size_t kBlock = 64 * kMiB;
  at::Tensor t = at::empty({static_cast<int64_t>(kBlock)}, at::kByte);
  const long before = MinorFaults();
  t.fill_(1);
  const long faults = MinorFaults() - before;
  // 16,384 faults with 4 KiB pages, 32 with 2 MiB ones; allow for a kernel
  // that could not find every huge page at once.
  EXPECT_LT(faults, static_cast<long>(kBlock / 4096 / 8)) << "THP mode " << mode;
}

TEST(HugePageAllocatorOptionsTest, BelowTwoMiBIsInvalid) {
  const absl::Status s = InstallHugePageAllocator({.min_bytes = kMiB});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("min_bytes"), std::string::npos);
}

}  // namespace
}  // namespace videogen
