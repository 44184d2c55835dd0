// The huge page allocator behind LibTorch's CPU allocator: large tensors are
// mapped 2 MiB-aligned and unmapped when freed, small ones go to the previous
// allocator, raw allocations round-trip, and with transparent huge pages on
// a large block faults far less than once per 4 KiB page.
#include "engine/common/huge_page_allocator.h"

#include <sys/resource.h>

#include <cstdint>

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

class HugePageAllocatorTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(InstallHugePageAllocator({.min_bytes = 8 * kMiB}).ok()); }
};

TEST_F(HugePageAllocatorTest, LargeTensorsAreMappedAlignedAndUnmappedWhenFreed) {
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
