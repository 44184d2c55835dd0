// LibTorch >= 2.3: Allocator::allocate is non-const and copy_data is pure virtual.
#include <cstring>

#include "engine/common/host_allocation_cache_adapter.h"

namespace videogen::internal {
namespace {

// Kept compiling against the >= 2.3 interface for when it is validated.
class [[maybe_unused]] CachingCpuAllocator final : public c10::Allocator {
 public:
  c10::DataPtr allocate(size_t n) override { return HostCacheAllocate(n); }
  c10::DeleterFnPtr raw_deleter() const override { return &HostCacheDelete; }
  void copy_data(void* dest, const void* src, std::size_t count) const override { std::memcpy(dest, src, count); }
};

}  // namespace

// Not installed on LibTorch >= 2.3 (InstallHostAllocationCache() then
// installs nothing): on LibTorch 2.6 it made bench_denoise_step's tiny i2v step
// 2.7x slower (0.08 s vs 0.03 s, bf16 and fp8, same binary with
// VIDEOGEN_HOST_ALLOCATION_CACHE=1 / 0), and it was never measured at real
// sizes there. (The non-finite step first blamed on it was LibTorch 2.6's
// bf16 convolution bug, see PatchEmbed in engine/models/dit/layers.h; with the
// allocator installed the cache test passes and every step is finite.)
c10::Allocator* HostCacheAllocator() { return nullptr; }

}  // namespace videogen::internal
