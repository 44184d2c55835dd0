#include "engine/models/common/state_dict.h"

#include <unistd.h>

#include <filesystem>

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/nn/modules/linear.h>

#include "engine/io/safetensors.h"

namespace videogen::models {
namespace {

namespace fs = std::filesystem;

struct NetImpl : torch::nn::Module {
  NetImpl() {
    fc = register_module("fc", torch::nn::Linear(3, 2));
    scale = register_parameter("scale", torch::ones({2}));
  }
  torch::nn::Linear fc{nullptr};
  torch::Tensor scale;
};
TORCH_MODULE(Net);

class StateDictTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = (fs::temp_directory_path() / ("vg_sd_" + std::to_string(::getpid()) + ".safetensors")).string();
  }
  void TearDown() override { fs::remove(path_); }
  std::unique_ptr<io::TensorSource> Write(std::vector<io::NamedTensor> tensors) {
    EXPECT_TRUE(io::WriteSafetensors(path_, std::move(tensors)).ok());
    auto src = io::OpenSafetensors(path_);
    EXPECT_TRUE(src.ok()) << src.status();
    return std::move(*src);
  }
  std::string path_;
};

TEST_F(StateDictTest, LoadsByOfficialNamesAndConvertsDtype) {
  const at::Tensor w = at::randn({2, 3}).to(at::kBFloat16);
  auto src = Write({{"fc.weight", w}, {"fc.bias", at::zeros({2})}, {"scale", at::full({2}, 3.0)}});
  Net net;
  ASSERT_TRUE(LoadStateDict(*net, *src).ok());
  EXPECT_EQ(net->fc->weight.scalar_type(), at::kFloat);
  EXPECT_TRUE(at::equal(net->fc->weight, w.to(at::kFloat)));
  EXPECT_TRUE(at::equal(net->scale, at::full({2}, 3.0)));
}

TEST_F(StateDictTest, MissingAndUnexpectedKeysAreNamed) {
  auto src = Write({{"fc.weight", at::zeros({2, 3})}, {"scale", at::ones({2})}, {"extra.weight", at::ones({1})}});
  Net net;
  const absl::Status s = LoadStateDict(*net, *src);
  ASSERT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("missing keys: fc.bias"), std::string::npos) << s;
  EXPECT_NE(s.message().find("unexpected keys: extra.weight"), std::string::npos) << s;
}

TEST_F(StateDictTest, ShapeMismatchNamesTensorAndShapes) {
  auto src = Write({{"fc.weight", at::zeros({3, 3})}, {"fc.bias", at::zeros({2})}, {"scale", at::ones({2})}});
  Net net;
  const absl::Status s = LoadStateDict(*net, *src);
  ASSERT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("'fc.weight' has shape [3, 3], the model expects [2, 3]"), std::string::npos) << s;
}

TEST_F(StateDictTest, PrefixSelectsOneComponent) {
  auto src = Write({{"model.diffusion_model.fc.weight", at::zeros({2, 3})},
                    {"model.diffusion_model.fc.bias", at::zeros({2})},
                    {"model.diffusion_model.scale", at::ones({2})},
                    {"vae.other", at::ones({1})}});
  Net net;
  LoadOptions o;
  o.prefix = "model.diffusion_model.";
  EXPECT_EQ(LoadStateDict(*net, *src, o).code(), absl::StatusCode::kInvalidArgument);
  o.ignore_outside_prefix = true;
  EXPECT_TRUE(LoadStateDict(*net, *src, o).ok());
}

}  // namespace
}  // namespace videogen::models
