// Cancellation inside the encoders (engine/common/cancel_point.h): a cancel
// raised at the k-th block of T5, CLIP or the VAE stops the job there, before
// any further block of any kind runs, with Cancelled naming the block. Counted
// through the test hook of CancelScope, never timed.
#include "engine/common/cancel_point.h"

#include <string>
#include <utility>
#include <vector>

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/common/torch_status.h"
#include "engine/models/t5/t5_config.h"
#include "engine/models/t5/t5_streamed_encoder.h"
#include "tests/engine/pipeline/tiny_generator_fixture.h"
#include "tests/support/golden.h"

namespace videogen::pipeline {
namespace {

using ::testing::HasSubstr;

// Counts the cancellation points reached and cancels `token` at the k-th
// point named `point`; points reached after that are counted apart.
class CancelAtPoint {
 public:
  CancelAtPoint(CancelToken* token, std::string point, int k) : token_(token), point_(std::move(point)), k_(k) {}

  CancelPointHook Hook() {
    return [this](const char* where) {
      if (token_->cancelled()) {
        ++after_cancel_;
        return;
      }
      if (point_ == where && ++seen_ == k_) token_->Cancel();
    };
  }
  int seen() const { return seen_; }
  int after_cancel() const { return after_cancel_; }

 private:
  CancelToken* const token_;
  const std::string point_;
  const int k_;
  int seen_ = 0;
  int after_cancel_ = 0;
};

TEST(CancelPointTest, ThrowsOnlyInsideAScopeWithACancelledToken) {
  EXPECT_NO_THROW(CancelPoint("outside any scope"));
  CancelToken token;
  {
    const CancelScope scope(&token);
    EXPECT_NO_THROW(CancelPoint("not cancelled"));
    token.Cancel();
    absl::Status status = TorchCall("stage", [] { CancelPoint("block"); });
    EXPECT_EQ(status.code(), absl::StatusCode::kCancelled);
    EXPECT_EQ(status.message(), "stage: cancelled during block");
    {
      const CancelScope inner(nullptr);  // an inner scope without a token checks nothing
      EXPECT_NO_THROW(CancelPoint("inner"));
    }
    EXPECT_THROW(CancelPoint("restored"), CancelledException);
  }
  EXPECT_NO_THROW(CancelPoint("after the scope"));
  const CancelToken past(CancelToken::Clock::now());
  const CancelScope deadline(&past);
  EXPECT_EQ(TorchCall("stage", [] { CancelPoint("block"); }).code(), absl::StatusCode::kDeadlineExceeded);
}

TEST(CancelPointTest, AnInnerScopeKeepsTheOuterHook) {
  std::vector<std::string> seen;
  const CancelScope outer(nullptr, [&](const char* where) { seen.push_back(where); });
  CancelToken token;
  {
    const CancelScope inner(&token);
    CancelPoint("a");
  }
  CancelPoint("b");
  EXPECT_EQ(seen, (std::vector<std::string>{"a", "b"}));
}

class CancelPointsPipelineTest : public TinyGeneratorTest {
 protected:
  // Runs `request` on `gen`, cancelling at the k-th `point`; expects
  // Cancelled naming `point` (and `stage` when given), the k-th point as the
  // last one reached, and no point after it.
  static void ExpectStopsAt(WanGenerator& gen, const GenerationRequest& request, const std::string& point, int k,
                            const std::string& stage) {
    CancelToken cancel;
    CancelAtPoint at(&cancel, point, k);
    const CancelScope hook(nullptr, at.Hook());
    auto video = gen.Generate(request, nullptr, cancel);
    ASSERT_FALSE(video.ok()) << point << " #" << k;
    EXPECT_EQ(video.status().code(), absl::StatusCode::kCancelled) << video.status();
    EXPECT_THAT(std::string(video.status().message()), HasSubstr("cancelled during " + point));
    EXPECT_THAT(std::string(video.status().message()), HasSubstr(stage));
    EXPECT_EQ(at.seen(), k) << point;
    EXPECT_EQ(at.after_cancel(), 0) << "a block ran after the cancel at " << point << " #" << k;
  }
};

TEST_F(CancelPointsPipelineTest, TextToVideoStopsInsideT5AndTheVaeDecoder) {
  auto gen = Load(ModelType::kT2V);
  ASSERT_NE(gen, nullptr);
  GenerationRequest r;
  r.width = 32;
  r.height = 32;
  r.num_frames = 5;
  r.steps = 1;
  r.seed = 3;
  // Each run its own prompt: an encoded text may come from a cache.
  r.prompt = "cancelled in the second T5 block";
  ExpectStopsAt(*gen, r, "T5 block", 2, "T5");
  r.prompt = "cancelled in the third VAE residual block";
  ExpectStopsAt(*gen, r, "VAE residual block", 3, "VAE decode");
}

TEST_F(CancelPointsPipelineTest, ImageToVideoStopsInsideClipAndTheVaeEncoder) {
  auto gen = Load(ModelType::kI2V);
  ASSERT_NE(gen, nullptr);
  GenerationRequest r;
  r.image = Image(64, 32);
  r.max_area = 64 * 32;
  r.num_frames = 5;
  r.steps = 1;
  r.seed = 4;
  r.prompt = "cancelled in the first CLIP block";
  ExpectStopsAt(*gen, r, "CLIP block", 1, "CLIP");
  r.prompt = "cancelled in the second VAE residual block";
  ExpectStopsAt(*gen, r, "VAE residual block", 2, "VAE encode");
}

TEST(CancelPointsStreamedT5Test, StopsBeforeLoadingTheNextBlock) {
  const std::string dir = testing::GoldenDir() + "/t5_encoder";
  const torch::Tensor ids = testing::ReadTensor(dir + "/inputs.safetensors", "ids");
  const torch::Tensor mask = testing::ReadTensor(dir + "/inputs.safetensors", "mask");
  auto config = models::T5Config::FromJson({{"vocab", 500}, {"dim", 32}, {"dim_attn", 32}, {"dim_ffn", 80},
                                            {"num_heads", 4}, {"num_layers", 2}, {"num_buckets", 32},
                                            {"shared_pos", false}, {"dropout", 0.1}});
  ASSERT_TRUE(config.ok()) << config.status();
  auto source = testing::OpenOrFail(dir + "/weights.safetensors");
  c10::InferenceMode inference;
  int loaded = 0;
  CancelToken cancel;
  CancelAtPoint at(&cancel, "T5 block", 2);
  const CancelScope scope(&cancel, at.Hook());
  auto out = models::StreamT5Encoder(*config, *source, models::LoadOptions{}, ids, mask,
                                     [&](int64_t bytes) { loaded += bytes > 0 ? 1 : 0; });
  EXPECT_EQ(out.status().code(), absl::StatusCode::kCancelled) << out.status();
  EXPECT_THAT(std::string(out.status().message()), HasSubstr("cancelled during T5 block"));
  EXPECT_EQ(at.seen(), 2);
  EXPECT_EQ(loaded, 1) << "the second block was loaded after the cancel";
}

}  // namespace
}  // namespace videogen::pipeline
