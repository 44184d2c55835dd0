#include "client/request.h"

#include <cstdio>
#include <fstream>
#include <functional>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace videogen::client {
namespace {

TEST(ParseSizeTest, AcceptsWidthByHeight) {
  absl::StatusOr<Size> size = ParseSize("832x480");
  ASSERT_TRUE(size.ok()) << size.status();
  EXPECT_EQ(size->width, 832u);
  EXPECT_EQ(size->height, 480u);
  size = ParseSize("64X48");
  ASSERT_TRUE(size.ok()) << size.status();
  EXPECT_EQ(size->width, 64u);
  EXPECT_EQ(size->height, 48u);
}

TEST(ParseSizeTest, RejectsMalformedNamingTheField) {
  for (const char* bad : {"", "832", "832x", "x480", "832x480x2", "-832x480", "832x-480", "0x480", "832x0",
                          "8 32x480", "832*480", "abcxdef", "1234567890x16"}) {
    absl::StatusOr<Size> size = ParseSize(bad);
    ASSERT_FALSE(size.ok()) << bad;
    EXPECT_EQ(size.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(size.status().message().substr(0, 5), "size:") << size.status();
  }
}

TEST(ParseSamplerTest, NamesAndErrors) {
  EXPECT_EQ(*ParseSampler("unipc"), v1::UNIPC);
  EXPECT_EQ(*ParseSampler("DPMPP"), v1::DPMPP);
  EXPECT_EQ(*ParseSampler("euler"), v1::EULER);
  EXPECT_EQ(*ParseSampler("step-distill"), v1::STEP_DISTILL);
  absl::StatusOr<v1::Sampler> bad = ParseSampler("ddim");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("sampler"), absl::string_view::npos);
}

TEST(ParseFormatTest, NamesExtensionsAndErrors) {
  EXPECT_EQ(*ParseFormat("mp4"), v1::MP4_H264);
  EXPECT_EQ(*ParseFormat("WebM"), v1::WEBM_VP9);
  EXPECT_EQ(ParseFormat("gif").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(FormatForPath("out/a.webm"), v1::WEBM_VP9);
  EXPECT_EQ(FormatForPath("out/a.WEBM"), v1::WEBM_VP9);
  EXPECT_EQ(FormatForPath("out/a.mp4"), v1::MP4_H264);
  EXPECT_EQ(FormatForPath("noext"), v1::MP4_H264);
}

GenerateFlags BasicFlags() {
  GenerateFlags f;
  f.prompt = "a cat";
  f.output_path = "out.mp4";
  return f;
}

TEST(BuildGenerateRequestTest, UnsetFlagsStayAbsent) {
  absl::StatusOr<v1::GenerateVideoRequest> r = BuildGenerateRequest(BasicFlags());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->prompt(), "a cat");
  EXPECT_FALSE(r->has_width());
  EXPECT_FALSE(r->has_height());
  EXPECT_FALSE(r->has_num_frames());
  EXPECT_FALSE(r->has_steps());
  EXPECT_FALSE(r->has_seed());
  EXPECT_FALSE(r->has_negative_prompt());
  EXPECT_EQ(r->sampler(), v1::SAMPLER_UNSPECIFIED);
  EXPECT_EQ(r->format(), v1::MP4_H264);
  EXPECT_TRUE(r->image().empty());
  EXPECT_EQ(r->client_request_id().size(), 32u);
}

TEST(BuildGenerateRequestTest, CopiesEveryFlag) {
  GenerateFlags f = BasicFlags();
  f.model = "tiny-i2v";
  f.negative_prompt = "";
  f.size = "832x480";
  f.frames = 17;
  f.fps = 12.5;
  f.steps = 8;
  f.guidance = 5.0;
  f.shift = 3.0;
  f.sampler = "euler";
  f.seed = 42;
  f.format = "webm";
  f.quality = 80;
  f.priority = -3;
  f.request_id = "abc";
  f.timesteps = "1000, 750,500,250";
  f.loras = {"style:0.8", "detail"};
  absl::StatusOr<v1::GenerateVideoRequest> r = BuildGenerateRequest(f);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(r->timesteps(), ::testing::ElementsAre(1000u, 750u, 500u, 250u));
  ASSERT_EQ(r->adapters_size(), 2);
  EXPECT_EQ(r->adapters(0).name(), "style");
  EXPECT_DOUBLE_EQ(r->adapters(0).strength(), 0.8);
  EXPECT_EQ(r->adapters(1).name(), "detail");
  EXPECT_FALSE(r->adapters(1).has_strength());
  EXPECT_EQ(r->model(), "tiny-i2v");
  EXPECT_TRUE(r->has_negative_prompt());
  EXPECT_EQ(r->width(), 832u);
  EXPECT_EQ(r->height(), 480u);
  EXPECT_EQ(r->num_frames(), 17u);
  EXPECT_DOUBLE_EQ(r->fps(), 12.5);
  EXPECT_EQ(r->steps(), 8u);
  EXPECT_DOUBLE_EQ(r->guidance_scale(), 5.0);
  EXPECT_DOUBLE_EQ(r->shift(), 3.0);
  EXPECT_EQ(r->sampler(), v1::EULER);
  EXPECT_EQ(r->seed(), 42u);
  EXPECT_EQ(r->format(), v1::WEBM_VP9);
  EXPECT_EQ(r->quality(), 80u);
  EXPECT_EQ(r->priority(), -3);
  EXPECT_EQ(r->client_request_id(), "abc");
}

TEST(BuildGenerateRequestTest, FormatFollowsOutputExtension) {
  GenerateFlags f = BasicFlags();
  f.output_path = "clip.webm";
  EXPECT_EQ(BuildGenerateRequest(f)->format(), v1::WEBM_VP9);
}

TEST(BuildGenerateRequestTest, ReadsTheImage) {
  const std::string path = ::testing::TempDir() + "/request_test_image.png";
  {
    std::ofstream out(path, std::ios::binary);
    out << std::string("\x89PNG\r\n\x1a\n\0\1", 10);
  }
  GenerateFlags f = BasicFlags();
  f.image_path = path;
  f.last_frame_path = path;
  absl::StatusOr<v1::GenerateVideoRequest> r = BuildGenerateRequest(f);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->image(), std::string("\x89PNG\r\n\x1a\n\0\1", 10));
  EXPECT_EQ(r->last_frame(), r->image());
  std::remove(path.c_str());
}

TEST(BuildGenerateRequestTest, ErrorsNameTheField) {
  struct Case {
    std::function<void(GenerateFlags&)> edit;
    absl::StatusCode code;
    std::string field;
  };
  const Case cases[] = {
      {[](GenerateFlags& f) { f.prompt.clear(); }, absl::StatusCode::kInvalidArgument, "prompt:"},
      {[](GenerateFlags& f) { f.output_path.clear(); }, absl::StatusCode::kInvalidArgument, "output:"},
      {[](GenerateFlags& f) { f.size = "big"; }, absl::StatusCode::kInvalidArgument, "size:"},
      {[](GenerateFlags& f) {
         f.size = "64x48";
         f.max_area = 100;
       },
       absl::StatusCode::kInvalidArgument, "size:"},
      {[](GenerateFlags& f) { f.sampler = "ddim"; }, absl::StatusCode::kInvalidArgument, "sampler:"},
      {[](GenerateFlags& f) { f.timesteps = "1000,fast"; }, absl::StatusCode::kInvalidArgument, "timesteps:"},
      {[](GenerateFlags& f) { f.format = "avi"; }, absl::StatusCode::kInvalidArgument, "format:"},
      {[](GenerateFlags& f) { f.image_path = "/nonexistent/dir/image.png"; }, absl::StatusCode::kNotFound, "image:"},
      {[](GenerateFlags& f) { f.last_frame_path = "/nonexistent/dir/last.png"; }, absl::StatusCode::kNotFound,
       "last_frame:"},
  };
  for (const Case& c : cases) {
    GenerateFlags f = BasicFlags();
    c.edit(f);
    absl::StatusOr<v1::GenerateVideoRequest> r = BuildGenerateRequest(f);
    ASSERT_FALSE(r.ok()) << c.field;
    EXPECT_EQ(r.status().code(), c.code) << r.status();
    EXPECT_EQ(r.status().message().substr(0, c.field.size()), c.field) << r.status();
  }
}

}  // namespace
}  // namespace videogen::client
