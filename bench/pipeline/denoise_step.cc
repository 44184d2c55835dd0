// bench_denoise_step --model-dir DIR [--size WxH] [--frames N] [--device cpu|cuda[:N]]
//                    [--dtypes bf16,fp8] [--plan-gpu-memory SIZE[,SIZE...]] [--repeats R]
//                    [--json FILE]
// One full denoising step with classifier-free guidance (two DiT passes and
// the UniPC update, pipeline::Denoise with steps = 1) of the DiT in DIR at the
// request geometry, with random latent noise, context and image conditioning
// of the model's shapes. The weights are whatever DIR holds: the sparse
// stand-ins of videogen-make-sparse (zeros: real shapes, real kernels) or the
// tiny model (videogen-make-tiny). Runs:
//   --dtypes: the DiT held in bf16, or in fp8 (per-tensor scales) computing in
//     bf16 (fp32 and fp8-computing-fp32 with --dtypes fp32,fp8-fp32);
//   --plan-gpu-memory: the memory planner's plan for that GPU budget
//     (memory::MakePlan for this request shape; host budget from the machine)
//     gives the DiT precision; the step's measured peak device memory is
//     compared with the plan's prediction for the DiT (resident weights +
//     DitWorkingSetBytes) and with its whole denoise-phase peak (which also
//     counts encoders the plan keeps on the GPU, not loaded here).
// Each run: one warm-up step, then R timed steps (median); the device is
// synchronised around each; peak allocated device memory over the timed
// steps. The DiT is loaded once per precision. --json appends one object per
// run. Exit 0 when every run ran, 1 otherwise, 2 on usage errors.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <nlohmann/json.hpp>
#include <torch/types.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "bench/common/bench_start.h"
#include "bench/common/device.h"
#include "engine/common/runtime.h"
#include "engine/common/status_macros.h"
#include "engine/common/torch_status.h"
#include "engine/io/model_dir.h"
#include "engine/io/tensor_source.h"
#include "engine/memory/model_headers.h"
#include "engine/memory/planner.h"
#include "engine/models/common/state_dict.h"
#include "engine/models/dit/model.h"
#include "engine/pipeline/denoise.h"
#include "engine/quant/policy.h"

namespace {

using namespace videogen;

constexpr char kUsage[] =
    "usage: bench_denoise_step --model-dir DIR [--size WxH] [--frames N] [--device cpu|cuda[:N]]\n"
    "                          [--dtypes bf16,fp8] [--plan-gpu-memory SIZE[,SIZE...]] [--repeats R] [--json FILE]\n"
    "One denoising step with CFG (two DiT passes + UniPC update) of DIR's DiT at the request geometry, per\n"
    "DiT precision (--dtypes: bf16, fp8, fp32, fp8-fp32) and per planned GPU budget (--plan-gpu-memory: the\n"
    "planner's precision; measured peak vs its prediction). Defaults: --size 832x480 --frames 81 --device cpu\n"
    "--dtypes bf16,fp8 --repeats 1.\n";

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

std::vector<std::string> Split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, ',');) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

// Bytes with an optional K/M/G/T suffix (powers of 1024), as videogen-plan.
std::optional<uint64_t> ParseSize(std::string s) {
  if (s.empty()) return std::nullopt;
  uint64_t mult = 1;
  switch (s.back()) {
    case 'K': case 'k': mult = 1ull << 10; break;
    case 'M': case 'm': mult = 1ull << 20; break;
    case 'G': case 'g': mult = 1ull << 30; break;
    case 'T': case 't': mult = 1ull << 40; break;
    default: break;
  }
  if (mult != 1) s.pop_back();
  double v = 0;
  if (!absl::SimpleAtod(s, &v) || v <= 0) return std::nullopt;
  return static_cast<uint64_t>(v * static_cast<double>(mult));
}

// How the DiT is held: parameter / compute dtype and fp8 weights or not.
struct DitPrecision {
  std::string name;  // bf16, fp8, fp32, fp8-fp32
  torch::ScalarType dtype = torch::kBFloat16;
  bool fp8 = false;
};

std::optional<DitPrecision> ParsePrecision(const std::string& name) {
  if (name == "bf16") return DitPrecision{name, torch::kBFloat16, false};
  if (name == "fp8") return DitPrecision{name, torch::kBFloat16, true};
  if (name == "fp32") return DitPrecision{name, torch::kFloat32, false};
  if (name == "fp8-fp32") return DitPrecision{name, torch::kFloat32, true};
  return std::nullopt;
}

// The planner's DiT precision, as run here (fp8 computes in bf16 on a GPU
// and in fp32 on the CPU, as the engine does).
DitPrecision FromPlan(memory::Precision p, bool gpu) {
  switch (p) {
    case memory::Precision::kFp8: return *ParsePrecision(gpu ? "fp8" : "fp8-fp32");
    case memory::Precision::kFp32: return *ParsePrecision("fp32");
    default: return *ParsePrecision("bf16");
  }
}

struct Run {
  std::string label;  // "bf16", "plan 24G", ...
  DitPrecision precision;
  // Plan runs only.
  uint64_t budget = 0;
  std::optional<memory::Plan> plan;
  uint64_t predicted_dit = 0;  // resident DiT + DitWorkingSetBytes
};

struct Geometry {
  int64_t frames = 81, width = 832, height = 480;
};

absl::StatusOr<models::WanModel> LoadDit(const io::ModelFiles& files, const models::WanConfig& config,
                                         const DitPrecision& p, torch::Device device) {
  models::WanModel dit(config, quant::ParamInit::kUninitialized);
  ASSIGN_OR_RETURN(auto source, io::OpenCheckpoint(files.dit));
  models::LoadOptions load;
  load.device = device;
  load.dtype = p.dtype;
  if (p.fp8) load.fp8 = quant::Fp8Options{quant::Fp8Policy::WanDit(), quant::Fp8Scaling::kPerTensor};
  RETURN_IF_ERROR(models::LoadStateDict(*dit, *source, load));
  return dit;
}

struct StepResult {
  double median_seconds = 0, min_seconds = 0, max_seconds = 0;
  uint64_t weights_bytes = 0;  // allocated on the device before the step
  uint64_t peak_bytes = 0;     // peak allocated during the timed steps (weights included)
};

// Random inputs of the model's shapes and one CFG step, warm-up + R timed.
absl::StatusOr<StepResult> TimeStep(models::WanModel& dit, const Geometry& g, int repeats, torch::Device device) {
  const models::WanConfig& c = dit->config();
  const int64_t stride = c.out_dim == 48 ? 16 : 8;  // the Wan2.2 VAE's latent has 48 channels
  const int64_t lat_t = (g.frames - 1) / 4 + 1, lat_h = g.height / stride, lat_w = g.width / stride;
  const auto on = [&](torch::ScalarType dtype) { return torch::TensorOptions().dtype(dtype).device(device); };
  const torch::Tensor noise = torch::randn({c.out_dim, lat_t, lat_h, lat_w}, on(torch::kFloat32));
  const torch::Tensor context = torch::randn({c.text_len, c.text_dim}, on(torch::kFloat32));
  const torch::Tensor context_null = torch::randn({c.text_len, c.text_dim}, on(torch::kFloat32));
  const int64_t y_channels = c.has_y_input() ? c.in_dim - c.out_dim : 0;
  const torch::Tensor y =
      y_channels > 0 ? torch::randn({y_channels, lat_t, lat_h, lat_w}, on(torch::kFloat32)) : torch::Tensor();
  std::optional<torch::Tensor> clip_fea;
  if (c.has_clip_input()) {
    // CLIP features [1, 257, clip_dim]: clip_dim from img_emb.proj.0 (LayerNorm(clip_dim)).
    // The dict is kept while `norm` points into it.
    const auto params = dit->named_parameters();
    const torch::Tensor* norm = params.find("img_emb.proj.0.weight");
    if (norm == nullptr) return absl::InvalidArgumentError("an image DiT without img_emb.proj.0.weight");
    clip_fea = torch::randn({1, 257, norm->size(0)}, on(torch::kFloat32));
  }
  const int64_t seq_len = lat_t * (lat_h / c.patch_size[1]) * (lat_w / c.patch_size[2]);

  pipeline::DenoiseOptions options;
  options.steps = 1;
  options.guidance_scale = 5.0;
  options.shift = 3.0;
  const pipeline::FlowModelFn model = [&](const torch::Tensor& latent, const torch::Tensor& t, bool conditional,
                                          pipeline::Expert) -> absl::StatusOr<torch::Tensor> {
    models::WanInputs in;
    in.x = {latent.to(device)};
    in.t = t.to(device);
    in.context = {conditional ? context : context_null};
    in.seq_len = seq_len;
    in.clip_fea = clip_fea;
    if (y.defined()) in.y = {y};
    return dit->forward(in)[0];
  };
  c10::InferenceMode inference;
  const uint64_t weights = bench::AllocatedBytes(device);
  std::vector<double> seconds;
  for (int r = 0; r <= repeats; ++r) {
    if (r == 1) bench::ResetPeakMemory(device);  // after the warm-up: the steady state
    bench::SyncDevice(device);
    const auto t0 = std::chrono::steady_clock::now();
    ASSIGN_OR_RETURN(const torch::Tensor latent, TorchCall("denoising step", [&] {
                       return pipeline::Denoise(noise, options, model, nullptr, nullptr);
                     }));
    bench::SyncDevice(device);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!torch::isfinite(latent).all().item<bool>()) return absl::InternalError("the step's latent is not finite");
    if (r > 0) seconds.push_back(s);
  }
  std::sort(seconds.begin(), seconds.end());
  StepResult result;
  result.median_seconds = seconds[seconds.size() / 2];
  result.min_seconds = seconds.front();
  result.max_seconds = seconds.back();
  result.weights_bytes = weights;
  result.peak_bytes = bench::PeakAllocatedBytes(device);
  return result;
}

}  // namespace

int main(int argc, char** argv) {
  if (bench::BenchStart(argc, argv, kUsage)) return 0;
  std::string dir, json_path;
  Geometry geometry;
  torch::Device device = torch::kCPU;
  std::vector<std::string> dtypes = {"bf16", "fp8"}, budgets;
  int repeats = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) {
      std::fprintf(stderr, "%s", kUsage);
      return 2;
    }
    const std::string v = argv[++i];
    if (a == "--model-dir") {
      dir = v;
    } else if (a == "--size") {
      if (std::sscanf(v.c_str(), "%ldx%ld", &geometry.width, &geometry.height) != 2) {
        std::fprintf(stderr, "bench_denoise_step: --size must be WxH\n");
        return 2;
      }
    } else if (a == "--frames") {
      if (!absl::SimpleAtoi(v, &geometry.frames) || geometry.frames < 1 || (geometry.frames - 1) % 4 != 0) {
        std::fprintf(stderr, "bench_denoise_step: --frames must be 1 + 4k\n");
        return 2;
      }
    } else if (a == "--device") {
      auto d = bench::ParseDevice(v);
      if (!d.ok()) {
        std::fprintf(stderr, "bench_denoise_step: %s\n", d.status().ToString().c_str());
        return 2;
      }
      device = *d;
    } else if (a == "--dtypes") {
      dtypes = Split(v);
    } else if (a == "--plan-gpu-memory") {
      budgets = Split(v);
    } else if (a == "--repeats") {
      repeats = std::max(1, std::atoi(v.c_str()));
    } else if (a == "--json") {
      json_path = v;
    } else {
      std::fprintf(stderr, "bench_denoise_step: unknown option '%s'\n%s", a.c_str(), kUsage);
      return 2;
    }
  }
  if (dir.empty()) {
    std::fprintf(stderr, "%s", kUsage);
    return 2;
  }
  if (!ConfigureTorchRuntime({}).ok()) return 1;

  io::FindModelFilesOptions find;
  find.headers_only = true;
  auto files = io::FindModelFiles(dir, find);
  auto headers = memory::ReadModelHeaders(dir);
  if (!files.ok() || !headers.ok()) {
    std::fprintf(stderr, "bench_denoise_step: %s\n",
                 (files.ok() ? headers.status() : files.status()).ToString().c_str());
    return 1;
  }
  absl::StatusOr<models::WanConfig> config = absl::InvalidArgumentError("no DiT config");
  if (!files->dit_config.empty()) {
    std::ifstream in(files->dit_config);
    config = models::WanConfig::FromJson(nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false));
  } else {
    auto source = io::OpenCheckpoint(files->dit);
    if (source.ok()) config = models::WanConfig::FromTensorShapes(**source);
  }
  auto geometry_headers = memory::ReadDitGeometry(*headers);
  if (!config.ok() || !geometry_headers.ok()) {
    std::fprintf(stderr, "bench_denoise_step: %s\n",
                 (config.ok() ? geometry_headers.status() : config.status()).ToString().c_str());
    return 1;
  }
  const memory::ComponentHeaders* dit_headers = headers->Find(memory::Component::kDit);

  memory::RequestShape shape;
  shape.frames = geometry.frames;
  shape.width = geometry.width;
  shape.height = geometry.height;
  std::vector<Run> runs;
  for (const std::string& name : dtypes) {
    const std::optional<DitPrecision> p = ParsePrecision(name);
    if (!p) {
      std::fprintf(stderr, "bench_denoise_step: --dtypes takes bf16, fp8, fp32, fp8-fp32; got '%s'\n", name.c_str());
      return 2;
    }
    runs.push_back({name, *p});
  }
  for (const std::string& b : budgets) {
    const std::optional<uint64_t> bytes = ParseSize(b);
    if (!bytes) {
      std::fprintf(stderr, "bench_denoise_step: --plan-gpu-memory: bad size '%s'\n", b.c_str());
      return 2;
    }
    memory::Budgets budget = memory::DetectBudgets(*bytes);
    auto plan = memory::MakePlan(*headers, shape, budget);
    if (!plan.ok()) {
      std::printf("plan %s: %s\n", b.c_str(), plan.status().ToString().c_str());
      continue;
    }
    memory::Precision dit_precision = memory::Precision::kBf16;
    for (const memory::ComponentPlan& cp : plan->components) {
      if (cp.component == memory::Component::kDit) dit_precision = cp.placement.precision;
    }
    Run run{absl::StrCat("plan ", b), FromPlan(dit_precision, device.is_cuda()), *bytes, *plan};
    const int64_t act_bytes = run.precision.dtype == torch::kFloat32 ? 4 : 2;
    run.predicted_dit = memory::ResidentBytes(*dit_headers, dit_precision,
                                              device.is_cuda() ? memory::Precision::kBf16 : memory::Precision::kFp32) +
                        memory::DitWorkingSetBytes(*geometry_headers, plan->request, act_bytes, run.precision.fp8);
    std::printf("plan %s: DiT %s, offload %s, predicted denoise peak %.2f GiB (DiT alone %.2f GiB)\n", b.c_str(),
                memory::PrecisionName(dit_precision), std::string(memory::OffloadModeName(plan->offload)).c_str(),
                plan->vram_denoise / kGiB, run.predicted_dit / kGiB);
    runs.push_back(std::move(run));
  }
  // One load per precision: runs grouped by it, in order of first appearance.
  std::map<std::string, size_t> first_run;
  for (size_t i = 0; i < runs.size(); ++i) first_run.emplace(runs[i].precision.name, i);
  std::stable_sort(runs.begin(), runs.end(), [&](const Run& a, const Run& b) {
    return first_run.at(a.precision.name) < first_run.at(b.precision.name);
  });

  std::printf("device=%s model=%s size=%ldx%ld frames=%ld dim=%ld layers=%ld; CFG step = 2 DiT passes + UniPC; "
              "median of %d after 1 warm-up\n",
              bench::DeviceName(device).c_str(), dir.c_str(), geometry.width, geometry.height, geometry.frames,
              config->dim, config->num_layers, repeats);
  std::fflush(stdout);
  std::ofstream json_out;
  if (!json_path.empty()) json_out.open(json_path, std::ios::app);
  int failures = 0;
  std::optional<models::WanModel> loaded;
  std::string loaded_name;
  for (const Run& run : runs) {
    if (loaded_name != run.precision.name) {
      loaded.reset();  // free the previous precision's weights first
      const auto t0 = std::chrono::steady_clock::now();
      auto dit = LoadDit(*files, *config, run.precision, device);
      if (!dit.ok()) {
        std::printf("%s: load failed: %s\n", run.label.c_str(), dit.status().ToString().c_str());
        ++failures;
        loaded_name.clear();
        continue;
      }
      loaded = *std::move(dit);
      loaded_name = run.precision.name;
      std::printf("loaded the DiT as %s in %.1f s\n", loaded_name.c_str(),
                  std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    auto step = TimeStep(*loaded, geometry, repeats, device);
    if (!step.ok()) {
      std::printf("%s: step failed: %s\n", run.label.c_str(), step.status().ToString().c_str());
      ++failures;
      continue;
    }
    std::printf("%s (DiT %s): step %.3f s [%.3f..%.3f] weights %.2f GiB peak %.2f GiB", run.label.c_str(),
                run.precision.name.c_str(), step->median_seconds, step->min_seconds, step->max_seconds,
                step->weights_bytes / kGiB, step->peak_bytes / kGiB);
    if (run.plan) {
      std::printf(" predicted DiT %.2f GiB (measured/predicted %.2f), plan denoise peak %.2f GiB of %.2f GiB",
                  run.predicted_dit / kGiB,
                  run.predicted_dit ? static_cast<double>(step->peak_bytes) / run.predicted_dit : 0.0,
                  run.plan->vram_denoise / kGiB, run.budget / kGiB);
    }
    std::printf("\n");
    std::fflush(stdout);
    if (json_out.is_open()) {
      nlohmann::json j = {{"bench", "denoise_step"}, {"run", run.label}, {"dit", run.precision.name},
                          {"device", bench::DeviceName(device)}, {"model_dir", dir}, {"width", geometry.width},
                          {"height", geometry.height}, {"frames", geometry.frames}, {"repeats", repeats},
                          {"step_seconds", step->median_seconds}, {"weights_bytes", step->weights_bytes},
                          {"peak_bytes", step->peak_bytes}};
      if (run.plan) {
        j["gpu_budget_bytes"] = run.budget;
        j["predicted_dit_bytes"] = run.predicted_dit;
        j["plan_denoise_bytes"] = run.plan->vram_denoise;
        j["plan_offload"] = std::string(memory::OffloadModeName(run.plan->offload));
      }
      json_out << j.dump() << "\n";
      json_out.flush();
    }
  }
  return failures == 0 ? 0 : 1;
}
