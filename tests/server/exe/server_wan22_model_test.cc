// The real videogen-server binary with the embedded tiny Wan2.2 models:
// TI2V (`tiny-ti2v`: text only or an image as latent frame 0, 24 fps) and the
// A14B expert pairs (`tiny-t2v-a14b`, `tiny-i2v-a14b`): ListModels reports
// their defaults and both experts, the progress names each step's expert, and
// the videos decode (ffprobe).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "server/service/sha256.h"
#include "tests/server/exe/test_util.h"

namespace videogen::testing {
namespace {

using ::testing::HasSubstr;

v1::Model OnlyModel(v1::VideoGeneration::Stub& stub) {
  grpc::ClientContext ctx;
  v1::ListModelsResponse models;
  EXPECT_TRUE(stub.ListModels(&ctx, v1::ListModelsRequest(), &models).ok());
  EXPECT_EQ(models.models_size(), 1);
  return models.models_size() > 0 ? models.models(0) : v1::Model();
}

// The expert names of the denoising progress events, in arrival order.
std::vector<std::string> Experts(const JobStream& s) {
  std::vector<std::string> out;
  for (const auto& e : s.events) {
    if (e.has_progress() && e.progress().stage() == v1::DENOISING && !e.progress().expert().empty()) {
      out.push_back(e.progress().expert());
    }
  }
  return out;
}

TEST(ServerWan22ModelTest, TextImageToVideoWithAndWithoutAnImage) {
  auto server = ServerProcess::Start({"--model", "tiny-ti2v"});
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = Connect(**server);
  const v1::Model model = OnlyModel(*stub);
  EXPECT_EQ(model.type(), "ti2v");
  EXPECT_DOUBLE_EQ(model.defaults().fps(), 24.0);
  EXPECT_FALSE(model.defaults().has_guidance_scale_high_noise());

  v1::GenerateVideoRequest text;
  text.set_model("tiny-ti2v");
  text.set_prompt("a kingfisher dives");
  text.set_width(64);
  text.set_height(32);
  text.set_num_frames(5);
  text.set_steps(2);
  text.set_seed(3);
  JobStream t = Generate(*stub, text);
  ASSERT_TRUE(t.status.ok()) << t.status.error_message();
  ASSERT_NE(t.completed(), nullptr);
  EXPECT_EQ(t.completed()->sha256(), service::Sha256Hex(t.video));
  auto probe = Probe(t.video);
  EXPECT_EQ(probe["nb_read_frames"], "5");
  EXPECT_EQ(probe["width"], "64");
  EXPECT_EQ(probe["height"], "32");
  EXPECT_EQ(probe["r_frame_rate"], "24/1");
  EXPECT_TRUE(Experts(t).empty());

  v1::GenerateVideoRequest with_image = text;
  with_image.clear_width();
  with_image.clear_height();
  with_image.set_image(ExampleImage());
  with_image.set_max_area(64 * 64);
  JobStream i = Generate(*stub, with_image);
  ASSERT_TRUE(i.status.ok()) << i.status.error_message();
  bool image_encoding = false;
  for (const auto& e : i.events) image_encoding |= e.has_progress() && e.progress().stage() == v1::IMAGE_ENCODING;
  EXPECT_TRUE(image_encoding);
  probe = Probe(i.video);
  EXPECT_EQ(probe["nb_read_frames"], "5");
  EXPECT_EQ(std::stoi(probe["width"]) % 32, 0);
  EXPECT_EQ(std::stoi(probe["height"]) % 32, 0);

  // A width that is not a multiple of 32 (VAE stride 16 x patch 2), and a last frame, are refused by name.
  v1::GenerateVideoRequest odd = text;
  odd.set_width(48);
  JobStream bad = Generate(*stub, odd);
  EXPECT_EQ(bad.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(bad.status.error_message(), HasSubstr("width"));
  v1::GenerateVideoRequest last = with_image;
  last.set_last_frame(ExampleImage());
  JobStream refused = Generate(*stub, last);
  EXPECT_EQ(refused.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(refused.status.error_message(), HasSubstr("last_frame:"));
  EXPECT_EQ((*server)->SignalAndWait(SIGTERM), 0);
}

TEST(ServerWan22ModelTest, TextToVideoA14BRunsBothExpertsHighNoiseFirst) {
  auto server = ServerProcess::Start({"--model", "tiny-t2v-a14b"});
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = Connect(**server);
  const v1::Model model = OnlyModel(*stub);
  EXPECT_EQ(model.type(), "t2v");
  ASSERT_TRUE(model.defaults().has_guidance_scale_high_noise());
  EXPECT_DOUBLE_EQ(model.defaults().guidance_scale_high_noise(), 4.0);
  EXPECT_DOUBLE_EQ(model.defaults().guidance_scale(), 3.0);
  EXPECT_DOUBLE_EQ(model.defaults().expert_boundary(), 0.875);
  EXPECT_DOUBLE_EQ(model.defaults().shift(), 12.0);
  bool high = false, low = false;
  for (const auto& g : model.resident()) {
    high |= g.component() == "dit" && g.bytes() > 0;
    low |= g.component() == "dit_low_noise" && g.bytes() > 0;
  }
  EXPECT_TRUE(high && low) << model.DebugString();

  v1::GenerateVideoRequest request;
  request.set_model("tiny-t2v-a14b");
  request.set_prompt("a sailboat in a storm");
  request.set_width(64);
  request.set_height(32);
  request.set_num_frames(5);
  request.set_steps(6);
  request.set_seed(77);
  JobStream s = Generate(*stub, request);
  ASSERT_TRUE(s.status.ok()) << s.status.error_message();
  ASSERT_NE(s.completed(), nullptr);
  EXPECT_EQ(Probe(s.video)["nb_read_frames"], "5");
  // Every step reports its expert; events may be coalesced, but the order
  // holds: high-noise steps, then low-noise ones, never back.
  const std::vector<std::string> experts = Experts(s);
  ASSERT_FALSE(experts.empty());
  for (const std::string& e : experts) EXPECT_TRUE(e == "high_noise" || e == "low_noise") << e;
  for (size_t i = 1; i < experts.size(); ++i) {
    EXPECT_FALSE(experts[i - 1] == "low_noise" && experts[i] == "high_noise") << "step event " << i;
  }
  EXPECT_EQ((*server)->SignalAndWait(SIGTERM), 0);
}

TEST(ServerWan22ModelTest, ImageToVideoA14BNeedsAnImageAndNoClip) {
  auto server = ServerProcess::Start({"--model", "tiny-i2v-a14b"});
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = Connect(**server);
  const v1::Model model = OnlyModel(*stub);
  EXPECT_EQ(model.type(), "i2v");
  EXPECT_DOUBLE_EQ(model.defaults().expert_boundary(), 0.9);
  for (const auto& g : model.resident()) EXPECT_NE(g.component(), "clip");

  v1::GenerateVideoRequest request;
  request.set_model("tiny-i2v-a14b");
  request.set_prompt("a fox runs through snow");
  request.set_image(ExampleImage());
  request.set_max_area(64 * 48);
  request.set_num_frames(5);
  request.set_steps(3);
  JobStream s = Generate(*stub, request);
  ASSERT_TRUE(s.status.ok()) << s.status.error_message();
  EXPECT_EQ(Probe(s.video)["nb_read_frames"], "5");
  request.clear_image();
  JobStream missing = Generate(*stub, request);
  EXPECT_EQ(missing.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(missing.status.error_message(), HasSubstr("image:"));
}

}  // namespace
}  // namespace videogen::testing
