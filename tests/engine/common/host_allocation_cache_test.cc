// The host allocation cache: reuse of freed blocks, no growth on a hit, and
// the miss that gives the cache back before mapping.
#include "engine/common/host_allocation_cache.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

namespace videogen {
namespace {

constexpr size_t kMiB = size_t{1} << 20;

TEST(HostAllocationCacheTest, RejectsZeroMinBytes) {
  HostAllocationCacheOptions options;
  options.min_bytes = 0;
  const absl::Status s = InstallHostAllocationCache(options);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("min_bytes"), std::string::npos);
}

TEST(HostAllocationCacheTest, ReusesFreedBlocksAndGivesThemBackOnAMiss) {
  HostAllocationCacheOptions options;
  options.max_cached_bytes = 64 * kMiB;
  ASSERT_TRUE(InstallHostAllocationCache(options).ok());
  if (!HostAllocationCacheInstalled()) GTEST_SKIP() << "the cache is not available with this LibTorch";
  ReleaseHostAllocationCache();
  const HostAllocationCacheStats s0 = GetHostAllocationCacheStats();
  void* first = nullptr;
  {
    at::Tensor t = at::ones({2 * 1024 * 1024});  // 8 MiB float32
    first = t.data_ptr();
    EXPECT_EQ(t.sum().item<double>(), 2.0 * 1024 * 1024);
  }
  const HostAllocationCacheStats s1 = GetHostAllocationCacheStats();
  EXPECT_EQ(s1.misses, s0.misses + 1);
  EXPECT_EQ(s1.cached_bytes, 8 * kMiB);
  {
    at::Tensor t = at::zeros({2 * 1024 * 1024});  // same size: the cached block
    EXPECT_EQ(t.data_ptr(), first);
    EXPECT_EQ(t.sum().item<double>(), 0.0);
    const HostAllocationCacheStats s2 = GetHostAllocationCacheStats();
    EXPECT_EQ(s2.hits, s1.hits + 1);
    EXPECT_EQ(s2.mapped_bytes, s1.mapped_bytes);  // nothing new mapped
    EXPECT_EQ(s2.cached_bytes, 0u);
  }
  // Another size misses: the cached 8 MiB block is unmapped first.
  {
    at::Tensor t = at::empty({3 * 1024 * 1024});
    const HostAllocationCacheStats s3 = GetHostAllocationCacheStats();
    EXPECT_EQ(s3.cached_bytes, 0u);
    EXPECT_EQ(s3.mapped_bytes, 12 * kMiB);
  }
  // Beyond max_cached_bytes a freed block is unmapped at once.
  { at::Tensor t = at::empty({32 * 1024 * 1024}); }  // 128 MiB
  EXPECT_LE(GetHostAllocationCacheStats().cached_bytes, 64 * kMiB);
  // Small tensors are LibTorch's own.
  { at::Tensor t = at::ones({16}); EXPECT_EQ(t.sum().item<double>(), 16.0); }
  ReleaseHostAllocationCache();
  EXPECT_EQ(GetHostAllocationCacheStats().cached_bytes, 0u);
  EXPECT_EQ(GetHostAllocationCacheStats().mapped_bytes, 0u);
}

}  // namespace
}  // namespace videogen
