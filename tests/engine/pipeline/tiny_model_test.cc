// EnsureTinyModel: the cache lookup and how it has videogen-make-tiny make a
// missing model (fake makers here; generator_test runs the real one).
#include "engine/pipeline/tiny_model.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/io/model_dir.h"
#include "tests/support/temp_dir.h"

namespace videogen::pipeline {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class TinyModelTest : public ::testing::Test {
 protected:
  void SetUp() override { cache_ = (root_ / "cache").string(); }

  // An executable shell script `name` with `body`; returns its path.
  std::string Script(const std::string& name, const std::string& body) {
    const fs::path path = root_ / name;
    std::ofstream(path) << "#!/bin/sh\n" << body;
    fs::permissions(path, fs::perms::owner_all);
    return path.string();
  }

  // Names in the cache directory (none left behind by a failed make).
  std::string CacheListing() const {
    std::string names;
    for (const auto& e : fs::directory_iterator(cache_)) names += e.path().filename().string() + " ";
    return names;
  }

  videogen::testing::ScopedTempDir tmp_{"vg_tiny"};
  const fs::path root_ = tmp_.path();
  std::string cache_;
};

TEST_F(TinyModelTest, DirectoryIsNamedForTypeAndSeed) {
  TinyModelOptions options;
  options.type = ModelType::kT2V;
  options.seed = 7;
  EXPECT_EQ(TinyModelDir("/c", options), "/c/tiny-t2v-7");
  options.type = ModelType::kI2V;
  EXPECT_EQ(TinyModelDir("/c", options), "/c/tiny-i2v-7");
}

TEST_F(TinyModelTest, AModelInTheCacheIsReturnedWithoutRunningTheMaker) {
  TinyModelOptions options;
  options.make_tiny = (root_ / "no-such-maker").string();
  const fs::path dir = TinyModelDir(cache_, options);
  fs::create_directories(dir);
  std::ofstream(dir / io::kVideogenConfigFile) << "{}";
  auto got = EnsureTinyModel(cache_, options);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, dir.string());
}

TEST_F(TinyModelTest, RunsTheMakerWithTheOptionsThenMovesTheModelIntoPlace) {
  const std::string args = (root_ / "args").string();
  TinyModelOptions options;
  options.type = ModelType::kT2V;
  options.seed = 7;
  options.spm_train = "/opt/spm_train";
  options.make_tiny = Script("maker", "echo \"$@\" > '" + args + "'\nmkdir -p \"$1\"\necho '{}' > \"$1/" +
                                          io::kVideogenConfigFile + "\"\necho wrote\n");
  auto got = EnsureTinyModel(cache_, options);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, TinyModelDir(cache_, options));
  EXPECT_TRUE(fs::is_regular_file(fs::path(*got) / io::kVideogenConfigFile));
  std::ifstream in(args);
  std::stringstream s;
  s << in.rdbuf();
  EXPECT_THAT(s.str(), HasSubstr(" --type t2v --seed 7 --spm-train /opt/spm_train"));
  EXPECT_THAT(s.str(), HasSubstr("/.tmp-tiny-t2v-7-")) << "written into a temporary directory first";
  EXPECT_EQ(CacheListing(), "tiny-t2v-7 ");
}

TEST_F(TinyModelTest, AFailingMakerLeavesNoPartialModel) {
  TinyModelOptions options;
  options.make_tiny = Script("maker", "mkdir -p \"$1\"\necho '{}' > \"$1/" + std::string(io::kVideogenConfigFile) +
                                          "\"\necho 'spm_train is missing' >&2\nexit 3\n");
  auto got = EnsureTinyModel(cache_, options);
  EXPECT_EQ(got.status().code(), absl::StatusCode::kFailedPrecondition) << got.status();
  EXPECT_THAT(got.status().message(), HasSubstr(options.make_tiny));
  EXPECT_THAT(got.status().message(), HasSubstr("exit 3"));
  EXPECT_THAT(got.status().message(), HasSubstr("spm_train is missing"));
  EXPECT_EQ(CacheListing(), "");
}

TEST_F(TinyModelTest, AMissingMakerIsAFailedPreconditionNamingIt) {
  TinyModelOptions options;
  options.make_tiny = (root_ / "no-such-maker").string();
  auto got = EnsureTinyModel(cache_, options);
  EXPECT_EQ(got.status().code(), absl::StatusCode::kFailedPrecondition) << got.status();
  EXPECT_THAT(got.status().message(), HasSubstr("videogen-make-tiny"));
  EXPECT_THAT(got.status().message(), HasSubstr(options.make_tiny));
  EXPECT_EQ(CacheListing(), "");
}

TEST_F(TinyModelTest, AMakerNameIsSearchedOnPath) {
  TinyModelOptions options;
  options.make_tiny = "videogen-no-such-maker-on-path";
  auto got = EnsureTinyModel(cache_, options);
  EXPECT_EQ(got.status().code(), absl::StatusCode::kFailedPrecondition) << got.status();
  EXPECT_THAT(got.status().message(), HasSubstr("videogen-no-such-maker-on-path) is not on PATH"));
}

}  // namespace
}  // namespace videogen::pipeline
