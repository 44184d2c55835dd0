#include "engine/common/runtime.h"

#include <dlfcn.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include "absl/strings/str_cat.h"
#include "engine/common/blas_kernels.h"
#include "engine/common/heap_reuse.h"
#include "engine/common/huge_page_allocator.h"
#include "engine/common/status_macros.h"

namespace videogen {
namespace {

// Returns the CPU limit of the cgroup as a core count, or 0 when unlimited.
double CgroupCpuLimit() {
  std::ifstream v2("/sys/fs/cgroup/cpu.max");
  std::string quota;
  double period = 0;
  if (v2 >> quota >> period) {
    if (quota == "max" || period <= 0) return 0;
    return std::stod(quota) / period;
  }
  std::ifstream q1("/sys/fs/cgroup/cpu/cpu.cfs_quota_us");
  std::ifstream p1("/sys/fs/cgroup/cpu/cpu.cfs_period_us");
  double q = -1;
  if (q1 >> q && p1 >> period && q > 0 && period > 0) return q / period;
  return 0;
}

std::atomic<bool> g_heap_reuse{false};

}  // namespace

bool EnvTurnsOff(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr && std::string(value) == "0";
}

bool HeapReuseInForce() { return g_heap_reuse.load(); }

int UsableCores() {
  cpu_set_t set;
  int cores = 1;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) cores = std::max(1, CPU_COUNT(&set));
  const double limit = CgroupCpuLimit();
  if (limit > 0) cores = std::min(cores, std::max(1, static_cast<int>(std::ceil(limit))));
  return cores;
}

absl::Status ConfigureTorchRuntime(const RuntimeOptions& options) {
  if (options.threads < 0) {
    return absl::InvalidArgumentError(absl::StrCat("threads: must be >= 0, got ", options.threads));
  }
  at::set_num_threads(options.threads == 0 ? UsableCores() : options.threads);
  ApplyBlasThreads(options.threads);
  at::globalContext().setAllowTF32CuBLAS(options.allow_tf32);
  at::globalContext().setAllowTF32CuDNN(options.allow_tf32);
  if (options.heap_reuse && !EnvTurnsOff("VIDEOGEN_HEAP_REUSE")) {
    const absl::Status s = ConfigureHeapReuse();
    if (!s.ok() && !absl::IsUnimplemented(s)) return s;
    if (s.ok()) g_heap_reuse.store(true);
  }
  if (options.huge_pages && !EnvTurnsOff("VIDEOGEN_HUGE_PAGES")) {
    HugePageAllocatorOptions huge_pages;
    if (EnvTurnsOff("VIDEOGEN_HUGE_PAGE_CACHE")) huge_pages.cache_bytes = 0;
    RETURN_IF_ERROR(InstallHugePageAllocator(huge_pages));
  }
  return absl::OkStatus();
}

std::string LoadedBlasLibrary() {
  void* sym = dlsym(RTLD_DEFAULT, "sgemm_");
  Dl_info info;
  if (sym == nullptr || dladdr(sym, &info) == 0 || info.dli_fname == nullptr) return "";
  char resolved[4096];
  if (realpath(info.dli_fname, resolved) != nullptr) return resolved;
  return info.dli_fname;
}

double MeasureMatmulGflops(int n, int repeats) {
  at::Tensor a = at::randn({n, n});
  at::Tensor b = at::randn({n, n});
  at::Tensor c = at::mm(a, b);  // warm-up
  double best = 0;
  for (int i = 0; i < repeats; ++i) {
    const auto start = std::chrono::steady_clock::now();
    at::mm_out(c, a, b);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    best = std::max(best, 2.0 * n * n * static_cast<double>(n) / s / 1e9);
  }
  return best;
}

}  // namespace videogen
