#include "server/service/request_validation.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>

namespace videogen::service {
namespace {

using ::testing::HasSubstr;

v1::GenerateVideoRequest Valid() {
  v1::GenerateVideoRequest r;
  r.set_model("fake");
  r.set_prompt("a cat");
  return r;
}

struct Case {
  const char* field;
  std::function<void(v1::GenerateVideoRequest*)> mutate;
  const char* range;  // part of the message naming the allowed range
};

TEST(RequestValidationTest, EveryBadFieldIsInvalidArgumentNamingFieldAndRange) {
  const RequestLimits limits;
  const Case cases[] = {
      {"model", [](auto* r) { r->clear_model(); }, "ListModels"},
      {"prompt", [](auto* r) { r->clear_prompt(); }, "required"},
      {"prompt", [](auto* r) { r->set_prompt(std::string(5000, 'x')); }, "limit of 4096"},
      {"negative_prompt", [](auto* r) { r->set_negative_prompt(std::string(5000, 'x')); }, "limit of 4096"},
      {"width", [](auto* r) { r->set_width(1296); }, "limit of 1280"},
      {"height", [](auto* r) { r->set_height(2048); }, "limit of 1280"},
      {"max_area", [](auto* r) { r->set_max_area(1280 * 1280 + 1); }, "limit of 1638400"},
      {"num_frames", [](auto* r) { r->set_num_frames(133); }, "limit of 129"},
      {"fps", [](auto* r) { r->set_fps(0); }, "(0, 120]"},
      {"steps", [](auto* r) { r->set_steps(101); }, "limit of 100"},
      {"sampler", [](auto* r) { r->set_sampler(static_cast<v1::Sampler>(42)); }, "UNIPC, DPMPP, EULER"},
      {"format", [](auto* r) { r->set_format(static_cast<v1::VideoFormat>(9)); }, "MP4_H264, WEBM_VP9"},
      {"quality", [](auto* r) { r->set_quality(101); }, "[0, 100]"},
      {"priority", [](auto* r) { r->set_priority(5000); }, "[-1000, 1000]"},
      {"client_request_id", [](auto* r) { r->set_client_request_id(std::string(200, 'x')); }, "limit of 128"},
      {"image", [](auto* r) { r->set_image("not an image at all"); }, ""},
  };
  for (const Case& c : cases) {
    v1::GenerateVideoRequest r = Valid();
    c.mutate(&r);
    absl::Status s = ValidateRequest(r, limits);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.field;
    EXPECT_THAT(s.message(), HasSubstr(std::string(c.field) + ":")) << s;
    EXPECT_THAT(s.message(), HasSubstr(c.range)) << s;
  }
  EXPECT_TRUE(ValidateRequest(Valid(), limits).ok());
}

// The model rules are the generator's (engine/pipeline/api/request_rules.h),
// not repeated here: the service passes values its caps allow.
TEST(RequestValidationTest, ModelRulesAreLeftToTheGenerator) {
  const RequestLimits limits;
  v1::GenerateVideoRequest r = Valid();
  r.set_width(100);
  r.set_num_frames(8);
  r.set_steps(0);
  r.set_guidance_scale(-1);
  r.set_shift(std::numeric_limits<double>::infinity());
  EXPECT_TRUE(ValidateRequest(r, limits).ok());
}

TEST(RequestValidationTest, ImageDimensionsAreCheckedFromTheHeader) {
  // A PNG header claiming 100000 x 100000 pixels, without pixel data.
  const unsigned char png[] = {0x89, 'P',  'N',  'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R', 0,
                               1,    0x86, 0xa0, 0,   1,    0x86, 0xa0, 8,    2, 0, 0, 0,  0,   0,   0,   0};
  v1::GenerateVideoRequest r = Valid();
  r.set_image(std::string(reinterpret_cast<const char*>(png), sizeof(png)));
  absl::Status s = ValidateRequest(r, RequestLimits{});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("image:"));
}

}  // namespace
}  // namespace videogen::service
