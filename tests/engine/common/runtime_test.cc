#include "engine/common/runtime.h"

#include <thread>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <gtest/gtest.h>

namespace videogen {
namespace {

TEST(RuntimeTest, UsableCoresIsPositiveAndBoundedByHardware) {
  const int cores = UsableCores();
  EXPECT_GE(cores, 1);
  EXPECT_LE(cores, static_cast<int>(std::thread::hardware_concurrency()));
}

TEST(RuntimeTest, ConfigureSetsThreadCount) {
  ASSERT_TRUE(ConfigureTorchRuntime({.threads = 1}).ok());
  EXPECT_EQ(at::get_num_threads(), 1);
  ASSERT_TRUE(ConfigureTorchRuntime({}).ok());
  EXPECT_EQ(at::get_num_threads(), UsableCores());
}

TEST(RuntimeTest, ConfigureRejectsNegativeThreads) {
  const absl::Status s = ConfigureTorchRuntime({.threads = -1});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("threads"), std::string::npos);
}

TEST(RuntimeTest, Tf32IsOffByDefault) {
  ASSERT_TRUE(ConfigureTorchRuntime({}).ok());
  EXPECT_FALSE(at::globalContext().allowTF32CuBLAS());
  EXPECT_FALSE(at::globalContext().allowTF32CuDNN());
}

// The set-up installs BLIS as libblas.so.3; the reference BLAS is ~100x slower.
TEST(RuntimeTest, BlasIsBlis) {
  at::mm(at::ones({8, 8}), at::ones({8, 8}));
  EXPECT_NE(LoadedBlasLibrary().find("blis"), std::string::npos) << "BLAS in use: " << LoadedBlasLibrary();
}

TEST(RuntimeTest, MatmulMeasurementIsPositive) { EXPECT_GT(MeasureMatmulGflops(64, 2), 0.0); }

}  // namespace
}  // namespace videogen

#include "engine/common/host_memory.h"

namespace videogen {
namespace {

TEST(HostMemoryTest, ProcessFiguresAreConsistent) {
  const uint64_t rss = ProcessRssBytes();
  EXPECT_GT(rss, 1u << 20);  // a LibTorch test binary is well above 1 MiB
  EXPECT_GE(ProcessPeakRssBytes(), rss);
  EXPECT_GE(HostMemoryLimitBytes(), rss);
  EXPECT_GT(HostMemoryAvailableBytes(), 0u);
}

}  // namespace
}  // namespace videogen
