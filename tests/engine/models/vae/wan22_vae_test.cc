// Unit tests of the Wan2.2 VAE behind WanVae (engine/models/vae/wan_vae.h) on
// the tiny VAE of the golden vae22_decode fixture: config parsing, argument
// errors, chunk shapes and progress, tiled vs untiled decode, and the
// parameter-free blocks (patchify, AvgDown3D / DupUp3D). Equality with the
// reference is the golden test's (videogen-verify on vae22_encode / vae22_decode).
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "engine/models/vae/vae22_blocks.h"
#include "engine/models/vae/vae_config.h"
#include "engine/models/vae/wan_vae.h"
#include "tests/support/golden.h"

namespace videogen::models::vae {
namespace {

using ::testing::HasSubstr;

std::string FixtureDir() { return videogen::testing::GoldenDir() + "/vae22_decode"; }

nlohmann::json FixtureConfig() {
  std::ifstream in(FixtureDir() + "/fixture.json");
  EXPECT_TRUE(in) << "missing " << FixtureDir();
  if (!in) return nlohmann::json::object();
  return nlohmann::json::parse(in).at("config");
}

void ExpectInvalid(const absl::Status& status, const std::string& needle) {
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_THAT(std::string(status.message()), HasSubstr(needle));
}

torch::Tensor Randn(std::vector<int64_t> shape, uint64_t seed) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  return at::randn(shape, gen, at::TensorOptions().dtype(at::kFloat));
}

TEST(Wan22VaeConfigTest, OfficialConfigAndStrides) {
  const VaeConfig config = VaeConfig::Wan22();
  EXPECT_EQ(config.version, VaeVersion::kWan22);
  EXPECT_EQ(config.dim, 160);
  EXPECT_EQ(config.dec_dim, 256);
  EXPECT_EQ(config.z_dim, 48);
  EXPECT_EQ(config.dim_mult, (std::vector<int64_t>{1, 2, 4, 4}));
  EXPECT_EQ(config.temperal_downsample, (std::vector<bool>{false, true, true}));
  EXPECT_TRUE(config.Validate().ok()) << config.Validate();
  EXPECT_EQ(config.patch_size(), 2);
  EXPECT_EQ(config.spatial_stride(), 16);
  EXPECT_EQ(config.temporal_stride(), 4);
  EXPECT_EQ(VaeConfig::Wan21().spatial_stride(), 8);
  EXPECT_EQ(VaeConfig::Wan21().temporal_stride(), 4);
}

TEST(Wan22VaeConfigTest, FromJsonTellsTheVersionByDecDim) {
  const nlohmann::json json = FixtureConfig();
  auto detected = VaeConfig::FromJson(json);
  ASSERT_TRUE(detected.ok()) << detected.status();
  EXPECT_EQ(detected->version, VaeVersion::kWan22);
  EXPECT_EQ(detected->dec_dim, 4);
  EXPECT_EQ(detected->z_dim, 48);
  EXPECT_EQ(detected->spatial_stride(), 16);

  // A Wan2.1 config has no dec_dim; a Wan2.2 one needs it.
  ExpectInvalid(VaeConfig::FromJson(json, VaeVersion::kWan21).status(), "dec_dim");
  nlohmann::json without = json;
  without.erase("dec_dim");
  ExpectInvalid(VaeConfig::FromJson(without, VaeVersion::kWan22).status(), "dec_dim");
  auto wan21 = VaeConfig::FromJson(without);
  ASSERT_TRUE(wan21.ok()) << wan21.status();
  EXPECT_EQ(wan21->version, VaeVersion::kWan21);
  EXPECT_EQ(wan21->spatial_stride(), 8);

  VaeConfig bad = *detected;
  bad.dec_dim = 0;
  ExpectInvalid(bad.Validate(), "dec_dim");
  bad = VaeConfig::Wan21();
  bad.dec_dim = 256;
  ExpectInvalid(bad.Validate(), "dec_dim");
  // The level shortcuts need channel counts that divide: 1 -> 3 cannot be averaged.
  bad = *detected;
  bad.dim_mult = {1, 3, 4, 4};
  ExpectInvalid(bad.Validate(), "dim_mult");
}

TEST(Wan22VaeConfigTest, CreateNeeds48LatentChannels) {
  auto config = VaeConfig::FromJson(FixtureConfig());
  ASSERT_TRUE(config.ok()) << config.status();
  WanVaeOptions options;
  options.config = *config;
  options.config.z_dim = 16;
  ExpectInvalid(WanVae::Open(FixtureDir() + "/weights.safetensors", options).status(), "z_dim");
  // Wan2.1 weights do not load into the Wan2.2 module (and vice versa).
  options.config = *config;
  const std::string wan21_weights = videogen::testing::GoldenDir() + "/vae_decode/weights.safetensors";
  EXPECT_EQ(WanVae::Open(wan21_weights, options).status().code(), absl::StatusCode::kInvalidArgument);
}

// rearrange 'b c f (h q) (w r) -> b (c r q) f h w': channel c * 4 + r * 2 + q.
TEST(Wan22BlocksTest, PatchifyLayoutAndInverse) {
  const torch::Tensor x = Randn({2, 3, 2, 4, 6}, 1);
  const torch::Tensor p = Patchify(x, 2);
  ASSERT_EQ(p.sizes(), (c10::IntArrayRef{2, 12, 2, 2, 3}));
  for (int64_t c = 0; c < 3; ++c) {
    for (int64_t r = 0; r < 2; ++r) {
      for (int64_t q = 0; q < 2; ++q) {
        const torch::Tensor expected = x.select(1, c).slice(2, q, 4, 2).slice(3, r, 6, 2);
        EXPECT_TRUE(at::equal(p.select(1, c * 4 + r * 2 + q), expected)) << c << r << q;
      }
    }
  }
  EXPECT_TRUE(at::equal(Unpatchify(p, 2), x));
  EXPECT_TRUE(at::equal(Patchify(x, 1), x));
}

// DupUp3D copies each value into a block that AvgDown3D averages back.
TEST(Wan22BlocksTest, AvgDownUndoesDupUp) {
  const torch::Tensor x = Randn({1, 8, 3, 2, 2}, 2);
  const torch::Tensor up = DupUp3D(x, 4, /*factor_t=*/2, /*factor_s=*/2, /*first_chunk=*/false);
  ASSERT_EQ(up.sizes(), (c10::IntArrayRef{1, 4, 6, 4, 4}));
  EXPECT_TRUE(at::allclose(AvgDown3D(up, 8, 2, 2), x, 1e-6, 1e-6));
  // The first chunk drops factor_t - 1 leading frames.
  const torch::Tensor first = DupUp3D(x, 4, 2, 2, /*first_chunk=*/true);
  EXPECT_TRUE(at::equal(first, up.narrow(2, 1, 5)));
  // AvgDown3D zero-pads the front of time to a multiple of factor_t.
  const torch::Tensor one = Randn({1, 2, 1, 2, 2}, 3);
  EXPECT_EQ(AvgDown3D(one, 16, 2, 2).sizes(), (c10::IntArrayRef{1, 16, 1, 1, 1}));
  const torch::Tensor padded = AvgDown3D(one, 2, 2, 1);  // groups of (zero frame, frame 0)
  EXPECT_TRUE(at::allclose(padded, one * 0.5, 1e-6, 1e-6));
}

class Wan22VaeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto config = VaeConfig::FromJson(FixtureConfig());
    ASSERT_TRUE(config.ok()) << config.status();
    WanVaeOptions options;
    options.config = *config;
    auto vae = WanVae::Open(FixtureDir() + "/weights.safetensors", options);
    ASSERT_TRUE(vae.ok()) << vae.status();
    vae_ = std::move(*vae).release();
  }
  static void TearDownTestSuite() {
    delete vae_;
    vae_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(vae_, nullptr); }

  static WanVae* vae_;
};
WanVae* Wan22VaeTest::vae_ = nullptr;

TEST_F(Wan22VaeTest, BadInputsNameTheirIndex) {
  const torch::Tensor latent = Randn({48, 1, 2, 2}, 4);
  ExpectInvalid(vae_->Decode({latent, Randn({16, 1, 2, 2}, 4)}).status(), "latents[1]");
  ExpectInvalid(vae_->Decode({Randn({16, 1, 2, 2}, 4)}).status(), "48 channels");
  ExpectInvalid(vae_->Decode({latent.to(at::kLong)}).status(), "latents[0]");

  const torch::Tensor video = at::zeros({3, 5, 16, 32});
  ExpectInvalid(vae_->Encode({video, at::zeros({3, 5, 24, 32})}).status(), "videos[1]");
  ExpectInvalid(vae_->Encode({at::zeros({3, 5, 16, 40})}).status(), "multiples of 16");
  ExpectInvalid(vae_->Encode({at::zeros({3, 5, 8, 8})}).status(), "videos[0]");
  ExpectInvalid(vae_->Encode({at::zeros({12, 5, 8, 8})}).status(), "videos[0]");
  ExpectInvalid(vae_->Encode({video, at::zeros({3, 4, 16, 32})}).status(), "videos[1]");
}

TEST_F(Wan22VaeTest, ChunkShapesAndProgress) {
  std::vector<std::pair<int, int>> calls;
  EncodeOptions encode;
  encode.progress = [&](int done, int total) { calls.emplace_back(done, total); };
  auto latents = vae_->Encode({Randn({3, 9, 32, 16}, 5).clamp(-1, 1)}, encode);
  ASSERT_TRUE(latents.ok()) << latents.status();
  EXPECT_EQ((*latents)[0].sizes(), (c10::IntArrayRef{48, 3, 2, 1}));
  EXPECT_EQ(calls, (std::vector<std::pair<int, int>>{{1, 3}, {2, 3}, {3, 3}}));

  calls.clear();
  DecodeOptions decode;
  decode.progress = encode.progress;
  auto videos = vae_->Decode({(*latents)[0]}, decode);
  ASSERT_TRUE(videos.ok()) << videos.status();
  EXPECT_EQ((*videos)[0].sizes(), (c10::IntArrayRef{3, 9, 32, 16}));
  EXPECT_EQ(calls, (std::vector<std::pair<int, int>>{{1, 3}, {2, 3}, {3, 3}}));
  EXPECT_LE((*videos)[0].abs().max().item<float>(), 1.0f);

  // Normalize / Denormalize use the 48 Wan2_2_VAE constants (mean[0] = -0.2289, std[0] = 0.4765).
  const torch::Tensor zeros = at::zeros({48, 1, 1, 1});
  EXPECT_NEAR(vae_->Normalize(zeros)[0].item<float>(), 0.2289 / 0.4765, 1e-5);
  EXPECT_TRUE(
      at::allclose(vae_->Denormalize(vae_->Normalize(Randn({48, 2, 1, 1}, 6))), Randn({48, 2, 1, 1}, 6), 1e-5, 1e-5));
}

// Measured with this fixture's random tiny VAE, latent [48, 2, 8, 8]
// (videos [3, 5, 128, 128], clamped):
//   tile 4 overlap 2: max_abs 1.841, rel_l2 0.436
//   tile 6 overlap 4: max_abs 1.320, rel_l2 0.296
// As for Wan2.1, the decoder's middle AttentionBlock spans the whole frame, so
// tiles of an untrained VAE differ visibly; the bounds are regression guards
// (measured plus ~30%, max_abs capped below 2, the range of clamped videos),
// and the single-tile and one-tile-only regions must be exact.
TEST_F(Wan22VaeTest, TiledDecodeApproximatesUntiledDecode) {
  const torch::Tensor z = Randn({48, 2, 8, 8}, 7);
  auto whole = vae_->Decode({z});
  ASSERT_TRUE(whole.ok()) << whole.status();
  ASSERT_EQ((*whole)[0].sizes(), (c10::IntArrayRef{3, 5, 128, 128}));
  struct Case {
    int tile, overlap;
    double max_abs, rel_l2;
  };
  for (const Case& c : {Case{4, 2, 1.99, 0.57}, Case{6, 4, 1.75, 0.39}}) {
    DecodeOptions options;
    options.tile_latent_size = c.tile;
    options.tile_overlap = c.overlap;
    auto tiled = vae_->Decode({z}, options);
    ASSERT_TRUE(tiled.ok()) << tiled.status();
    ASSERT_EQ((*tiled)[0].sizes(), (*whole)[0].sizes());
    const double max_abs = ((*tiled)[0] - (*whole)[0]).abs().max().item<double>();
    const double rel_l2 = videogen::testing::RelL2((*tiled)[0], (*whole)[0]);
    std::cout << "wan2.2 tiled (tile " << c.tile << ", overlap " << c.overlap << ") vs untiled: max_abs " << max_abs
              << " rel_l2 " << rel_l2 << "\n";
    EXPECT_GT(max_abs, 0.0);  // tiling is not a no-op
    EXPECT_LT(max_abs, c.max_abs);
    EXPECT_LT(rel_l2, c.rel_l2);
  }

  // One tile covering the latent is the untiled decode, and pixels seen by
  // one tile only (the top-left 16 * (tile - overlap) square) are that tile's decode.
  DecodeOptions one_tile;
  one_tile.tile_latent_size = 8;
  one_tile.tile_overlap = 2;
  auto same = vae_->Decode({z}, one_tile);
  ASSERT_TRUE(same.ok()) << same.status();
  EXPECT_TRUE(at::equal((*same)[0], (*whole)[0]));
  DecodeOptions tiles;
  tiles.tile_latent_size = 4;
  tiles.tile_overlap = 2;
  auto tiled = vae_->Decode({z}, tiles);
  auto corner = vae_->Decode({z.narrow(2, 0, 4).narrow(3, 0, 4).contiguous()});
  ASSERT_TRUE(tiled.ok() && corner.ok());
  EXPECT_TRUE(at::allclose((*tiled)[0].narrow(2, 0, 32).narrow(3, 0, 32),
                           (*corner)[0].narrow(2, 0, 32).narrow(3, 0, 32), 1e-6, 1e-6));
}

}  // namespace
}  // namespace videogen::models::vae
