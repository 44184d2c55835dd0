#include "engine/synth/pth_writer.h"

#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "engine/io/pth.h"
#include "engine/io/safetensors.h"
#include "tests/support/temp_dir.h"

namespace videogen::synth {
namespace {

namespace fs = std::filesystem;

class PthWriterTest : public ::testing::Test {
 protected:
  videogen::testing::ScopedTempDir tmp_{"vg_pth_writer"};
  const fs::path dir_ = tmp_.path();
  std::string Path(const std::string& name) const { return (dir_ / name).string(); }

};

TEST_F(PthWriterTest, WritePthRoundTripsEveryDtype) {
  const std::vector<io::NamedTensor> tensors = {
      {"a.weight", at::randn({3, 5})},
      {"b.half", at::randn({4}).to(at::kHalf)},
      {"b.bf16", at::randn({2, 3}).to(at::kBFloat16)},
      {"c.ids", at::arange(7, at::kLong)},
      {"d.view", at::randn({6, 4}).t()},  // non-contiguous: written as a contiguous copy
  };
  const std::string path = Path("written.pth");
  ASSERT_TRUE(WritePth(path, tensors).ok());
  auto source = io::OpenPth(path);
  ASSERT_TRUE(source.ok()) << source.status();
  ASSERT_EQ((*source)->tensors().size(), tensors.size());
  for (const io::NamedTensor& nt : tensors) {
    auto t = (*source)->Read(nt.name);
    ASSERT_TRUE(t.ok()) << nt.name << ": " << t.status();
    EXPECT_EQ(t->scalar_type(), nt.tensor.scalar_type()) << nt.name;
    EXPECT_TRUE(at::equal(*t, nt.tensor)) << nt.name;
  }
}

TEST_F(PthWriterTest, WritePthRejectsDuplicateNames) {
  const absl::Status s = WritePth(Path("dup.pth"), {{"x", at::ones({1})}, {"x", at::ones({1})}});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("x: duplicate"), std::string::npos) << s;
}

}  // namespace
}  // namespace videogen::synth
