// LibTorch < 2.3: Allocator::allocate is const and there is no copy_data.
#include "engine/common/host_allocation_cache_adapter.h"

namespace videogen::internal {
namespace {

class CachingCpuAllocator final : public c10::Allocator {
 public:
  c10::DataPtr allocate(size_t n) const override { return HostCacheAllocate(n); }
  c10::DeleterFnPtr raw_deleter() const override { return &HostCacheDelete; }
};

}  // namespace

c10::Allocator* HostCacheAllocator() {
  static CachingCpuAllocator* allocator = new CachingCpuAllocator();
  return allocator;
}

}  // namespace videogen::internal
