// The CUDA copy engine of the offload executors (offload_copy_engine_cuda.cc),
// label gpu: skipped without a CUDA device. A DiT of five blocks streamed
// through the two staging slots on a second stream gives the resident
// model's outputs, LoRA side paths included; block weights stay pinned on the
// host between passes; a module moved in and out by the executor ends on its
// pinned host copy.
#include <memory>

#include <gtest/gtest.h>
#include <torch/cuda.h>
#include <torch/torch.h>

#include "engine/memory/residency.h"
#include "engine/models/dit/model.h"
#include "engine/pipeline/offload_block_streamer.h"
#include "engine/pipeline/offload_copy_engine.h"
#include "engine/pipeline/offload_executor.h"
#include "engine/quant/quant_linear.h"
#include "tests/engine/pipeline/five_block_dit.h"

namespace videogen::pipeline {
namespace {

models::WanInputs Inputs(const torch::Device& device) {
  models::WanInputs in;
  in.x = {torch::randn({4, 1, 4, 4}).to(device)};
  in.t = torch::tensor({500.0}).to(device);
  in.context = {torch::randn({3, 16}).to(device)};
  in.seq_len = 4;
  return in;
}

TEST(CudaCopyEngineTest, StreamedDitMatchesTheResidentOne) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  const torch::Device cuda(torch::kCUDA, 0);
  auto engine = MakeCopyEngine(cuda);
  ASSERT_TRUE(engine.ok()) << engine.status();
  torch::manual_seed(5);
  models::WanModel model = MakeFilledModel(FiveBlocks(/*dim=*/64));
  model->to(cuda);
  const models::WanInputs in = Inputs(cuda);
  const torch::NoGradGuard no_grad;
  const torch::Tensor expected = model->forward(in)[0].cpu();

  auto account = std::make_shared<memory::Residency>();
  DitBlockStreamer streamer(engine->get(), account);
  ASSERT_TRUE(streamer.Attach(Component::kDit, *model).ok());
  for (const auto& p : model->blocks()[0]->parameters()) EXPECT_TRUE(p.is_pinned());
  for (int pass = 0; pass < 3; ++pass) {
    const torch::Tensor out = model->forward(in)[0].cpu();
    // The same kernels on the same values; allclose guards against kernel
    // selection differing with buffer alignment.
    EXPECT_TRUE(torch::allclose(out, expected, 1e-5, 1e-6)) << "pass " << pass;
  }
  for (const auto& p : model->blocks()[0]->parameters()) EXPECT_TRUE(p.is_pinned());
  EXPECT_EQ(account->DevicePeakBytes(Device::Cuda(0)), 2 * streamer.max_block_bytes());
}

// A LoRA side path set while the block's weights are on the host (streamed)
// is applied on the GPU when the block runs there, as on the resident model.
TEST(CudaCopyEngineTest, StreamedBlockCarriesItsLoraSidePath) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  const torch::Device cuda(torch::kCUDA, 0);
  auto engine = MakeCopyEngine(cuda);
  ASSERT_TRUE(engine.ok()) << engine.status();
  torch::manual_seed(6);
  models::WanModel model = MakeFilledModel(FiveBlocks(/*dim=*/64));
  model->to(cuda);
  const models::WanInputs in = Inputs(cuda);
  const torch::NoGradGuard no_grad;
  auto q_of_block0 = [&] {
    return model->blocks()[0]->named_modules()["self_attn.q"]->as<quant::QuantLinearImpl>();
  };
  const torch::Tensor down = torch::randn({4, 64}), up = torch::randn({64, 4});
  ASSERT_TRUE(q_of_block0()->SetSidePaths({{down.to(cuda), up.to(cuda), 0.5}}).ok());
  const torch::Tensor expected = model->forward(in)[0].cpu();
  ASSERT_TRUE(q_of_block0()->SetSidePaths({}).ok());

  auto account = std::make_shared<memory::Residency>();
  DitBlockStreamer streamer(engine->get(), account);
  ASSERT_TRUE(streamer.Attach(Component::kDit, *model).ok());
  ASSERT_TRUE(q_of_block0()->weight.device().is_cpu());
  ASSERT_TRUE(q_of_block0()->SetSidePaths({{down, up, 0.5}}).ok());  // placed beside the host weight
  const torch::Tensor out = model->forward(in)[0].cpu();
  EXPECT_TRUE(torch::allclose(out, expected, 1e-5, 1e-6));
}

TEST(CudaCopyEngineTest, ExecutorMovesAnEncoderInAndOut) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  const torch::Device cuda(torch::kCUDA, 0);
  auto engine = MakeCopyEngine(cuda);
  ASSERT_TRUE(engine.ok()) << engine.status();
  auto account = std::make_shared<memory::Residency>();
  auto executor = OffloadExecutor::Create(OffloadMode::kEncodersAfterUse, std::move(*engine), account);
  ASSERT_TRUE(executor.ok()) << executor.status();
  torch::nn::Linear encoder(16, 16);
  encoder->to(cuda);
  const torch::Tensor x = torch::randn({2, 16}).to(cuda);
  const torch::NoGradGuard no_grad;
  const torch::Tensor expected = encoder->forward(x).cpu();
  ASSERT_TRUE((*executor)->AdoptEncoder(Component::kT5, *encoder).ok());
  EXPECT_TRUE(encoder->weight.is_pinned());
  ASSERT_TRUE((*executor)->Enter(OffloadPhase::kTextEncoding).ok());
  EXPECT_TRUE(encoder->weight.is_cuda());
  EXPECT_TRUE(torch::equal(encoder->forward(x).cpu(), expected));
  ASSERT_TRUE((*executor)->Enter(OffloadPhase::kDenoising).ok());
  EXPECT_TRUE(encoder->weight.is_pinned());
  EXPECT_EQ(account->DeviceBytes(Device::Cuda(0)), 0u);
  EXPECT_EQ(account->DevicePeakBytes(Device::Cuda(0)), (16 * 16 + 16) * sizeof(float));
}

}  // namespace
}  // namespace videogen::pipeline
