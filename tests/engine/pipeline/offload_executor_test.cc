// Offload modes executed (issue #10), on the CPU through the CPU copy engine:
// every GPU offload mode the planner produces (encoders-after-use, expert
// swap, DiT block streaming), forced on the tiny models with
// LoadPlanOptions::offload, gives the same video as the resident model,
// bit for bit, and the residency account records every move: what is on the
// "device" per phase, with the accounted peaks of the modes' contracts.
#include <algorithm>
#include <cstdint>

#include <gtest/gtest.h>

#include "tests/engine/pipeline/tiny_generator_fixture.h"

namespace videogen::pipeline {
namespace {

// Bytes of `component` in the account now / at its peak (all precisions).
uint64_t Bytes(const memory::Residency& r, Component component) {
  uint64_t n = 0;
  for (const memory::ResidentEntry& e : r.Entries()) n += e.key.component == component ? e.bytes : 0;
  return n;
}

// The component's bytes as loaded (its host copy), from the listing.
uint64_t Loaded(const ModelDescription& d, Component component) {
  uint64_t n = 0;
  for (const ResidentGroup& g : d.resident) n += g.component == component ? g.bytes : 0;
  return n;
}

uint64_t AllLoaded(const ModelDescription& d) {
  uint64_t n = 0;
  for (const ResidentGroup& g : d.resident) n += g.bytes;
  return n;
}

class OffloadExecutorTest : public TinyGeneratorTest {
 protected:
  static std::unique_ptr<WanGenerator> LoadWith(ModelType type, bool pair, OffloadMode mode,
                                                const std::string& placement = "") {
    ModelLoadOptions options;
    options.model_dir = Dir(type, pair);
    options.id = "tiny";
    options.load.offload = mode;
    if (!placement.empty()) options.load.placement = memory::ParsePlacement(placement).value();
    auto gen = WanGenerator::Create(options);
    EXPECT_TRUE(gen.ok()) << gen.status();
    return gen.ok() ? std::move(*gen) : nullptr;
  }
  static GenerationRequest I2VRequest() {
    GenerationRequest r;
    r.prompt = "a lighthouse at dusk";
    r.image = Image(96, 64);
    r.num_frames = 5;
    r.steps = 3;
    r.seed = 11;
    return r;
  }
};

TEST_F(OffloadExecutorTest, EncodersAfterUseGivesTheSameVideoAndMovesOneComponentAtATime) {
  std::unique_ptr<WanGenerator> resident = Load(ModelType::kI2V);
  std::unique_ptr<WanGenerator> moved = LoadWith(ModelType::kI2V, false, OffloadMode::kEncodersAfterUse);
  ASSERT_NE(resident, nullptr);
  ASSERT_NE(moved, nullptr);
  const OffloadExecutor* executor = moved->pipeline().parts().offload.get();
  ASSERT_NE(executor, nullptr);
  EXPECT_EQ(executor->mode(), OffloadMode::kEncodersAfterUse);
  EXPECT_EQ(executor->streamer(), nullptr);

  const ModelDescription& d = moved->description();
  const uint64_t dit = Loaded(d, Component::kDit), t5 = Loaded(d, Component::kT5), clip = Loaded(d, Component::kClip);
  ASSERT_GT(dit, 0u);
  ASSERT_GT(t5, 0u);
  ASSERT_GT(clip, 0u);
  const memory::Residency& account = moved->residency();
  // Loaded: only the host copies (on the CPU engine the "device" is the host too).
  EXPECT_EQ(account.DeviceBytes(Device::Cpu()), AllLoaded(d));

  for (int run = 0; run < 2; ++run) {
    const GenerationRequest r = I2VRequest();
    auto a = resident->Generate(r, nullptr, CancelToken{});
    ASSERT_TRUE(a.ok()) << a.status();
    auto b = moved->Generate(r, nullptr, CancelToken{});
    ASSERT_TRUE(b.ok()) << b.status();
    EXPECT_TRUE(a->rgb == b->rgb) << "encoders-after-use changed the video (run " << run << ")";
    // After the request the DiT is on the device (decoding), the encoders are not.
    EXPECT_EQ(Bytes(account, Component::kDit), 2 * dit);
    EXPECT_EQ(Bytes(account, Component::kT5), t5);
    EXPECT_EQ(Bytes(account, Component::kClip), clip);
  }
  // Each request moved T5, CLIP and the DiT in once.
  EXPECT_EQ(executor->bytes_moved_in(), 2 * (dit + t5 + clip));
  // Everything else leaves before a component comes in: the peak is the host
  // copies plus the largest single component.
  EXPECT_EQ(account.DevicePeakBytes(Device::Cpu()), AllLoaded(d) + std::max({dit, t5, clip}));
  EXPECT_EQ(account.mismatched_releases(), 0u);
}

TEST_F(OffloadExecutorTest, DitBlockStreamingGivesTheSameVideoWithTwoBlocksInFlight) {
  // fp8 blocks: the codes are staged as they are and up-cast by the layers.
  for (const std::string placement : {"", "dit=cpu:fp8"}) {
    SCOPED_TRACE(placement.empty() ? "fp32" : placement);
    ModelLoadOptions plain;
    plain.model_dir = Dir(ModelType::kI2V);
    plain.id = "tiny";
    if (!placement.empty()) plain.load.placement = memory::ParsePlacement(placement).value();
    auto resident = WanGenerator::Create(plain);
    ASSERT_TRUE(resident.ok()) << resident.status();
    std::unique_ptr<WanGenerator> streamed =
        LoadWith(ModelType::kI2V, false, OffloadMode::kDitBlockStreaming, placement);
    ASSERT_NE(streamed, nullptr);
    const OffloadExecutor* executor = streamed->pipeline().parts().offload.get();
    ASSERT_NE(executor, nullptr);
    ASSERT_NE(executor->streamer(), nullptr);
    const DitBlockStreamer& streamer = *executor->streamer();
    ASSERT_GT(streamer.max_block_bytes(), 0u);

    const GenerationRequest r = I2VRequest();
    auto a = (*resident)->Generate(r, nullptr, CancelToken{});
    ASSERT_TRUE(a.ok()) << a.status();
    auto b = streamed->Generate(r, nullptr, CancelToken{});
    ASSERT_TRUE(b.ok()) << b.status();
    EXPECT_TRUE(a->rgb == b->rgb) << "block streaming changed the video";

    // The DiT's account: its host copy plus the staged blocks, at most two.
    const ModelDescription& d = streamed->description();
    const memory::Residency& account = streamed->residency();
    const uint64_t dit = Loaded(d, Component::kDit);
    uint64_t dit_peak = 0;
    for (const memory::ResidentEntry& e : account.Entries()) {
      if (e.key.component == Component::kDit) dit_peak += e.peak_bytes;
    }
    EXPECT_GT(Bytes(account, Component::kDit), dit) << "staged blocks are accounted";
    EXPECT_LE(Bytes(account, Component::kDit), dit + 2 * streamer.max_block_bytes());
    EXPECT_LE(dit_peak, dit + 2 * streamer.max_block_bytes());
    EXPECT_GE(streamer.blocks_copied(), 2u);
    EXPECT_EQ(account.mismatched_releases(), 0u);
  }
}

TEST_F(OffloadExecutorTest, ExpertSwapGivesTheSameVideoWithOneExpertOnTheDevice) {
  std::unique_ptr<WanGenerator> resident = Load(ModelType::kT2V, /*pair=*/true);
  std::unique_ptr<WanGenerator> swapped = LoadWith(ModelType::kT2V, true, OffloadMode::kExpertSwap);
  ASSERT_NE(resident, nullptr);
  ASSERT_NE(swapped, nullptr);
  const GenerationRequest r = ExpertPairRequest();
  RecordingSink sink;
  auto a = resident->Generate(r, nullptr, CancelToken{});
  ASSERT_TRUE(a.ok()) << a.status();
  auto b = swapped->Generate(r, &sink, CancelToken{});
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_TRUE(a->rgb == b->rgb) << "the expert swap changed the video";
  ASSERT_EQ(sink.StepExperts().front(), Expert::kHighNoise);
  ASSERT_EQ(sink.StepExperts().back(), Expert::kLowNoise);

  const ModelDescription& d = swapped->description();
  const memory::Residency& account = swapped->residency();
  const uint64_t high = Loaded(d, Component::kDit), low = Loaded(d, Component::kDitLowNoise);
  const uint64_t t5 = Loaded(d, Component::kT5);
  ASSERT_GT(high, 0u);
  ASSERT_GT(low, 0u);
  // After the request: the low-noise expert (the last to run) on the device, the high-noise one not.
  EXPECT_EQ(Bytes(account, Component::kDitLowNoise), 2 * low);
  EXPECT_EQ(Bytes(account, Component::kDit), high);
  EXPECT_EQ(Bytes(account, Component::kT5), t5);
  // The high-noise expert left before the low-noise one came in.
  EXPECT_EQ(account.DevicePeakBytes(Device::Cpu()), AllLoaded(d) + std::max({high, low, t5}));
  EXPECT_EQ(swapped->pipeline().parts().offload->bytes_moved_in(), t5 + high + low);
  EXPECT_EQ(account.mismatched_releases(), 0u);
}

TEST_F(OffloadExecutorTest, ExpertSwapNeedsAnExpertPair) {
  ModelLoadOptions options;
  options.model_dir = Dir(ModelType::kT2V);
  options.id = "tiny";
  options.load.offload = OffloadMode::kExpertSwap;
  auto gen = WanGenerator::Create(options);
  EXPECT_EQ(gen.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(gen.status().message().find("offload"), std::string::npos) << gen.status();
}

}  // namespace
}  // namespace videogen::pipeline
