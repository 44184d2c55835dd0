// LibTorch < 2.3: Allocator::allocate is const; no copy_data.
#include "engine/common/huge_page_allocator_adapter.h"

namespace videogen::internal {
namespace {

class HugePageCpuAllocator final : public c10::Allocator {
 public:
  c10::DataPtr allocate(size_t n) const override { return HugePageAllocate(n); }
  c10::DeleterFnPtr raw_deleter() const override { return &HugePageDelete; }
};

}  // namespace

c10::Allocator* HugePageTorchAllocator() {
  static HugePageCpuAllocator* allocator = new HugePageCpuAllocator();
  return allocator;
}

}  // namespace videogen::internal
