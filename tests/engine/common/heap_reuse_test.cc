// The heap reuse policy: a large block freed and allocated again is not
// faulted in again (its pages stayed resident), and thresholds are checked.
#include "engine/common/heap_reuse.h"

#include <sys/resource.h>

#include <cstdlib>
#include <cstring>

#include <gtest/gtest.h>

namespace videogen {
namespace {

long MinorFaults() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_minflt;
}

// Minor page faults taken while writing every byte of a fresh `bytes` block.
long FaultsToTouch(size_t bytes) {
  char* p = static_cast<char*>(std::malloc(bytes));
  const long before = MinorFaults();
  std::memset(p, 1, bytes);
  const long faults = MinorFaults() - before;
  // Keep the writes: the block's last byte decides nothing, but is read.
  EXPECT_EQ(p[bytes - 1], 1);
  std::free(p);
  return faults;
}

TEST(HeapReuseTest, AFreedLargeBlockIsReusedWithoutPageFaults) {
  ASSERT_TRUE(ConfigureHeapReuse().ok());
  // Below the 32 MiB threshold. With glibc's defaults the first such block is
  // mapped and unmapped, the second comes from fresh heap pages: it faults.
  constexpr size_t kBlock = size_t{24} << 20;
  const long pages = static_cast<long>(kBlock / 4096);
  FaultsToTouch(kBlock);  // the heap grows once
  EXPECT_LT(FaultsToTouch(kBlock), pages / 10);
  EXPECT_LT(FaultsToTouch(kBlock / 2), pages / 10);  // a smaller block reuses the same pages
}

TEST(HeapReuseTest, ThresholdsAboveAnIntAreInvalid) {
  const absl::Status s = ConfigureHeapReuse({.mmap_threshold_bytes = size_t{1} << 31});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("mmap_threshold_bytes"), std::string::npos);
}

}  // namespace
}  // namespace videogen
