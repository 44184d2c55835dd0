// LibTorch >= 2.3: Allocator::allocate is non-const and copy_data is pure virtual.
#include <cstring>

#include "engine/common/host_allocation_cache_adapter.h"

namespace videogen::internal {
namespace {

class CachingCpuAllocator final : public c10::Allocator {
 public:
  c10::DataPtr allocate(size_t n) override { return HostCacheAllocate(n); }
  c10::DeleterFnPtr raw_deleter() const override { return &HostCacheDelete; }
  void copy_data(void* dest, const void* src, std::size_t count) const override { std::memcpy(dest, src, count); }
};

}  // namespace

c10::Allocator* HostCacheAllocator() {
  static CachingCpuAllocator* allocator = new CachingCpuAllocator();
  return allocator;
}

}  // namespace videogen::internal
