#include "client/video_assembler.h"

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

namespace videogen::client {
namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool Exists(const std::string& path) { return access(path.c_str(), F_OK) == 0; }

class VideoAssemblerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/video_assembler_test_" + std::to_string(getpid());
    mkdir(dir_.c_str(), 0755);
    path_ = dir_ + "/out.mp4";
    unlink(path_.c_str());
  }
  void TearDown() override {
    unlink(path_.c_str());
    rmdir(dir_.c_str());
  }
  std::unique_ptr<VideoAssembler> Make() {
    VideoAssemblerOptions options;
    options.output_path = path_;
    auto a = VideoAssembler::Create(options);
    EXPECT_TRUE(a.ok()) << a.status();
    return std::move(a).value();
  }
  std::string dir_, path_;
};

TEST(Sha256Test, KnownVector) {
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST_F(VideoAssemblerTest, WritesAtomicallyAfterVerification) {
  auto a = Make();
  const std::string temp = a->temp_path();
  EXPECT_TRUE(Exists(temp));
  ASSERT_TRUE(a->Append(0, "hello ").ok());
  ASSERT_TRUE(a->Append(6, "world").ok());
  EXPECT_EQ(a->next_offset(), 11u);
  EXPECT_FALSE(Exists(path_)) << "nothing at the destination before Finish";
  const std::string sha = Sha256Hex("hello world");
  EXPECT_EQ(a->Sha256Hex(), sha);
  ASSERT_TRUE(a->Finish(11, sha).ok());
  EXPECT_EQ(ReadAll(path_), "hello world");
  EXPECT_FALSE(Exists(temp));
  a.reset();
  EXPECT_TRUE(Exists(path_)) << "a finished file survives the assembler";
}

TEST_F(VideoAssemblerTest, ResentPrefixIsSkippedAndGapIsDataLoss) {
  auto a = Make();
  ASSERT_TRUE(a->Append(0, "abcd").ok());
  ASSERT_TRUE(a->Append(2, "cdef").ok());  // re-attached stream resends from 2
  ASSERT_TRUE(a->Append(0, "ab").ok());    // entirely known
  EXPECT_EQ(a->next_offset(), 6u);
  const absl::Status gap = a->Append(8, "ij");
  EXPECT_EQ(gap.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(gap.message().find("gap"), absl::string_view::npos) << gap;
  ASSERT_TRUE(a->Append(6, "gh").ok());
  ASSERT_TRUE(a->Finish(8, Sha256Hex("abcdefgh")).ok());
  EXPECT_EQ(ReadAll(path_), "abcdefgh");
}

TEST_F(VideoAssemblerTest, ShaMismatchLeavesNothing) {
  auto a = Make();
  const std::string temp = a->temp_path();
  ASSERT_TRUE(a->Append(0, "abc").ok());
  const absl::Status s = a->Finish(3, Sha256Hex("abd"));
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(s.message().substr(0, 7), "sha256:") << s;
  EXPECT_FALSE(Exists(path_));
  EXPECT_FALSE(Exists(temp));
  EXPECT_EQ(a->Append(3, "x").code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(VideoAssemblerTest, SizeMismatchNamesBytes) {
  auto a = Make();
  ASSERT_TRUE(a->Append(0, "abc").ok());
  const absl::Status s = a->Finish(4, Sha256Hex("abc"));
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(s.message().substr(0, 6), "bytes:") << s;
  EXPECT_FALSE(Exists(path_));
}

TEST_F(VideoAssemblerTest, DestroyingUnfinishedRemovesTempAndKeepsOldFile) {
  { std::ofstream(path_) << "old"; }
  auto a = Make();
  const std::string temp = a->temp_path();
  ASSERT_TRUE(a->Append(0, "partial").ok());
  a.reset();
  EXPECT_FALSE(Exists(temp));
  EXPECT_EQ(ReadAll(path_), "old");
}

TEST_F(VideoAssemblerTest, UnwritableDirectoryIsAnError) {
  VideoAssemblerOptions options;
  options.output_path = dir_ + "/missing/sub/out.mp4";
  auto a = VideoAssembler::Create(options);
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(a.status().message().substr(0, 7), "output:") << a.status();
}

TEST(VideoAssemblerNoFileTest, VerifiesWithoutWriting) {
  auto a = VideoAssembler::Create(VideoAssemblerOptions{});
  ASSERT_TRUE(a.ok());
  EXPECT_EQ((*a)->temp_path(), "");
  ASSERT_TRUE((*a)->Append(0, "xyz").ok());
  EXPECT_EQ((*a)->Finish(3, Sha256Hex("xy")).code(), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace videogen::client
