#include "engine/io/safetensors.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

namespace videogen::io {
namespace {

namespace fs = std::filesystem;

class SafetensorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("vg_st_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Path(const std::string& name) const { return (dir_ / name).string(); }
  fs::path dir_;
};

TEST_F(SafetensorsTest, RoundTripKeepsDtypesShapesAndValues) {
  const at::Tensor a = at::randn({3, 5});
  const at::Tensor b = at::arange(10, at::kLong).reshape({2, 5});
  const at::Tensor c = at::randn({4}).to(at::kBFloat16);
  ASSERT_TRUE(WriteSafetensors(Path("m.safetensors"), {{"b", b}, {"a.weight", a}, {"c", c}}, {{"format", "pt"}}).ok());
  auto src = OpenSafetensors(Path("m.safetensors"));
  ASSERT_TRUE(src.ok()) << src.status();
  ASSERT_EQ((*src)->tensors().size(), 3u);
  EXPECT_EQ((*src)->tensors()[0].name, "a.weight");  // sorted by name
  EXPECT_TRUE(at::equal(*(*src)->Read("a.weight"), a));
  EXPECT_TRUE(at::equal(*(*src)->Read("b"), b));
  EXPECT_TRUE(at::equal(*(*src)->Read("c"), c));
  EXPECT_EQ((*src)->Find("c")->dtype, DType::kBF16);
  EXPECT_EQ((*src)->Find("missing"), nullptr);
  EXPECT_EQ((*src)->Read("missing").status().code(), absl::StatusCode::kNotFound);
  auto meta = ReadSafetensorsMetadata(Path("m.safetensors"));
  ASSERT_TRUE(meta.ok());
  EXPECT_EQ(meta->at("format"), "pt");
}

TEST_F(SafetensorsTest, ViewsStayValidAfterSourceAndReleaseAreGone) {
  const at::Tensor a = at::randn({1024, 64});
  ASSERT_TRUE(WriteSafetensors(Path("m.safetensors"), {{"a", a}}).ok());
  at::Tensor view;
  {
    auto src = OpenSafetensors(Path("m.safetensors"));
    ASSERT_TRUE(src.ok());
    view = *(*src)->Read("a");
    (*src)->Release("a");
  }
  EXPECT_TRUE(at::equal(view, a));
}

TEST_F(SafetensorsTest, TruncatedFileNamesFileAndTensor) {
  ASSERT_TRUE(WriteSafetensors(Path("m.safetensors"), {{"first", at::ones({4})}, {"second", at::ones({256})}}).ok());
  fs::resize_file(Path("m.safetensors"), fs::file_size(Path("m.safetensors")) - 100);
  auto src = OpenSafetensors(Path("m.safetensors"));
  ASSERT_EQ(src.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(src.status().message().find("m.safetensors"), std::string::npos);
  EXPECT_NE(src.status().message().find("second"), std::string::npos) << src.status();
}

TEST_F(SafetensorsTest, GarbageAndShortFilesAreDataLoss) {
  std::ofstream(Path("short.safetensors")) << "abc";
  EXPECT_EQ(OpenSafetensors(Path("short.safetensors")).status().code(), absl::StatusCode::kDataLoss);
  std::ofstream out(Path("huge.safetensors"), std::ios::binary);
  const uint64_t n = 1ull << 40;
  out.write(reinterpret_cast<const char*>(&n), 8);
  out << "{}";
  out.close();
  EXPECT_EQ(OpenSafetensors(Path("huge.safetensors")).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(OpenSafetensors(Path("absent.safetensors")).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(SafetensorsTest, ShapeThatDisagreesWithByteRangeIsDataLoss) {
  std::string header = R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})";
  std::ofstream out(Path("bad.safetensors"), std::ios::binary);
  const uint64_t n = header.size();
  out.write(reinterpret_cast<const char*>(&n), 8);
  out << header << std::string(8, '\0');
  out.close();
  auto src = OpenSafetensors(Path("bad.safetensors"));
  ASSERT_EQ(src.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(src.status().message().find("'w'"), std::string::npos);
}

TEST_F(SafetensorsTest, ShardedIndexOpensAllShards) {
  ASSERT_TRUE(WriteSafetensors(Path("m-00001-of-00002.safetensors"), {{"a", at::ones({2})}}).ok());
  ASSERT_TRUE(WriteSafetensors(Path("m-00002-of-00002.safetensors"), {{"b", at::zeros({3})}}).ok());
  std::ofstream(Path("m.safetensors.index.json"))
      << R"({"metadata":{},"weight_map":{"a":"m-00001-of-00002.safetensors","b":"m-00002-of-00002.safetensors"}})";
  auto src = OpenCheckpoint(Path("m.safetensors.index.json"));
  ASSERT_TRUE(src.ok()) << src.status();
  EXPECT_EQ((*src)->tensors().size(), 2u);
  EXPECT_TRUE(at::equal(*(*src)->Read("b"), at::zeros({3})));
}

TEST_F(SafetensorsTest, IndexNamingAbsentTensorIsDataLoss) {
  ASSERT_TRUE(WriteSafetensors(Path("s1.safetensors"), {{"a", at::ones({2})}}).ok());
  std::ofstream(Path("m.safetensors.index.json")) << R"({"weight_map":{"a":"s1.safetensors","z":"s1.safetensors"}})";
  auto src = OpenSafetensorsIndex(Path("m.safetensors.index.json"));
  ASSERT_EQ(src.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(src.status().message().find("'z'"), std::string::npos);
}

TEST_F(SafetensorsTest, DuplicateNamesAcrossShardsAreDataLoss) {
  ASSERT_TRUE(WriteSafetensors(Path("s1.safetensors"), {{"a", at::ones({2})}}).ok());
  ASSERT_TRUE(WriteSafetensors(Path("s2.safetensors"), {{"a", at::ones({2})}}).ok());
  auto src = OpenSafetensorsFiles({Path("s1.safetensors"), Path("s2.safetensors")});
  EXPECT_EQ(src.status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(SafetensorsTest, UnknownExtensionIsInvalidArgument) {
  EXPECT_EQ(OpenCheckpoint(Path("weights.ckpt2")).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace videogen::io
