#include <memory>
#include <vector>

#include <ATen/ATen.h>

#include "absl/strings/str_cat.h"
#include "engine/common/status_macros.h"
#include "engine/schedulers/scheduler.h"
#include "engine/schedulers/scheduler_config.h"
#include "engine/verify/runners.h"

namespace videogen::verify {
namespace {

absl::StatusOr<schedulers::SamplerKind> KindOfComponent(const std::string& component) {
  if (component == "scheduler_unipc") return schedulers::SamplerKind::kUniPC;
  if (component == "scheduler_dpmpp") return schedulers::SamplerKind::kDpmPP;
  if (component == "scheduler_euler") return schedulers::SamplerKind::kEuler;
  return absl::InvalidArgumentError(absl::StrCat("unknown scheduler component '", component, "'"));
}

}  // namespace

// Replay protocol of the scheduler fixtures: sample_0 = sample_init; for
// k = 0..S-1, sample_{k+1} = Step(model_outputs[k], k, sample_k) on one
// scheduler instance. When `model_outputs` is absent they are recomputed as
// 0.5 * sample_k + g, the rule they were recorded with.
absl::StatusOr<TensorMap> RunSchedulerFixture(const Fixture& fixture, const RunOptions& options) {
  if (options.weight_dtype == WeightDType::kFp8) {
    return absl::InvalidArgumentError(absl::StrCat("fp8 not supported for ", fixture.component, " yet"));
  }
  ASSIGN_OR_RETURN(const schedulers::SamplerKind kind, KindOfComponent(fixture.component));
  if (!fixture.meta.contains("config")) return absl::InvalidArgumentError(fixture.name + ": no config");
  ASSIGN_OR_RETURN(const schedulers::SchedulerConfig config,
                   schedulers::SchedulerConfig::FromJson(kind, fixture.meta["config"]));
  ASSIGN_OR_RETURN(std::unique_ptr<schedulers::FlowScheduler> scheduler,
                   schedulers::FlowScheduler::Create(kind, config.options));
  RETURN_IF_ERROR(scheduler->SetTimesteps(config.sampling_steps, config.shift));
  const int steps = scheduler->num_steps();

  ASSIGN_OR_RETURN(torch::Tensor sample, fixture.Input("sample_init"));
  torch::Tensor model_outputs, g;
  if (fixture.inputs.count("model_outputs")) {
    model_outputs = fixture.inputs.at("model_outputs");
    if (model_outputs.dim() < 1 || model_outputs.size(0) != steps) {
      return absl::InvalidArgumentError(absl::StrCat(fixture.name, ": model_outputs must hold ", steps,
                                                     " steps (sampling_steps)"));
    }
  } else {
    ASSIGN_OR_RETURN(g, fixture.Input("g"));
  }

  std::vector<torch::Tensor> samples = {sample};
  for (int k = 0; k < steps; ++k) {
    const torch::Tensor v = model_outputs.defined() ? model_outputs[k] : sample * 0.5 + g;
    ASSIGN_OR_RETURN(sample, scheduler->Step(v, k, sample));
    samples.push_back(sample);
  }
  TensorMap out;
  out["timesteps"] = scheduler->timesteps();
  out["sigmas"] = scheduler->sigmas();
  out["samples"] = at::stack(samples);
  return out;
}

}  // namespace videogen::verify
