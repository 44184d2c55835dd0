// The planner against the real Wan2.2 geometries -- T2V-A14B and I2V-A14B
// (expert pairs on the Wan2.1 VAE) and TI2V-5B (the Wan2.2 VAE) -- as sparse
// official directories (real headers, data as file holes); and PlanLoad's
// mapping of the expert pair (engine/pipeline/model_plan.h), checked here
// beside the planner it maps.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "engine/memory/model_headers.h"
#include "engine/memory/planner.h"
#include "engine/pipeline/model_plan.h"
#include "engine/synth/official_tensors.h"
#include "engine/synth/sparse_model_dir.h"
#include "tests/support/temp_dir.h"

namespace videogen::memory {
namespace {

namespace fs = std::filesystem;
constexpr uint64_t kGiB = 1ull << 30;

RequestShape Shape(int64_t width, int64_t height, int64_t frames) {
  RequestShape r;
  r.width = width;
  r.height = height;
  r.frames = frames;
  return r;
}

const ComponentPlan* Planned(const Plan& plan, Component c) {
  for (const ComponentPlan& p : plan.components) {
    if (p.component == c) return &p;
  }
  return nullptr;
}

class Wan22PlanTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tmp_ = new videogen::testing::ScopedTempDir("vg_plan_wan22");
    for (synth::SparseModel m : {synth::SparseModel::kT2VA14B, synth::SparseModel::kI2VA14B,
                                 synth::SparseModel::kTI2V5B}) {
      const absl::Status s = synth::WriteSparseModelDir(Dir(m), m);
      ASSERT_TRUE(s.ok()) << s;
    }
  }
  static void TearDownTestSuite() { delete tmp_; }
  static std::string Dir(synth::SparseModel m) { return (tmp_->path() / synth::SparseModelName(m)).string(); }
  static ModelHeaders Headers(synth::SparseModel m) {
    auto headers = ReadModelHeaders(Dir(m));
    EXPECT_TRUE(headers.ok()) << headers.status();
    return headers.ok() ? *headers : ModelHeaders{};
  }

  static videogen::testing::ScopedTempDir* tmp_;
};
videogen::testing::ScopedTempDir* Wan22PlanTest::tmp_ = nullptr;

TEST_F(Wan22PlanTest, HeadersGiveTheOfficialSizesAndGeometry) {
  const ModelHeaders t2v = Headers(synth::SparseModel::kT2VA14B);
  ASSERT_EQ(t2v.components.size(), 4u);  // dit, dit_low_noise, t5, vae: no CLIP
  ASSERT_TRUE(t2v.has_expert_pair());
  EXPECT_EQ(t2v.Find(Component::kClip), nullptr);
  EXPECT_EQ(t2v.dit_num_heads, 40);
  // Each expert: ~14.29 B parameters (57.2 GB as distributed in float32).
  for (Component expert : {Component::kDit, Component::kDitLowNoise}) {
    EXPECT_NEAR(static_cast<double>(ResidentBytes(*t2v.Find(expert), Precision::kFp32)) / 1e9, 57.2, 0.3);
  }
  auto geometry = ReadDitGeometry(t2v, Component::kDitLowNoise);
  ASSERT_TRUE(geometry.ok()) << geometry.status();
  EXPECT_EQ(geometry->dim, 5120);
  EXPECT_EQ(geometry->num_layers, 40);
  EXPECT_EQ(geometry->in_dim, 16);
  EXPECT_EQ(ReadVaeKind(t2v).value(), io::VaeKind::kWan21);

  // I2V-A14B: the image enters as latent channels (in_dim 36), without CLIP context.
  geometry = ReadDitGeometry(Headers(synth::SparseModel::kI2VA14B));
  ASSERT_TRUE(geometry.ok()) << geometry.status();
  EXPECT_EQ(geometry->in_dim, 36);
  EXPECT_EQ(geometry->out_dim, 16);
  EXPECT_FALSE(geometry->image_input);
  EXPECT_FALSE(geometry->per_token_timesteps);

  const ModelHeaders ti2v = Headers(synth::SparseModel::kTI2V5B);
  EXPECT_FALSE(ti2v.has_expert_pair());
  geometry = ReadDitGeometry(ti2v);
  ASSERT_TRUE(geometry.ok()) << geometry.status();
  EXPECT_EQ(geometry->dim, 3072);
  EXPECT_EQ(geometry->ffn_dim, 14336);
  EXPECT_EQ(geometry->num_heads, 24);
  EXPECT_EQ(geometry->num_layers, 30);
  EXPECT_EQ(geometry->in_dim, 48);
  EXPECT_EQ(geometry->out_dim, 48);
  EXPECT_TRUE(geometry->per_token_timesteps);
  EXPECT_EQ(ReadVaeKind(ti2v).value(), io::VaeKind::kWan22);
  // Wan2.2_VAE.pth: 2.82 GB of float32.
  EXPECT_NEAR(static_cast<double>(ResidentBytes(*ti2v.Find(Component::kVae), Precision::kFp32)) / 1e9, 2.82, 0.02);
}

TEST_F(Wan22PlanTest, TokensFollowTheVae) {
  RequestShape ti2v = Shape(1280, 704, 121);
  ti2v.vae = io::VaeKind::kWan22;
  EXPECT_EQ(ti2v.token_stride(), 32);
  EXPECT_EQ(ti2v.tokens(), 31 * 22 * 40);
  EXPECT_EQ(Shape(1280, 720, 81).tokens(), 21 * 45 * 80);
  EXPECT_EQ(Shape(832, 480, 81).tokens(), 21 * 30 * 52);
  // MakePlan takes the VAE from the model, whatever the caller set.
  auto plan = MakePlan(Headers(synth::SparseModel::kTI2V5B), Shape(1280, 704, 121), Budgets{80 * kGiB, 128 * kGiB});
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->request.vae, io::VaeKind::kWan22);
  EXPECT_EQ(plan->request.tokens(), 27280);
  // At least the measured peak of our Wan2.2 decoder: 4200 fp32 channel-frames per output pixel.
  EXPECT_GE(VaeDecodeWorkingSetBytes(plan->request, false), uint64_t{4200} * 4 * 1280 * 704);
}

TEST_F(Wan22PlanTest, A14BKeepsBothExpertsResidentAt80G) {
  for (synth::SparseModel m : {synth::SparseModel::kT2VA14B, synth::SparseModel::kI2VA14B}) {
    for (const RequestShape& r : {Shape(1280, 720, 81), Shape(832, 480, 81)}) {
      auto plan = MakePlan(Headers(m), r, Budgets{80 * kGiB, 128 * kGiB});
      ASSERT_TRUE(plan.ok()) << plan.status();
      std::printf("---- %s %ldx%ld, 80 GiB GPU, 128 GiB host\n%s", synth::SparseModelName(m), r.width, r.height,
                  FormatPlan(*plan).c_str());
      for (Component expert : {Component::kDit, Component::kDitLowNoise}) {
        const ComponentPlan* p = Planned(*plan, expert);
        ASSERT_NE(p, nullptr);
        EXPECT_TRUE(p->placement.device.is_cuda()) << ComponentName(expert);
        EXPECT_EQ(p->placement.precision, Precision::kBf16) << ComponentName(expert);
      }
      EXPECT_TRUE(plan->offload == OffloadMode::kNone || plan->offload == OffloadMode::kEncodersAfterUse);
      EXPECT_LE(plan->peak_vram, 80 * kGiB);
      // Both experts' weights are counted on the GPU while denoising.
      EXPECT_GT(plan->vram_denoise, 2 * Planned(*plan, Component::kDit)->resident_bytes);
    }
  }
}

TEST_F(Wan22PlanTest, A14BSwapsFp8ExpertsAt24G) {
  const ModelHeaders headers = Headers(synth::SparseModel::kT2VA14B);
  auto plan = MakePlan(headers, Shape(832, 480, 81), Budgets{24 * kGiB, 128 * kGiB});
  ASSERT_TRUE(plan.ok()) << plan.status();
  std::printf("---- T2V-A14B 832x480, 24 GiB GPU, 128 GiB host\n%s", FormatPlan(*plan).c_str());
  EXPECT_EQ(plan->offload, OffloadMode::kExpertSwap);
  const ComponentPlan* high = Planned(*plan, Component::kDit);
  const ComponentPlan* low = Planned(*plan, Component::kDitLowNoise);
  const ComponentPlan* t5 = Planned(*plan, Component::kT5);
  const ComponentPlan* vae = Planned(*plan, Component::kVae);
  ASSERT_TRUE(high != nullptr && low != nullptr && t5 != nullptr && vae != nullptr);
  // The high-noise expert starts on the GPU, the low-noise one in pinned host memory.
  EXPECT_EQ(high->placement.device, Device::Cuda(0));
  EXPECT_EQ(low->placement.device, Device::Cpu());
  EXPECT_EQ(high->placement.precision, Precision::kFp8);
  EXPECT_EQ(low->placement.precision, Precision::kFp8);
  EXPECT_EQ(high->resident_bytes, low->resident_bytes);
  EXPECT_EQ(high->resident_bytes, ResidentBytes(*headers.Find(Component::kDit), Precision::kFp8));
  EXPECT_LT(high->resident_bytes, 15 * kGiB);  // ~13.5 GiB: 1 byte per block weight, the rest bf16

  // The figures: one expert plus two blocks of staging while denoising, the
  // encoders only while encoding, one expert while decoding -- over the same
  // CUDA reserve in every phase.
  const uint64_t expert = high->resident_bytes;
  const uint64_t staging = 2 * expert / 40;
  auto geometry = ReadDitGeometry(headers);
  ASSERT_TRUE(geometry.ok());
  const uint64_t dit_ws = DitWorkingSetBytes(*geometry, plan->request, 2, /*fp8=*/true);
  const uint64_t vae_ws = VaeDecodeWorkingSetBytes(plan->request, plan->vae_tiling);
  const uint64_t denoise_reserve = plan->vram_denoise - (expert + staging + vae->resident_bytes + dit_ws);
  const uint64_t decode_reserve = plan->vram_decode - (expert + vae->resident_bytes + vae_ws);
  const uint64_t encoders_gpu = t5->placement.device.is_cuda() ? t5->resident_bytes : 0;
  const uint64_t encode_reserve =
      plan->vram_encode - (encoders_gpu + vae->resident_bytes + TextEncoderWorkingSetBytes(2));
  EXPECT_EQ(denoise_reserve, decode_reserve);
  EXPECT_EQ(denoise_reserve, encode_reserve);
  EXPECT_LT(denoise_reserve, kGiB);
  EXPECT_EQ(plan->peak_vram, std::max({plan->vram_encode, plan->vram_denoise, plan->vram_decode}));
  EXPECT_LE(plan->peak_vram, 24 * kGiB);
  // Both experts stay in host memory (pinned), beside the encoders' host copies.
  EXPECT_GE(plan->peak_host, 2 * expert + encoders_gpu);
  EXPECT_LE(plan->peak_host, 128 * kGiB);
  EXPECT_NE(FormatPlan(*plan).find("expert swap"), std::string::npos);

  // Without the host RAM for both experts, the swap is not planned.
  auto small_host = MakePlan(headers, Shape(832, 480, 81), Budgets{24 * kGiB, 32 * kGiB});
  EXPECT_EQ(small_host.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(small_host.status().message().find("host RAM short by"), std::string::npos) << small_host.status();

  // 720p's 75600 tokens leave no room for a whole expert on 24 GiB: blocks are streamed.
  auto hd = MakePlan(headers, Shape(1280, 720, 81), Budgets{24 * kGiB, 128 * kGiB});
  ASSERT_TRUE(hd.ok()) << hd.status();
  EXPECT_EQ(hd->offload, OffloadMode::kDitBlockStreaming);
  EXPECT_EQ(Planned(*hd, Component::kDitLowNoise)->placement.device, Device::Cpu());
  EXPECT_GE(hd->peak_host, 2 * Planned(*hd, Component::kDit)->resident_bytes);
}

TEST_F(Wan22PlanTest, Ti2vPlansAt24GWithTheWan22Vae) {
  auto plan = MakePlan(Headers(synth::SparseModel::kTI2V5B), Shape(1280, 704, 121), Budgets{24 * kGiB, 64 * kGiB});
  ASSERT_TRUE(plan.ok()) << plan.status();
  std::printf("---- TI2V-5B 1280x704x121, 24 GiB GPU, 64 GiB host\n%s", FormatPlan(*plan).c_str());
  const ComponentPlan* dit = Planned(*plan, Component::kDit);
  ASSERT_NE(dit, nullptr);
  EXPECT_EQ(Planned(*plan, Component::kDitLowNoise), nullptr);
  EXPECT_EQ(Planned(*plan, Component::kClip), nullptr);
  EXPECT_EQ(dit->placement.device, Device::Cuda(0));
  EXPECT_EQ(dit->placement.precision, Precision::kBf16);
  EXPECT_NEAR(static_cast<double>(dit->resident_bytes) / kGiB, 9.3, 0.1);  // ~5.0 B parameters in bf16
  // The decoder's full-size working set (~15 GiB at 1280x704) does not fit beside the weights: tiled.
  EXPECT_TRUE(plan->vae_tiling);
  EXPECT_LE(plan->peak_vram, 24 * kGiB);
}

TEST_F(Wan22PlanTest, CpuOnlyHostsBothExperts) {
  const ModelHeaders headers = Headers(synth::SparseModel::kI2VA14B);
  struct Case {
    uint64_t host_gib;
    Precision dit;
  };
  for (const Case& c : {Case{256, Precision::kFp32}, Case{64, Precision::kFp8}}) {
    auto plan = MakePlan(headers, Shape(832, 480, 81), Budgets{0, c.host_gib * kGiB});
    ASSERT_TRUE(plan.ok()) << c.host_gib << " GiB: " << plan.status();
    uint64_t experts = 0;
    for (Component expert : {Component::kDit, Component::kDitLowNoise}) {
      const ComponentPlan* p = Planned(*plan, expert);
      ASSERT_NE(p, nullptr);
      EXPECT_EQ(p->placement.device, Device::Cpu());
      EXPECT_EQ(p->placement.precision, c.dit) << c.host_gib;
      experts += p->resident_bytes;
    }
    EXPECT_EQ(plan->offload, OffloadMode::kNone);
    EXPECT_GT(plan->peak_host, experts);
    EXPECT_LE(plan->peak_host, c.host_gib * kGiB);
  }
  const absl::Status s = MakePlan(headers, Shape(832, 480, 81), Budgets{0, 32 * kGiB}).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("host RAM short by"), std::string::npos) << s;
}

// In-memory headers of a small expert pair (no files).
ModelHeaders SmallPair(int64_t high_dim, int64_t low_dim, int64_t out_dim) {
  ModelHeaders headers;
  for (const auto& [component, dim] :
       {std::pair{Component::kDit, high_dim}, std::pair{Component::kDitLowNoise, low_dim}}) {
    synth::DitShape shape;
    shape.dim = dim;
    shape.ffn_dim = 2 * dim;
    shape.num_heads = 2;
    shape.num_layers = 2;
    shape.out_dim = out_dim;
    ComponentHeaders h{component, ComponentName(component), {}};
    for (const synth::SyntheticTensor& t : synth::OfficialDitTensors(shape, io::DType::kBF16)) {
      uint64_t n = 2;
      for (int64_t d : t.shape) n *= static_cast<uint64_t>(d);
      h.tensors.push_back({t.name, t.dtype, t.shape, n});
    }
    headers.components.push_back(std::move(h));
  }
  return headers;
}

TEST(Wan22Plan, ExpertsOfDifferentGeometryAreRefused) {
  auto plan = MakePlan(SmallPair(256, 256, 16), RequestShape{}, Budgets{24 * kGiB, 64 * kGiB});
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->offload, OffloadMode::kNone);
  const absl::Status s = MakePlan(SmallPair(256, 512, 16), RequestShape{}, Budgets{24 * kGiB, 64 * kGiB}).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("dit_low_noise"), std::string::npos) << s;
}

TEST(Wan22Plan, AVaeThatDisagreesWithTheDitIsRefused) {
  ModelHeaders headers = SmallPair(256, 256, 48);  // 48 latent channels: the Wan2.2 VAE's
  ComponentHeaders vae{Component::kVae, "Wan2.1_VAE.pth", {}};
  for (const synth::SyntheticTensor& t : synth::OfficialVaeTensors(synth::VaeShape::Wan21(), io::DType::kF32)) {
    vae.tensors.push_back({t.name, t.dtype, t.shape, 0});
  }
  headers.components.push_back(std::move(vae));
  const absl::Status s = MakePlan(headers, RequestShape{}, Budgets{24 * kGiB, 64 * kGiB}).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("wan2.1 VAE"), std::string::npos) << s;
}

TEST_F(Wan22PlanTest, PlanLoadMapsTheLowNoiseExpertAndExecutesTheSwap) {
  const ModelHeaders headers = Headers(synth::SparseModel::kT2VA14B);
  pipeline::GenerationDefaults defaults;  // 832x480, 81 frames
  pipeline::LoadPlanOptions options;
  options.device = torch::Device(torch::kCUDA, 0);
  options.gpu_memory = 24 * kGiB;
  options.host_memory = 128 * kGiB;
  // The plan needs the expert swap: the executor runs it (offload_executor.h).
  // Both experts load on the host in the GPU's compute dtype and move per
  // request; the encoders on the GPU move after use.
  auto load = pipeline::PlanLoad(headers, defaults, options);
  ASSERT_TRUE(load.ok()) << load.status();
  EXPECT_EQ(load->executed_offload, OffloadMode::kExpertSwap);
  EXPECT_TRUE(load->offload_device.is_cuda());
  for (Component c : {Component::kDit, Component::kDitLowNoise}) {
    EXPECT_TRUE((*load)[c].moved) << ComponentName(c);
    EXPECT_FALSE((*load)[c].block_streamed);
    EXPECT_TRUE((*load)[c].device.is_cpu());
    EXPECT_EQ((*load)[c].dtype, torch::kBFloat16);
  }
  EXPECT_EQ((*load)[Component::kT5].moved, (*load)[Component::kT5].device.is_cuda());
  EXPECT_FALSE((*load)[Component::kVae].moved);

  // An explicit placement: both experts as placed, nothing moved.
  options.placement = ParsePlacement("dit=cuda:0:fp8,dit_low_noise=cpu:fp8").value();
  load = pipeline::PlanLoad(headers, defaults, options);
  ASSERT_TRUE(load.ok()) << load.status();
  EXPECT_EQ(load->executed_offload, OffloadMode::kNone);
  EXPECT_TRUE((*load)[Component::kDit].device.is_cuda());
  EXPECT_TRUE((*load)[Component::kDit].fp8);
  EXPECT_TRUE((*load)[Component::kDitLowNoise].device.is_cpu());
  EXPECT_TRUE((*load)[Component::kDitLowNoise].fp8);
  EXPECT_EQ((*load)[Component::kDitLowNoise].dtype, torch::kFloat32);  // fp8 computes in fp32 on the CPU
  EXPECT_EQ(load->summary.offload_mode, OffloadMode::kExpertSwap);

  // One expert's entry applies to both.
  options.placement = ParsePlacement("dit=cuda:0:fp8").value();
  load = pipeline::PlanLoad(headers, defaults, options);
  ASSERT_TRUE(load.ok()) << load.status();
  EXPECT_TRUE((*load)[Component::kDitLowNoise].device.is_cuda());
  EXPECT_EQ((*load)[Component::kDitLowNoise].dtype, torch::kBFloat16);
  EXPECT_TRUE((*load)[Component::kDitLowNoise].fp8);

  // On the CPU the plan needs no offload: both experts load there.
  pipeline::LoadPlanOptions cpu;
  cpu.host_memory = 256 * kGiB;
  load = pipeline::PlanLoad(headers, defaults, cpu);
  ASSERT_TRUE(load.ok()) << load.status();
  EXPECT_TRUE((*load)[Component::kDitLowNoise].device.is_cpu());
  EXPECT_EQ((*load)[Component::kDitLowNoise].dtype, torch::kFloat32);
  EXPECT_FALSE((*load)[Component::kDitLowNoise].fp8);
}

}  // namespace
}  // namespace videogen::memory
