// LibTorch >= 2.3: Allocator::allocate is non-const and copy_data is pure virtual.
#include <cstring>

#include "engine/common/huge_page_allocator_adapter.h"

namespace videogen::internal {
namespace {

class HugePageCpuAllocator final : public c10::Allocator {
 public:
  c10::DataPtr allocate(size_t n) override { return HugePageAllocate(n); }
  c10::DeleterFnPtr raw_deleter() const override { return &HugePageDelete; }
  void copy_data(void* dest, const void* src, std::size_t count) const override { std::memcpy(dest, src, count); }
};

}  // namespace

c10::Allocator* HugePageTorchAllocator() {
  static HugePageCpuAllocator* allocator = new HugePageCpuAllocator();
  return allocator;
}

}  // namespace videogen::internal
