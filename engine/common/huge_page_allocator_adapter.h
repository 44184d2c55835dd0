// The c10::Allocator subclass of huge_page_allocator.cc. LibTorch 2.3 changed
// the interface (allocate() non-const, copy_data() pure virtual), so the
// subclass lives in one file per interface, chosen by CMake. Internal.
#pragma once

#include <cstddef>

#include <c10/core/Allocator.h>

namespace videogen::internal {

// Serves one request (huge_page_allocator.cc).
c10::DataPtr HugePageAllocate(size_t n);
// Frees any pointer HugePageAllocate returned, large or small.
void HugePageDelete(void* p);

// The allocator to install, of the interface of this LibTorch.
c10::Allocator* HugePageTorchAllocator();

}  // namespace videogen::internal
