// A cache of large host allocations behind LibTorch's CPU allocator.
//
// On these VMs a minor page fault costs ~10 us, and glibc serves every
// allocation above 32 MiB (and, after frees, smaller ones too) with a fresh
// mmap that is unmapped again on free: each DiT block re-faulted every page of
// its activations (~12% of a bf16 block's time at 2,048 tokens). The cache
// keeps freed blocks of >= min_bytes, keyed by their page-rounded size, and
// hands them out again for requests of exactly that size (a model's shapes
// repeat from block to block and step to step).
//
// Peak RSS: a request that misses first returns at least its own size of
// cached blocks to the OS (least recently freed first), and only then maps a
// new one, so the bytes mapped never exceed the largest live total reached so
// far: the peak is that of an uncached allocator. Between a free and the next
// miss the cache holds at most max_cached_bytes (freed blocks beyond it are
// unmapped at once).
#pragma once

#include <cstddef>
#include <cstdint>

#include "absl/status/status.h"

namespace videogen {

struct HostAllocationCacheOptions {
  // Requests of at least this many bytes are served by the cache; smaller
  // ones by LibTorch's default CPU allocator.
  size_t min_bytes = size_t{1} << 20;
  // Most bytes kept cached while unused; 0 = HostMemoryLimitBytes() / 8.
  size_t max_cached_bytes = 0;
  // madvise(MADV_HUGEPAGE) on mapped blocks of >= 4 MiB (transparent huge
  // pages in "madvise" mode: one fault per 2 MiB instead of per 4 KiB).
  bool huge_pages = true;
};

struct HostAllocationCacheStats {
  uint64_t hits = 0;          // requests served by a cached block
  uint64_t misses = 0;        // requests that mapped a new block
  uint64_t cached_bytes = 0;  // freed bytes held now
  uint64_t mapped_bytes = 0;  // bytes mapped by the cache now (live + cached)
};

// Makes the cache LibTorch's CPU allocator for every CPU tensor allocated from
// now on (tensors allocated before keep their own deleter). Idempotent: a later
// call only replaces the options. InvalidArgument when min_bytes is 0.
// Call at start-up, before worker threads allocate tensors.
absl::Status InstallHostAllocationCache(const HostAllocationCacheOptions& options = {});

// True once InstallHostAllocationCache() succeeded.
bool HostAllocationCacheInstalled();

// Returns every cached (unused) block to the OS. Thread-safe.
void ReleaseHostAllocationCache();

// Counters since start-up. Thread-safe.
HostAllocationCacheStats GetHostAllocationCacheStats();

}  // namespace videogen
