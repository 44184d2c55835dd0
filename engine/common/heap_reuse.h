// Large host allocations reused from the heap instead of mapped per tensor.
//
// On these VMs a minor page fault costs ~10 us (20 x 100 MB malloc+memset+free:
// 6.1 s with glibc's defaults, 0.35 s with this policy). By default glibc serves
// an allocation above its mmap threshold (128 KiB, raised by frees up to
// 32 MiB) with a fresh mmap that free() unmaps, and a thread's non-main arena
// cannot hold a block larger than 64 MiB at all, so every DiT block re-faulted
// every page of its activations on every step. With this policy blocks up to
// `mmap_threshold_bytes` come from one brk heap shared by all threads and
// stay resident after free for the next tensor to reuse.
//
// Cost: the heap is not returned to the OS below its high-water mark (up to
// `trim_threshold_bytes` of free space at its top is kept; more is trimmed),
// so RSS after a peak stays near the peak; the peak itself is that of the
// live tensors plus the heap's fragmentation (measured in the README).
#pragma once

#include <cstddef>

#include "absl/status/status.h"

namespace videogen {

struct HeapReuseOptions {
  // Allocations of at least this many bytes are still mapped per allocation
  // (at most 2 GiB - 1: glibc takes an int); LibTorch's tensors of that size
  // go to the huge page allocator (huge_page_allocator.h), which maps them in
  // 2 MiB pages. Measured with bench_vae (9 frames, 832x480) and huge pages
  // on: at 1 GiB the one heap fragmented under the VAE's 150 MB - 1.2 GB
  // activations (encode peak RSS 11.1 GB vs 7.3 GB with glibc's defaults);
  // at 128 MiB the decode peaked at 10.35 GB, at 32 MiB 8.82 GB (encode 7.35
  // GB), at 8 MiB 8.62 GB with the DiT block no faster. Blocks below it
  // stay resident in the heap after free and never fault again.
  size_t mmap_threshold_bytes = size_t{32} << 20;
  // Free bytes at the top of the heap kept resident before trimming.
  size_t trim_threshold_bytes = size_t{1} << 30;
};

// Applies the policy through glibc's mallopt (one arena, the thresholds above).
// Call at start-up, before other threads allocate: threads keep the arena
// they already use. Unimplemented where the C library is not glibc; Internal
// when glibc refuses a setting; InvalidArgument for a threshold above 2 GiB - 1.
absl::Status ConfigureHeapReuse(const HeapReuseOptions& options = {});

}  // namespace videogen
