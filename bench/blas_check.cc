// videogen-blas-check [--min-gflops N] [--threads N]
// Set-up check run by scripts/test: fp32 1024^3 GEMM throughput through
// LibTorch must exceed N GFLOP/s (default 10; Debian's reference BLAS gives
// ~2, BLIS's generic kernels 28-36 on these 2-core VMs, its tuned ones more),
// in the best of up to three measurements.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include <ATen/Parallel.h>

#include "engine/common/runtime.h"

int main(int argc, char** argv) {
  double min_gflops = 10;
  int threads = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--min-gflops") == 0) min_gflops = std::atof(argv[i + 1]);
    if (std::strcmp(argv[i], "--threads") == 0) threads = std::atoi(argv[i + 1]);
  }
  if (auto s = videogen::ConfigureTorchRuntime({.threads = threads}); !s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    return 2;
  }
  // The best of up to three rounds: a slow BLAS is ~10x under the bar, while a
  // busy machine only makes one round slow.
  double gflops = 0;
  for (int round = 0; round < 3 && gflops < min_gflops; ++round) {
    gflops = std::max(gflops, videogen::MeasureMatmulGflops(1024, 5));
  }
  const std::string blas = videogen::LoadedBlasLibrary();
  std::printf("blas-check: fp32 1024x1024x1024 matmul %.1f GFLOP/s with %d thread(s); BLAS: %s\n", gflops,
              at::get_num_threads(), blas.empty() ? "(none found)" : blas.c_str());
  if (gflops < min_gflops) {
    std::fprintf(stderr,
                 "blas-check: FAILED: %.1f < %.1f GFLOP/s. Install libblis4-openmp and select it as libblas.so.3 "
                 "(scripts/bootstrap does both).\n",
                 gflops, min_gflops);
    return 1;
  }
  return 0;
}
