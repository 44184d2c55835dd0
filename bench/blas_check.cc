// videogen-blas-check: chooses and checks the BLAS kernel set. See --help.
//
// Default mode, the set-up check run by scripts/test: applies the cached
// kernel choice (engine/common/blas_kernels.h), measures fp32 1024^3 GEMM
// through LibTorch (best of up to three rounds: a busy machine only makes one
// round slow) and fails when it is below --min-gflops (default 10; Debian's
// reference BLAS gives ~2) or below --min-fraction (default 0.5) of what the
// kernel set in use reached when it was selected.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include <ATen/Parallel.h>

#include "engine/common/blas_kernel_probe.h"
#include "engine/common/blas_kernels.h"
#include "engine/common/runtime.h"

namespace {

constexpr char kUsage[] =
    "usage: videogen-blas-check [--min-gflops N] [--min-fraction F] [--threads N]\n"
    "       videogen-blas-check --select [--force] [--print-value] [--threads N] [--max-id N]\n"
    "       videogen-blas-check --probe ID [--threads N]\n"
    "\n"
    "Check (default): fp32 1024^3 GEMM through LibTorch with the cached BLIS kernel set applied;\n"
    "  fails (exit 1) below --min-gflops (default 10) or below --min-fraction (default 0.5) of\n"
    "  the GFLOP/s that kernel set reached when selected. Prints the kernel set in use.\n"
    "--select: runs one probe subprocess per BLIS arch id 0..--max-id (default 47): each checks\n"
    "  GEMM results against a reference and measures GFLOP/s; a crash or a wrong result rejects\n"
    "  the id, and ids the CPU flags do not allow are not run. Caches the fastest in\n"
    "  $VIDEOGEN_CACHE_DIR (default ~/.cache/videogen) as blas-arch-<machine hash>, keyed by\n"
    "  CPU model, CPU flags and BLAS library; reuses that cache unless --force or it was measured\n"
    "  with another thread count.\n"
    "  --print-value prints only the chosen BLIS_ARCH_TYPE value on stdout (nothing when the\n"
    "  BLAS is not BLIS), for `export BLIS_ARCH_TYPE=$(...)`.\n"
    "--probe ID: one probe (the subprocess of --select).\n"
    "--threads N: LibTorch and BLIS threads (BLIS_NUM_THREADS unless already set); default all usable cores.\n"
    "BLIS 0.9 reads BLIS_ARCH_TYPE as a numeric id: a name such as 'generic' means 0 (skx).\n";

int Select(int threads, int max_id, bool force, bool print_value) {
  const std::string key = videogen::BlasMachineKey();
  const std::string path = videogen::BlasKernelCachePath(key);
  // Set here already, so the probes inherit it (an explicit value wins).
  const int blas_threads = videogen::ApplyBlasThreads(threads);
  if (!force) {
    // A choice measured with another thread count (or before counts were
    // recorded) is measured again: its figure is the check's reference.
    if (auto cached = videogen::ReadBlasKernelChoice(path, key);
        cached.ok() && cached->threads == blas_threads) {
      std::fprintf(stderr, "blas-check: cached choice %s: %s\n", path.c_str(),
                   videogen::DescribeBlasKernelChoice(*cached).c_str());
      if (print_value) std::printf("%s\n", cached->value.c_str());
      return 0;
    }
  }
  char self[4096];
  const ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) {
    std::perror("blas-check: /proc/self/exe");
    return 2;
  }
  self[n] = '\0';
  const auto results = videogen::ProbeBlasKernelSets(self, threads, max_id);
  for (const auto& r : results) {
    if (r.outcome == videogen::BlasProbeResult::Outcome::kInvalid) continue;
    std::fprintf(stderr, "blas-check: BLIS_ARCH_TYPE=%-2d %-12s %-11s", r.id, r.name.empty() ? "-" : r.name.c_str(),
                 videogen::OutcomeName(r.outcome));
    if (r.outcome == videogen::BlasProbeResult::Outcome::kOk) {
      std::fprintf(stderr, " %7.1f GFLOP/s (max rel. error %.1e)", r.gflops, r.max_error);
    }
    if (!r.detail.empty()) std::fprintf(stderr, " (%s)", r.detail.c_str());
    std::fprintf(stderr, "\n");
  }
  if (!results.empty() && results.front().outcome == videogen::BlasProbeResult::Outcome::kNotBlis) {
    std::fprintf(stderr, "blas-check: the BLAS (%s) is not BLIS: no kernel set to choose\n",
                 videogen::LoadedBlasLibrary().c_str());
    return 0;
  }
  auto choice = videogen::FastestBlasKernelSet(results);
  if (!choice.ok()) {
    std::fprintf(stderr, "blas-check: %s\n", choice.status().ToString().c_str());
    return 1;
  }
  if (auto s = videogen::WriteBlasKernelChoice(path, key, *choice); !s.ok()) {
    std::fprintf(stderr, "blas-check: not cached: %s\n", s.ToString().c_str());
  }
  std::fprintf(stderr, "blas-check: chose %s; cached in %s\n", videogen::DescribeBlasKernelChoice(*choice).c_str(),
               path.c_str());
  if (print_value) std::printf("%s\n", choice->value.c_str());
  return 0;
}

int Check(double min_gflops, double min_fraction, int threads) {
  const videogen::BlasKernelChoice choice = videogen::ApplyBlasKernelChoice();
  if (auto s = videogen::ConfigureTorchRuntime({.threads = threads}); !s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    return 2;
  }
  // The selection's figure is a reference only for the same BLAS thread count.
  const int blas_threads = videogen::ApplyBlasThreads(threads);  // set by ConfigureTorchRuntime: reads it
  const bool comparable = choice.threads == blas_threads;
  const double relative_bar = comparable ? choice.gflops * min_fraction : 0;
  const double bar = std::max(min_gflops, relative_bar);
  double gflops = 0;
  for (int round = 0; round < 3 && gflops < bar; ++round) {
    gflops = std::max(gflops, videogen::MeasureMatmulGflops(1024, 5));
  }
  const std::string blas = videogen::LoadedBlasLibrary();
  std::printf(
      "blas-check: fp32 1024x1024x1024 matmul %.1f GFLOP/s with %d LibTorch / %d BLIS thread(s); BLAS: %s; "
      "kernels: %s\n",
      gflops, at::get_num_threads(), blas_threads, blas.empty() ? "(none found)" : blas.c_str(),
      videogen::DescribeBlasKernelChoice(choice).c_str());
  if (choice.gflops > 0 && !comparable) {
    std::fprintf(stderr,
                 "blas-check: the kernel set was selected with %d BLAS thread(s), this check runs %d: its figure is "
                 "no reference (videogen-blas-check --select measures again)\n",
                 choice.threads, blas_threads);
  }
  if (gflops < min_gflops) {
    std::fprintf(stderr,
                 "blas-check: FAILED: %.1f < %.1f GFLOP/s. Install libblis4-openmp and select it as libblas.so.3 "
                 "(scripts/bootstrap does both).\n",
                 gflops, min_gflops);
    return 1;
  }
  if (gflops < relative_bar) {
    std::fprintf(stderr,
                 "blas-check: FAILED: %.1f GFLOP/s is below %.2f x the %.1f GFLOP/s these kernels reached when "
                 "selected (machine busy, or another machine: re-run videogen-blas-check --select --force).\n",
                 gflops, min_fraction, choice.gflops);
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  double min_gflops = 10, min_fraction = 0.5;
  int threads = 0, probe_id = -1, max_id = 47;
  bool select = false, force = false, print_value = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (a == "--select") {
      select = true;
    } else if (a == "--force") {
      force = true;
    } else if (a == "--print-value") {
      print_value = true;
    } else if (a == "--min-gflops" && has_value) {
      min_gflops = std::atof(argv[++i]);
    } else if (a == "--min-fraction" && has_value) {
      min_fraction = std::atof(argv[++i]);
    } else if (a == "--threads" && has_value) {
      threads = std::atoi(argv[++i]);
    } else if (a == "--max-id" && has_value) {
      max_id = std::atoi(argv[++i]);
    } else if (a == "--probe" && has_value) {
      probe_id = std::atoi(argv[++i]);
    } else {
      std::fprintf(stderr, "videogen-blas-check: unknown argument '%s'\n%s", a.c_str(), kUsage);
      return 2;
    }
  }
  if (probe_id >= 0) return videogen::RunBlasProbe(probe_id, threads);
  if (select) return Select(threads, max_id, force, print_value);
  return Check(min_gflops, min_fraction, threads);
}
