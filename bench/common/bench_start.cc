#include "bench/common/bench_start.h"

#include <cstdio>
#include <cstring>

#include "engine/common/blas_kernels.h"

namespace videogen::bench {

bool BenchStart(int argc, char** argv, const char* usage) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) {
      std::fputs(usage, stdout);
      return true;
    }
  }
  const BlasKernelChoice choice = ApplyBlasKernelChoice();
  std::fprintf(stderr, "blas-kernels: %s\n", DescribeBlasKernelChoice(choice).c_str());
  return false;
}

}  // namespace videogen::bench
