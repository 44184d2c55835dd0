// Host-only offload executed (issue #10): with a --host-memory where T5 cannot
// stay resident beside the rest, the plan streams it from its checkpoint for
// each encoding (offload encoders-after-use on the host), the model still
// loads and serves, and its videos are bit-identical to the resident run.
#include <cstdint>

#include <gtest/gtest.h>

#include "engine/memory/model_headers.h"
#include "engine/memory/planner.h"
#include "tests/engine/pipeline/tiny_generator_fixture.h"

namespace videogen::pipeline {
namespace {

bool HasT5(const ModelDescription& d) {
  for (const ResidentGroup& g : d.resident) {
    if (g.component == Component::kT5) return true;
  }
  return false;
}

TEST_F(TinyGeneratorTest, HostOnlyT5StreamingGivesTheSameVideo) {
  const std::string dir = Dir(ModelType::kI2V);
  std::unique_ptr<WanGenerator> resident = Load(ModelType::kI2V);
  ASSERT_NE(resident, nullptr);
  EXPECT_EQ(resident->description().plan.offload_mode, OffloadMode::kNone);
  EXPECT_TRUE(HasT5(resident->description()));

  // The peaks of the default request with T5 resident and with T5 streamed.
  const GenerationDefaults& d = resident->description().defaults;
  auto headers = memory::ReadModelHeaders(dir);
  ASSERT_TRUE(headers.ok()) << headers.status();
  memory::RequestShape shape;
  shape.frames = d.num_frames;
  shape.width = d.width;
  shape.height = d.height;
  auto with_t5 = memory::MakePlan(*headers, shape, memory::Budgets{0, uint64_t{1} << 40});
  ASSERT_TRUE(with_t5.ok()) << with_t5.status();
  ASSERT_EQ(with_t5->offload, OffloadMode::kNone);
  memory::Plan streamed_candidate = *with_t5;
  streamed_candidate.offload = OffloadMode::kEncodersAfterUse;
  auto streamed_plan = memory::EvaluateRequest(*headers, streamed_candidate, shape);
  ASSERT_TRUE(streamed_plan.ok()) << streamed_plan.status();
  ASSERT_LT(streamed_plan->peak_host, with_t5->peak_host) << "streaming T5 must lower the planned host peak";

  // A host budget where only the streamed plan fits.
  ModelLoadOptions options;
  options.model_dir = dir;
  options.id = "tiny";
  options.load.host_memory = streamed_plan->peak_host;
  auto offloaded = WanGenerator::Create(options);
  ASSERT_TRUE(offloaded.ok()) << offloaded.status();
  const ModelDescription& desc = (*offloaded)->description();
  EXPECT_EQ(desc.plan.offload_mode, OffloadMode::kEncodersAfterUse) << desc.plan.summary;
  EXPECT_FALSE(HasT5(desc)) << "a streamed T5 holds no resident weights";
  EXPECT_TRUE((*offloaded)->pipeline().parts().text_encoder->streamed());
  EXPECT_LE(desc.plan.predicted_peak.at(Device::Cpu()), options.load.host_memory);
  EXPECT_GE(desc.admitted.max_frames, 1);

  GenerationRequest request;
  request.prompt = "a lighthouse at dusk";
  request.image = Image(96, 64);
  request.num_frames = 5;
  request.steps = 2;
  request.seed = 7;
  auto a = resident->Generate(request, nullptr, CancelToken{});
  ASSERT_TRUE(a.ok()) << a.status();
  auto b = (*offloaded)->Generate(request, nullptr, CancelToken{});
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(a->frames, b->frames);
  EXPECT_TRUE(a->rgb == b->rgb) << "T5 streaming changed the video";

  // The residency account: the streamed T5 was resident one block at a time
  // and is gone again; the host peak of weights stays within the plan.
  const memory::Residency& ledger = (*offloaded)->residency();
  uint64_t t5_full = 0;
  for (const memory::ResidentEntry& e : resident->residency().Entries()) {
    if (e.key.component == Component::kT5) t5_full += e.bytes;
  }
  ASSERT_GT(t5_full, 0u);
  bool saw_t5 = false;
  for (const memory::ResidentEntry& e : ledger.Entries()) {
    if (e.key.component != Component::kT5) continue;
    saw_t5 = true;
    EXPECT_EQ(e.bytes, 0u) << "T5 blocks are freed after encoding";
    EXPECT_GT(e.peak_bytes, 0u);
    EXPECT_LT(e.peak_bytes, t5_full) << "one block at a time, never the whole encoder";
  }
  EXPECT_TRUE(saw_t5);
  EXPECT_EQ(ledger.mismatched_releases(), 0u);
  EXPECT_LE(ledger.DevicePeakBytes(Device::Cpu()), desc.plan.predicted_peak.at(Device::Cpu()));
  EXPECT_EQ(ledger.DevicePeakBytes(Device::Cpu()) - ledger.DeviceBytes(Device::Cpu()),
            [&] {
              uint64_t peak = 0;
              for (const memory::ResidentEntry& e : ledger.Entries()) {
                if (e.key.component == Component::kT5) peak = e.peak_bytes;
              }
              return peak;
            }())
      << "the host peak is the resident set plus one T5 block";
  for (const ResidentGroup& g : (*offloaded)->ResidentNow()) {
    if (g.component == Component::kT5) {
      EXPECT_EQ(g.bytes, 0u);
    }
  }
}

}  // namespace
}  // namespace videogen::pipeline
