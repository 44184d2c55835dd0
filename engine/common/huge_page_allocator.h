// LibTorch's CPU allocator with transparent huge pages for large blocks.
//
// A minor page fault costs ~10 us on these VMs, and blocks above the heap's
// mmap threshold (heap_reuse.h: 32 MiB) are mapped afresh per tensor by
// glibc, so every first touch of a VAE activation (150 MB - 1.2 GB at 480p)
// paid one fault per 4 KiB. Blocks of at least `min_bytes` are mapped here
// instead, 2 MiB-aligned and madvise(MADV_HUGEPAGE)d: with transparent huge
// pages in "madvise" or "always" mode (Debian's default is "madvise") the
// kernel faults them in 2 MiB at a time. A freed block is unmapped at once,
// as glibc would, so peak RSS stays that of glibc's own mapping (plus less
// than 2 MiB of rounding per block). Smaller blocks go to the allocator that
// was LibTorch's CPU allocator before (the heap). With THP "never" the blocks
// are still served, as ordinary pages.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "engine/common/heap_reuse.h"

namespace videogen {

struct HugePageAllocatorOptions {
  // Requests of at least this many bytes are mapped with huge pages; at least
  // 2 MiB. The default matches HeapReuseOptions::mmap_threshold_bytes: below
  // it blocks come from the resident heap and fault only once.
  size_t min_bytes = HeapReuseOptions{}.mmap_threshold_bytes;
};

// Makes the allocator LibTorch's CPU allocator for every CPU tensor allocated
// from now on (tensors allocated before keep their own deleter). Idempotent:
// a later call only replaces the options. InvalidArgument when min_bytes is
// below 2 MiB. Call at start-up, before worker threads allocate tensors.
absl::Status InstallHugePageAllocator(const HugePageAllocatorOptions& options = {});

// True once InstallHugePageAllocator() succeeded.
bool HugePageAllocatorInstalled();

// The kernel's transparent huge page mode ("always", "madvise", "never"; ""
// when /sys/kernel/mm/transparent_hugepage/enabled cannot be read).
std::string TransparentHugePageMode();

struct HugePageAllocatorStats {
  uint64_t blocks = 0;        // blocks mapped since start-up
  uint64_t mapped_bytes = 0;  // bytes mapped now (live blocks)
};

// Counters. Thread-safe.
HugePageAllocatorStats GetHugePageAllocatorStats();

}  // namespace videogen
