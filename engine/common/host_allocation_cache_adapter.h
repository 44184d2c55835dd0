// Internal to host_allocation_cache.cc: the c10::Allocator that serves
// LibTorch's CPU tensors from the cache. Its class differs by LibTorch version
// (the Allocator interface changed in 2.3), so it lives in one file per
// version, chosen by engine/common/CMakeLists.txt.
#pragma once

#include <cstddef>

#include <c10/core/Allocator.h>

namespace videogen::internal {

// A block for n bytes: cached/mapped when n >= min_bytes, else from LibTorch's
// default CPU allocator. data == context, deleter HostCacheDelete.
c10::DataPtr HostCacheAllocate(size_t n);

// Frees what HostCacheAllocate (or the default CPU allocator) returned.
void HostCacheDelete(void* p);

// The process-wide allocator object (never destroyed); nullptr where the cache
// is not available with this LibTorch.
c10::Allocator* HostCacheAllocator();

}  // namespace videogen::internal
