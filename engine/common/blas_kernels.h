// Which BLIS kernel set ("sub-configuration") this process's BLAS runs.
//
// BLIS picks its kernels from the CPU at its first use; a BLIS older than the
// CPU (Debian 12's 0.9 on AMD Zen 5) falls back to its slow generic kernels.
// BLIS_ARCH_TYPE overrides the pick, and BLIS reads it once, at its first use
// in a process. So the choice is measured in subprocesses
// (videogen-blas-check --select, see blas_kernel_probe.h), cached per machine,
// and applied by ApplyBlasKernelChoice() first thing in every main().
//
// BLIS 0.9 parses BLIS_ARCH_TYPE as an integer arch id (a name such as
// "generic" reads as 0, which is skx): the cache stores the id and the name.
#pragma once

#include <set>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace videogen {

struct BlasKernelChoice {
  enum class Source {
    kNone,         // nothing applied: no cached choice for this machine
    kEnvironment,  // BLIS_ARCH_TYPE was already set; left as it is
    kCache,        // read from the cache and set
  };
  Source source = Source::kNone;
  std::string value;  // BLIS_ARCH_TYPE value, e.g. "0"; "" with kNone
  std::string name;   // BLIS sub-configuration, e.g. "skx"; "" when unknown
  double gflops = 0;  // fp32 1024^3 GEMM GFLOP/s measured at selection; 0 when unknown
  int threads = 0;    // BLAS threads that measurement ran; 0 when unknown (a cache from before it was recorded)
};

// Directory of per-machine caches: $VIDEOGEN_CACHE_DIR, else
// $XDG_CACHE_HOME/videogen, else $HOME/.cache/videogen.
std::string VideogenCacheDir();

// What the choice depends on: CPU model name, CPU flags, and the BLAS library
// providing sgemm_ (its path, size and modification time). Readable text.
std::string BlasMachineKey();

// The cache file of `key`: <VideogenCacheDir()>/blas-arch-<16 hex digits of
// a hash of key>.
std::string BlasKernelCachePath(const std::string& key);

// Reads the choice cached for `key` at `path`. NotFound when the file does not
// exist or was written for another key; DataLoss when it is malformed.
absl::StatusOr<BlasKernelChoice> ReadBlasKernelChoice(const std::string& path, const std::string& key);

// Writes `choice` for `key` to `path` (creating its directory), atomically
// (a temporary file renamed over it). Internal on I/O errors.
absl::Status WriteBlasKernelChoice(const std::string& path, const std::string& key, const BlasKernelChoice& choice);

// If BLIS_ARCH_TYPE is unset and a choice is cached for this machine, sets
// BLIS_ARCH_TYPE to it. Returns what is in effect (for logging). Never fails:
// an unreadable cache applies nothing.
// Precondition: called first in main(), before any BLAS call and before any
// thread starts (setenv is not thread-safe).
BlasKernelChoice ApplyBlasKernelChoice();

// What is in effect, without changing anything: BLIS_ARCH_TYPE from the
// environment (source kEnvironment, named from the cache when the cached
// choice has that value), or kNone when it is unset.
BlasKernelChoice CurrentBlasKernelChoice();

// One line for logs, e.g. "skx (BLIS_ARCH_TYPE=0, from cache, 171.2 GFLOP/s
// at selection)" or "default (no cached choice)".
std::string DescribeBlasKernelChoice(const BlasKernelChoice& choice);

// BLIS runs every GEMM on one thread unless BLIS_NUM_THREADS (or
// OMP_NUM_THREADS) says otherwise when it starts: at::set_num_threads() does
// not reach it, and Debian's libblas.so.3 (BLIS) exports no call that would.
// Without this, LibTorch's float32 linears, matmuls and attention tiles ran on
// one core of two. Sets BLIS_NUM_THREADS to `threads` (0: UsableCores())
// unless the environment holds a value this function did not write (an
// explicit choice wins). Returns the thread count BLIS_NUM_THREADS now names,
// so a second call with the same argument is how to read it.
// Takes effect only before the process's first BLAS call (BLIS reads it once);
// ConfigureTorchRuntime() calls it. Not thread-safe (setenv).
int ApplyBlasThreads(int threads);

// The CPU's flags (/proc/cpuinfo "flags" of the first processor).
std::set<std::string> CpuFlags();

// Whether the CPU flags allow the BLIS sub-configuration `name` (its kernels
// use no instruction the CPU lacks). Names this table does not know are
// allowed: their probe decides.
bool CpuAllowsBlisKernelSet(const std::string& name, const std::set<std::string>& flags);

}  // namespace videogen
