// The per-machine cache of the BLIS kernel choice: round trip, a file written
// for another machine key is NotFound, a malformed one DataLoss, an explicit
// BLIS_ARCH_TYPE always wins, and the CPU-flags table.
#include "engine/common/blas_kernels.h"

#include <cstdlib>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "tests/support/temp_dir.h"

namespace videogen {
namespace {

TEST(BlasKernelsTest, CacheRoundTripsAndIsKeyedByTheMachine) {
  testing::ScopedTempDir dir("blas_kernels");
  const std::string path = (dir.path() / "sub" / "blas-arch").string();
  BlasKernelChoice choice;
  choice.value = "0";
  choice.name = "skx";
  choice.gflops = 159.3;
  choice.threads = 2;
  ASSERT_TRUE(WriteBlasKernelChoice(path, "machine-a", choice).ok());
  auto read = ReadBlasKernelChoice(path, "machine-a");
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->value, "0");
  EXPECT_EQ(read->name, "skx");
  EXPECT_NEAR(read->gflops, 159.3, 1e-9);
  EXPECT_EQ(read->threads, 2);
  EXPECT_EQ(ReadBlasKernelChoice(path, "machine-b").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(ReadBlasKernelChoice((dir.path() / "absent").string(), "machine-a").status().code(), absl::StatusCode::kNotFound);
  std::ofstream(path, std::ios::trunc) << "garbage without the fields\n";
  const auto bad = ReadBlasKernelChoice(path, "machine-a");
  EXPECT_FALSE(bad.ok());
}

TEST(BlasKernelsTest, AnExplicitEnvironmentValueWins) {
  ASSERT_EQ(::setenv("BLIS_ARCH_TYPE", "25", /*overwrite=*/1), 0);
  const BlasKernelChoice applied = ApplyBlasKernelChoice();
  EXPECT_EQ(applied.source, BlasKernelChoice::Source::kEnvironment);
  EXPECT_EQ(applied.value, "25");
  EXPECT_STREQ(std::getenv("BLIS_ARCH_TYPE"), "25");
  EXPECT_FALSE(DescribeBlasKernelChoice(applied).empty());
}

TEST(BlasKernelsTest, CpuFlagsRuleOutKernelSetsTheCpuCannotRun) {
  const std::set<std::string> avx2 = {"sse2", "avx", "avx2", "fma"};
  const std::set<std::string> avx512 = {"sse2", "avx", "avx2", "fma", "avx512f", "avx512dq", "avx512bw", "avx512vl"};
  EXPECT_FALSE(CpuAllowsBlisKernelSet("skx", avx2));
  EXPECT_TRUE(CpuAllowsBlisKernelSet("skx", avx512));
  EXPECT_TRUE(CpuAllowsBlisKernelSet("haswell", avx2));
  EXPECT_TRUE(CpuAllowsBlisKernelSet("generic", {}));
}

}  // namespace
}  // namespace videogen
