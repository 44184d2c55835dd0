// ConfigureTorchRuntime() reaches BLIS's own thread count. Its own process:
// BLIS reads BLIS_NUM_THREADS once, at the process's first BLAS call, so that
// call must come after the configuration and nothing else here may make one.
// The evidence is OpenMP's worker threads: Debian's BLIS (libblis4-openmp)
// opens a parallel region of its thread count per GEMM; with one thread (BLIS's
// default, and what this process ran before the fix) libgomp starts none.
#include <dirent.h>
#include <dlfcn.h>

#include <cstdlib>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "engine/common/blas_kernels.h"
#include "engine/common/runtime.h"

namespace videogen {
namespace {

using SgemmFn = void (*)(const char*, const char*, const int*, const int*, const int*, const float*, const float*,
                         const int*, const float*, const int*, const float*, float*, const int*);

int ThreadsOfThisProcess() {
  int n = 0;
  DIR* dir = opendir("/proc/self/task");
  if (dir == nullptr) return -1;
  while (const dirent* e = readdir(dir)) n += e->d_name[0] != '.';
  closedir(dir);
  return n;
}

TEST(BlasThreadsTest, TheFirstGemmAfterConfigurationRunsTwoBlisThreads) {
  if (LoadedBlasLibrary().find("blis") == std::string::npos) {
    GTEST_SKIP() << "the BLAS is not BLIS: " << LoadedBlasLibrary();
  }
  ASSERT_EQ(unsetenv("BLIS_NUM_THREADS"), 0);
  ASSERT_TRUE(ConfigureTorchRuntime({.threads = 2}).ok());
  EXPECT_STREQ(std::getenv("BLIS_NUM_THREADS"), "2");
  auto sgemm = reinterpret_cast<SgemmFn>(dlsym(RTLD_DEFAULT, "sgemm_"));
  ASSERT_NE(sgemm, nullptr);
  const int n = 512;  // large enough that BLIS splits the work between its threads
  std::vector<float> a(n * n, 1.0f), b(n * n, 2.0f), c(n * n, 0.0f);
  const float one = 1, zero = 0;
  const int before = ThreadsOfThisProcess();
  sgemm("N", "N", &n, &n, &n, &one, a.data(), &n, b.data(), &n, &zero, c.data(), &n);
  EXPECT_FLOAT_EQ(c[0], 2.0f * n);
  EXPECT_GT(ThreadsOfThisProcess(), before) << "the GEMM ran on this thread alone";
}

TEST(BlasThreadsTest, AnExplicitBlisNumThreadsWins) {
  ASSERT_EQ(setenv("BLIS_NUM_THREADS", "3", 1), 0);
  EXPECT_EQ(ApplyBlasThreads(2), 3);
  EXPECT_STREQ(std::getenv("BLIS_NUM_THREADS"), "3");
  ASSERT_EQ(unsetenv("BLIS_NUM_THREADS"), 0);
  EXPECT_EQ(ApplyBlasThreads(2), 2);
  EXPECT_EQ(ApplyBlasThreads(1), 1);  // a value this function wrote is its own to change
  EXPECT_STREQ(std::getenv("BLIS_NUM_THREADS"), "1");
}

}  // namespace
}  // namespace videogen
