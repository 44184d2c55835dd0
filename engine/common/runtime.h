// Process-wide LibTorch set-up, in one place. Call ConfigureTorchRuntime() once
// at start-up, before any worker thread runs LibTorch code.
#pragma once

#include <string>

#include "absl/status/status.h"

namespace videogen {

struct RuntimeOptions {
  // Intra-op threads for LibTorch; 0 = UsableCores().
  int threads = 0;
  // TF32 matmul/conv on CUDA. Off by default: fidelity runs assume IEEE float32.
  bool allow_tf32 = false;
  // Keep large freed host blocks in the heap for reuse (heap_reuse.h: no page
  // faults for the next tensors; RSS stays near its peak). The environment
  // variable VIDEOGEN_HEAP_REUSE=0 turns it off for the process.
  bool heap_reuse = true;
  // Map host tensors of >= 32 MiB (the heap's mmap threshold) with transparent huge pages
  // (huge_page_allocator.h: one fault per 2 MiB instead of per 4 KiB; peak RSS
  // unchanged; freed blocks kept for reuse up to 2 GiB, never above the peak of
  // live blocks). VIDEOGEN_HUGE_PAGES=0 turns it off for the process,
  // VIDEOGEN_HUGE_PAGE_CACHE=0 only the reuse of freed blocks.
  bool huge_pages = true;
};

// Number of cores this process may use: the affinity mask, further limited by
// the cgroup v2 (cpu.max) or v1 (cfs quota) CPU limit, rounded up; at least 1.
int UsableCores();

// Sets intra-op threads (LibTorch's and, through ApplyBlasThreads(), BLIS's,
// which only a call before the first BLAS call reaches) and the TF32 policy,
// and applies the heap reuse policy and installs the huge page allocator when
// asked (both stay in force; heap reuse is skipped where the C library is not
// glibc). Call it from one thread (it sets BLIS_NUM_THREADS); more than one
// call is allowed (last call wins), but it is meant for start-up. Returns
// InvalidArgument for threads < 0.
absl::Status ConfigureTorchRuntime(const RuntimeOptions& options);

// True when the environment sets `name` to "0": the process-wide off switches
// (VIDEOGEN_HEAP_REUSE, VIDEOGEN_HUGE_PAGES, VIDEOGEN_HUGE_PAGE_CACHE,
// VIDEOGEN_BF16_FLOAT_GEMM, VIDEOGEN_FLOAT_GEMM, VIDEOGEN_WINOGRAD).
bool EnvTurnsOff(const char* name);

// True once ConfigureTorchRuntime() has applied the heap reuse policy.
bool HeapReuseInForce();

// Path of the shared object that provides the BLAS `sgemm_` symbol in this
// process ("" when none is loaded), e.g. ".../blis-openmp/libblas.so.3".
std::string LoadedBlasLibrary();

// Measured fp32 GEMM throughput in GFLOP/s for n x n x n (best of `repeats`).
// Used by the set-up check: reference BLAS gives ~2, BLIS on 2 cores > 20.
double MeasureMatmulGflops(int n, int repeats);

}  // namespace videogen
