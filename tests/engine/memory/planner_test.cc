// The planner against real loads (predicted resident bytes vs the loaded
// tensors) and against the real I2V-14B-480P geometry, as a sparse synthetic
// model directory (real headers, data as file holes).
#include "engine/memory/planner.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "bench/load/official_shapes.h"
#include "engine/io/tensor_source.h"
#include "engine/memory/model_headers.h"
#include "engine/models/common/state_dict.h"
#include "engine/models/dit/model.h"
#include "engine/quant/quant_linear.h"
#include "engine/synth/synthetic_checkpoint.h"

namespace videogen::memory {
namespace {

namespace fs = std::filesystem;
constexpr uint64_t kGiB = 1ull << 30;

fs::path TempDir(const std::string& name) {
  return fs::temp_directory_path() / (name + "_" + std::to_string(::getpid()));
}

// Parameter bytes of a loaded model, plus the 4-byte scale of each fp8 layer.
uint64_t LoadedBytes(torch::nn::Module& model) {
  uint64_t total = 0;
  for (const auto& p : model.named_parameters()) total += p.value().numel() * p.value().element_size();
  for (const auto& m : model.named_modules()) {
    if (auto* q = dynamic_cast<quant::QuantLinearImpl*>(m.value().get()); q != nullptr && q->is_fp8()) total += 4;
  }
  return total;
}

TEST(Planner, PredictedResidentBytesMatchTheLoadedModel) {
  models::WanConfig c = models::WanConfig::I2V_14B();
  c.dim = 256; c.ffn_dim = 512; c.num_heads = 2; c.num_layers = 2; c.text_dim = 64; c.freq_dim = 32;
  const fs::path dir = TempDir("vg_plan_small");
  synth::SyntheticCheckpointOptions options;
  options.dir = dir.string();
  auto path = synth::WriteSyntheticCheckpoint(bench::DitTensors(c), options);
  ASSERT_TRUE(path.ok()) << path.status();
  auto headers = ReadModelHeaders(dir.string());
  ASSERT_TRUE(headers.ok()) << headers.status();
  const ComponentHeaders& dit = *headers->Find(Component::kDit);
  auto source = io::OpenCheckpoint(*path);
  ASSERT_TRUE(source.ok());
  struct Case {
    Precision precision;
    torch::ScalarType dtype;
    bool fp8;
  };
  for (const Case& k : {Case{Precision::kFp32, torch::kFloat32, false}, Case{Precision::kBf16, torch::kBFloat16, false},
                        Case{Precision::kFp8, torch::kFloat32, true}, Case{Precision::kFp8, torch::kBFloat16, true}}) {
    models::WanModel model(c, quant::ParamInit::kUninitialized);
    models::LoadOptions load;
    load.dtype = k.dtype;
    if (k.fp8) load.fp8 = quant::Fp8Options{};
    ASSERT_TRUE(models::LoadStateDict(*model, **source, load).ok());
    const double actual = static_cast<double>(LoadedBytes(*model));
    const double predicted = static_cast<double>(
        ResidentBytes(dit, k.precision, k.dtype == torch::kBFloat16 ? Precision::kBf16 : Precision::kFp32));
    EXPECT_NEAR(predicted / actual, 1.0, 0.01) << PrecisionName(k.precision) << " " << c10::toString(k.dtype);
  }
  fs::remove_all(dir);
}

class I2V14BPlanTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new fs::path(TempDir("vg_plan_i2v14b"));
    auto written = bench::WriteSparseI2V14B(dir_->string());
    ASSERT_TRUE(written.ok()) << written.status();
  }
  static void TearDownTestSuite() {
    fs::remove_all(*dir_);
    delete dir_;
  }
  static fs::path* dir_;
};
fs::path* I2V14BPlanTest::dir_ = nullptr;

TEST_F(I2V14BPlanTest, HeadersGiveTheOfficialSizesWithoutUsingDisk) {
  auto headers = ReadModelHeaders(dir_->string());
  ASSERT_TRUE(headers.ok()) << headers.status();
  ASSERT_EQ(headers->components.size(), 4u);
  const ComponentHeaders& dit = *headers->Find(Component::kDit);
  // ~65.6 GB of fp32 DiT weights in the official 7 shards; T5 ~11.4 GB in bf16.
  EXPECT_NEAR(static_cast<double>(ResidentBytes(dit, Precision::kFp32)) / 1e9, 65.6, 0.5);
  EXPECT_NEAR(static_cast<double>(ResidentBytes(*headers->Find(Component::kT5), Precision::kBf16)) / 1e9, 11.4, 0.1);
  uint64_t allocated = 0;
  for (const auto& entry : fs::directory_iterator(*dir_)) {
    struct stat st;
    ASSERT_EQ(::stat(entry.path().c_str(), &st), 0);
    allocated += static_cast<uint64_t>(st.st_blocks) * 512;
  }
  EXPECT_LT(allocated, 64ull << 20) << "the synthetic checkpoint must be sparse";
  auto geometry = ReadDitGeometry(*headers);
  ASSERT_TRUE(geometry.ok());
  EXPECT_EQ(geometry->dim, 5120);
  EXPECT_EQ(geometry->ffn_dim, 13824);
  EXPECT_EQ(geometry->num_layers, 40);
  EXPECT_EQ(geometry->num_heads, 40);
  EXPECT_EQ(geometry->in_dim, 36);
  EXPECT_TRUE(geometry->image_input);
}

TEST_F(I2V14BPlanTest, PlansForThreeMachines) {
  auto headers = ReadModelHeaders(dir_->string());
  ASSERT_TRUE(headers.ok());
  const RequestShape request;  // 81 frames, 832x480, CFG
  struct Machine {
    uint64_t gpu_gib, host_gib;
    Precision dit;
    OffloadMode offload;
  };
  // 80 GiB keeps everything resident in bf16; a 24 GiB card holds the fp8 DiT
  // with the encoders on the GPU only while encoding; a 12 GiB card streams
  // the fp8 DiT blocks from host memory; 8 GiB cannot run 81 frames at 480p
  // (see RefusesEightGibForEightyOneFrames).
  for (const Machine& m : {Machine{80, 64, Precision::kBf16, OffloadMode::kNone},
                           Machine{24, 32, Precision::kFp8, OffloadMode::kEncodersAfterUse},
                           Machine{12, 32, Precision::kFp8, OffloadMode::kDitBlockStreaming}}) {
    auto plan = MakePlan(*headers, request, Budgets{m.gpu_gib * kGiB, m.host_gib * kGiB});
    ASSERT_TRUE(plan.ok()) << m.gpu_gib << " GiB GPU: " << plan.status();
    std::printf("---- I2V-14B-480P, %lu GiB GPU, %lu GiB host\n%s", m.gpu_gib, m.host_gib, FormatPlan(*plan).c_str());
    EXPECT_EQ(plan->components[0].component, Component::kDit);
    EXPECT_EQ(plan->components[0].placement.precision, m.dit) << m.gpu_gib;
    EXPECT_EQ(plan->offload, m.offload) << m.gpu_gib;
    EXPECT_LE(plan->peak_vram, m.gpu_gib * kGiB);
    EXPECT_LE(plan->peak_host, m.host_gib * kGiB);
    EXPECT_EQ(plan->peak_vram, std::max({plan->vram_encode, plan->vram_denoise, plan->vram_decode}));
  }
}

TEST_F(I2V14BPlanTest, RefusesEightGibForEightyOneFramesAndNamesWhatFits) {
  auto headers = ReadModelHeaders(dir_->string());
  ASSERT_TRUE(headers.ok());
  const Budgets budgets{8 * kGiB, 32 * kGiB};
  const absl::Status s = MakePlan(*headers, RequestShape{}, budgets).status();
  std::printf("---- I2V-14B-480P, 8 GiB GPU, 32 GiB host\n%s\n", s.ToString().c_str());
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("GPU memory short by"), std::string::npos) << s;
  const size_t at = s.message().find("--frames ");
  ASSERT_NE(at, std::string::npos) << s;
  RequestShape shorter;
  shorter.frames = std::stoll(std::string(s.message().substr(at + 9)));
  auto plan = MakePlan(*headers, shorter, budgets);
  ASSERT_TRUE(plan.ok()) << plan.status();
  std::printf("%s", FormatPlan(*plan).c_str());
  EXPECT_EQ(plan->offload, OffloadMode::kDitBlockStreaming);
  EXPECT_LE(plan->peak_vram, budgets.gpu_bytes);
  shorter.frames += 4;
  EXPECT_EQ(MakePlan(*headers, shorter, budgets).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(I2V14BPlanTest, TooSmallBudgetIsRefusedBeforeLoading) {
  auto headers = ReadModelHeaders(dir_->string());
  ASSERT_TRUE(headers.ok());
  const absl::Status s = MakePlan(*headers, RequestShape{}, Budgets{4 * kGiB, 16 * kGiB}).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("GPU memory short by"), std::string::npos) << s;
  EXPECT_NE(s.message().find("would fit with --gpu-memory"), std::string::npos) << s;
  // Without a GPU the host must hold everything: 16 GiB is not enough.
  const absl::Status cpu = MakePlan(*headers, RequestShape{}, Budgets{0, 16 * kGiB}).status();
  EXPECT_EQ(cpu.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(cpu.message().find("host RAM short by"), std::string::npos) << cpu;
  // ... and a machine without a GPU is never told to give GPU memory.
  EXPECT_NE(cpu.message().find("would fit with --host-memory"), std::string::npos) << cpu;
  EXPECT_EQ(cpu.message().find("--gpu-memory"), std::string::npos) << cpu;
}

TEST_F(I2V14BPlanTest, HostOnlyServesWhatFitsWithT5Streamed) {
  auto headers = ReadModelHeaders(dir_->string());
  ASSERT_TRUE(headers.ok());
  // The seed machine: no GPU, 23.54 GiB of host RAM. 81 frames at 832x480
  // cannot fit (the fp8 DiT and its working set at 32760 tokens), so the
  // server plans the resident set for the requests that do fit.
  const Budgets budgets{0, static_cast<uint64_t>(23.54 * kGiB)};
  EXPECT_EQ(MakePlan(*headers, RequestShape{}, budgets).status().code(), absl::StatusCode::kFailedPrecondition);
  auto plan = MakeServingPlan(*headers, RequestShape{}, budgets);
  ASSERT_TRUE(plan.ok()) << plan.status();
  std::printf("---- I2V-14B-480P, no GPU, 23.54 GiB host\n%s", FormatPlan(*plan).c_str());
  EXPECT_EQ(plan->offload, OffloadMode::kEncodersAfterUse);
  EXPECT_EQ(plan->components[0].placement.precision, Precision::kFp8);
  for (const ComponentPlan& c : plan->components) {
    EXPECT_FALSE(c.placement.device.is_cuda()) << ComponentName(c.component);
    if (c.component == Component::kT5) {
      EXPECT_EQ(c.resident_bytes, 0u) << "T5 is streamed, never resident";
    }
  }
  EXPECT_TRUE(Fits(*plan));
  EXPECT_LE(plan->peak_host, budgets.host_bytes);
  EXPECT_LT(plan->request.frames, 81);
  EXPECT_GE(plan->request.frames, 1);
  EXPECT_EQ(plan->request.width, 832);
  // The plan is for the most frames that fit at the default size: 4 more do not.
  RequestShape next = plan->request;
  next.frames += 4;
  auto longer = EvaluateRequest(*headers, *plan, next);
  ASSERT_TRUE(longer.ok()) << longer.status();
  EXPECT_FALSE(Fits(*longer));
  // T5 resident beside the fp8 DiT (10.6 + 15.5 GiB) cannot fit even the
  // smallest request here: the same plan with T5 resident does not fit.
  Plan resident = *plan;
  resident.offload = OffloadMode::kNone;
  auto with_t5 = EvaluateRequest(*headers, resident, plan->request);
  ASSERT_TRUE(with_t5.ok());
  EXPECT_FALSE(Fits(*with_t5));
  EXPECT_GE(with_t5->peak_host - plan->peak_host, 9 * kGiB);
}

TEST_F(I2V14BPlanTest, HostOnlyRefusesOnlyWhenNotEvenTheSmallestRequestFits) {
  auto headers = ReadModelHeaders(dir_->string());
  ASSERT_TRUE(headers.ok());
  const absl::Status s = MakeServingPlan(*headers, RequestShape{}, Budgets{0, 16 * kGiB}).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("host RAM short by"), std::string::npos) << s;
  EXPECT_NE(s.message().find("would fit with --host-memory"), std::string::npos) << s;
  EXPECT_EQ(s.message().find("--gpu-memory"), std::string::npos) << s;
}

TEST(Planner, RejectsBadRequestShape) {
  ModelHeaders empty;
  RequestShape r;
  r.frames = 80;
  EXPECT_EQ(MakePlan(empty, r, Budgets{kGiB, kGiB}).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace videogen::memory
