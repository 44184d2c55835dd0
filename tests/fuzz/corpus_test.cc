// Replays the fuzz corpora (tests/fuzz/corpus/<target>/: the seeds and every
// input a fuzzer once failed on) through the fuzz targets in the normal build,
// so a regression shows in ctest without clang or libFuzzer.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/fuzz/fuzz_targets.h"

namespace videogen::fuzz {
namespace {

using Target = std::string (*)(const uint8_t*, size_t);

// Runs every file of tests/fuzz/corpus/`name` (tests run from the source root); returns how many.
int Replay(const std::string& name, Target target) {
  const std::filesystem::path dir = std::filesystem::path("tests/fuzz/corpus") / name;
  int count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::ifstream in(entry.path(), std::ios::binary);
    std::ostringstream bytes;
    bytes << in.rdbuf();
    const std::string data = bytes.str();
    EXPECT_EQ(target(reinterpret_cast<const uint8_t*>(data.data()), data.size()), "") << entry.path();
    ++count;
  }
  return count;
}

TEST(FuzzCorpusTest, GenerateVideoRequest) { EXPECT_GT(Replay("request", FuzzGenerateVideoRequest), 0); }
TEST(FuzzCorpusTest, Image) { EXPECT_GT(Replay("image", FuzzImage), 0); }
TEST(FuzzCorpusTest, Safetensors) { EXPECT_GT(Replay("safetensors", FuzzSafetensors), 0); }
TEST(FuzzCorpusTest, Pth) { EXPECT_GT(Replay("pth", FuzzPth), 0); }

}  // namespace
}  // namespace videogen::fuzz
