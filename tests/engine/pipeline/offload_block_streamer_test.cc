// DitBlockStreamer on the CPU copy engine (issue #10): a DiT of five blocks
// streamed through the two staging slots gives bit-identical outputs pass
// after pass, copies each block once per pass (block 0 prefetched at the end
// of the previous pass), and the account never holds more than two blocks.
#include <memory>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "engine/memory/residency.h"
#include "engine/models/dit/model.h"
#include "engine/pipeline/offload_block_streamer.h"
#include "engine/pipeline/offload_copy_engine.h"
#include "tests/engine/pipeline/five_block_dit.h"

namespace videogen::pipeline {
namespace {

models::WanInputs Inputs() {
  models::WanInputs in;
  in.x = {torch::randn({4, 1, 4, 4})};
  in.t = torch::tensor({500.0});
  in.context = {torch::randn({3, 16})};
  in.seq_len = 4;
  return in;
}

TEST(DitBlockStreamerTest, StreamedPassesAreBitIdenticalWithTwoBlocksStaged) {
  torch::manual_seed(3);
  const models::WanConfig config = FiveBlocks();
  models::WanModel model = MakeFilledModel(config);
  const models::WanInputs in = Inputs();
  const torch::NoGradGuard no_grad;
  const torch::Tensor expected = model->forward(in)[0];
  ASSERT_TRUE(torch::equal(model->forward(in)[0], expected)) << "the resident forward is not deterministic";

  auto account = std::make_shared<memory::Residency>();
  std::unique_ptr<CopyEngine> engine = MakeCpuCopyEngine();
  {
    DitBlockStreamer streamer(engine.get(), account);
    ASSERT_TRUE(streamer.Attach(Component::kDit, *model).ok());
    const uint64_t block = streamer.max_block_bytes();
    ASSERT_GT(block, 0u);
    constexpr int kPasses = 3;
    for (int pass = 0; pass < kPasses; ++pass) {
      EXPECT_TRUE(torch::equal(model->forward(in)[0], expected)) << "pass " << pass;
    }
    // Every block once per pass, plus block 0 prefetched after the last pass.
    EXPECT_EQ(streamer.blocks_copied(), static_cast<uint64_t>(kPasses * config.num_layers + 1));
    EXPECT_EQ(account->DevicePeakBytes(Device::Cpu()), 2 * block);
    EXPECT_EQ(account->DeviceBytes(Device::Cpu()), 2 * block);
    EXPECT_EQ(account->mismatched_releases(), 0u);
  }
  // Detached: the model runs from its host copies again.
  EXPECT_TRUE(torch::equal(model->forward(in)[0], expected));
}

TEST(DitBlockStreamerTest, TwoModelsShareTheSlots) {
  torch::manual_seed(4);
  const models::WanConfig config = FiveBlocks();
  models::WanModel high = MakeFilledModel(config), low = MakeFilledModel(config);
  const models::WanInputs in = Inputs();
  const torch::NoGradGuard no_grad;
  const torch::Tensor expected_high = high->forward(in)[0];
  const torch::Tensor expected_low = low->forward(in)[0];

  auto account = std::make_shared<memory::Residency>();
  std::unique_ptr<CopyEngine> engine = MakeCpuCopyEngine();
  DitBlockStreamer streamer(engine.get(), account);
  ASSERT_TRUE(streamer.Attach(Component::kDit, *high).ok());
  ASSERT_TRUE(streamer.Attach(Component::kDitLowNoise, *low).ok());
  EXPECT_TRUE(torch::equal(high->forward(in)[0], expected_high));
  EXPECT_TRUE(torch::equal(low->forward(in)[0], expected_low));
  EXPECT_TRUE(torch::equal(high->forward(in)[0], expected_high));
  EXPECT_EQ(account->DevicePeakBytes(Device::Cpu()), 2 * streamer.max_block_bytes());
  EXPECT_EQ(account->mismatched_releases(), 0u);
}

TEST(DitBlockStreamerTest, AModelWithoutBlocksIsRefused) {
  models::WanConfig config = FiveBlocks();
  config.num_layers = 0;
  models::WanModel model(config);
  std::unique_ptr<CopyEngine> engine = MakeCpuCopyEngine();
  DitBlockStreamer streamer(engine.get(), nullptr);
  const absl::Status s = streamer.Attach(Component::kDit, *model);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("dit"), std::string::npos) << s;
}

}  // namespace
}  // namespace videogen::pipeline
