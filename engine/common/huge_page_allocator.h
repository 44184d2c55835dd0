// LibTorch's CPU allocator with transparent huge pages for large blocks.
//
// A minor page fault costs ~10 us on these VMs, and blocks above the heap's
// mmap threshold (heap_reuse.h: 32 MiB) are mapped afresh per tensor by
// glibc, so every first touch of a VAE activation (150 MB - 1.2 GB at 480p)
// paid one fault per 4 KiB. Blocks of at least `min_bytes` are mapped here
// instead, 2 MiB-aligned and madvise(MADV_HUGEPAGE)d: with transparent huge
// pages in "madvise" or "always" mode (Debian's default is "madvise") the
// kernel faults them in 2 MiB at a time. Smaller blocks go to the allocator
// that was LibTorch's CPU allocator before (the heap). With THP "never" the
// blocks are still served, as ordinary pages.
//
// Freed blocks are kept, faulted in, for the next request of the same mapped
// length (the DiT's and the VAE's shapes repeat every block and every chunk),
// up to `cache_bytes`. The cache never raises peak RSS above the peak of live
// blocks: a request it cannot serve first unmaps cached blocks (oldest first)
// until live + requested + cached bytes fit in the high-water mark of live
// blocks, before mapping a new block, so mapped + cached bytes never exceed
// that mark. (Each block is rounded up to a whole number of 2 MiB pages.)
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
  // Most bytes of freed blocks kept for reuse; 0 unmaps every block when it
  // is freed. Bounds what an idle process holds after its largest job.
  size_t cache_bytes = size_t{2} << 30;
};

// Makes the allocator LibTorch's CPU allocator for every CPU tensor allocated
// from now on (tensors allocated before keep their own deleter). Idempotent:
// a later call only replaces the options (a smaller cache_bytes takes effect
// at the next free or ReleaseHugePageCache()). InvalidArgument when min_bytes is
// below 2 MiB. Call at start-up, before worker threads allocate tensors.
absl::Status InstallHugePageAllocator(const HugePageAllocatorOptions& options = {});

// True once InstallHugePageAllocator() succeeded.
bool HugePageAllocatorInstalled();

// The kernel's transparent huge page mode ("always", "madvise", "never"; ""
// when /sys/kernel/mm/transparent_hugepage/enabled cannot be read).
std::string TransparentHugePageMode();

struct HugePageAllocatorStats {
  uint64_t blocks = 0;             // blocks mapped since start-up
  uint64_t mapped_bytes = 0;       // bytes mapped now (live blocks)
  uint64_t cached_bytes = 0;       // freed blocks kept mapped for reuse now
  uint64_t reused = 0;             // requests served from the cache since start-up
  uint64_t peak_mapped_bytes = 0;  // most bytes of live blocks at once since ResetHugePagePeak()
  uint64_t high_water_bytes = 0;   // most bytes of live blocks at once since start-up
};

// Counters. Thread-safe.
HugePageAllocatorStats GetHugePageAllocatorStats();

// Starts peak_mapped_bytes afresh from the bytes mapped now. Thread-safe.
void ResetHugePagePeak();

// Unmaps every cached block (e.g. when a job ends and the process goes idle).
// Thread-safe; live blocks are untouched.
void ReleaseHugePageCache();

}  // namespace videogen
