#include "engine/schedulers/scheduler.h"

#include <cmath>
#include <string>

#include "absl/strings/str_cat.h"
#include "engine/common/status_macros.h"
#include "engine/common/torch_status.h"
#include "engine/schedulers/dpmpp_scheduler.h"
#include "engine/schedulers/euler_scheduler.h"
#include "engine/schedulers/step_distill_scheduler.h"
#include "engine/schedulers/unipc_scheduler.h"

namespace videogen::schedulers {
namespace {

bool PositiveFinite(double v) { return std::isfinite(v) && v > 0; }

std::string ShapeString(const torch::Tensor& t) {
  std::string s = "[";
  for (int64_t i = 0; i < t.dim(); ++i) absl::StrAppend(&s, i ? ", " : "", t.size(i));
  return s + "]";
}

absl::Status ValidateOptions(const SchedulerOptions& o) {
  if (o.num_train_timesteps < 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("num_train_timesteps must be >= 2, got ", o.num_train_timesteps));
  }
  if (!PositiveFinite(o.shift)) {
    return absl::InvalidArgumentError(absl::StrCat("shift must be a positive finite number, got ", o.shift));
  }
  if (o.solver_order != 1 && o.solver_order != 2) {
    return absl::InvalidArgumentError(absl::StrCat("solver_order must be 1 or 2, got ", o.solver_order));
  }
  if (!(o.denoising_strength > 0 && o.denoising_strength <= 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("denoising_strength must be in (0, 1], got ", o.denoising_strength));
  }
  for (size_t i = 0; i < o.timestep_list.size(); ++i) {
    const int t = o.timestep_list[i];
    if (t < 1 || t > o.num_train_timesteps || (i > 0 && t >= o.timestep_list[i - 1])) {
      return absl::InvalidArgumentError(absl::StrCat("timesteps must decrease strictly within [1, ",
                                                     o.num_train_timesteps, "], got ", t, " at position ", i));
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::string SamplerKindName(SamplerKind kind) {
  switch (kind) {
    case SamplerKind::kUniPC:
      return "unipc";
    case SamplerKind::kDpmPP:
      return "dpm++";
    case SamplerKind::kEuler:
      return "euler";
    case SamplerKind::kStepDistill:
      return "step_distill";
  }
  return "unknown";
}

absl::StatusOr<SamplerKind> SamplerKindFromName(absl::string_view name) {
  if (name == "unipc") return SamplerKind::kUniPC;
  if (name == "dpm++" || name == "dpmpp") return SamplerKind::kDpmPP;
  if (name == "euler") return SamplerKind::kEuler;
  if (name == "step_distill") return SamplerKind::kStepDistill;
  return absl::InvalidArgumentError(absl::StrCat(
      "sample_solver must be 'unipc', 'dpm++', 'euler' or 'step_distill', got '", std::string(name), "'"));
}

absl::StatusOr<std::unique_ptr<FlowScheduler>> FlowScheduler::Create(SamplerKind kind,
                                                                     const SchedulerOptions& options) {
  RETURN_IF_ERROR(ValidateOptions(options));
  if (kind != SamplerKind::kStepDistill && !options.timestep_list.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("timesteps: an explicit timestep list needs the step_distill sampler, not ", SamplerKindName(kind)));
  }
  switch (kind) {
    case SamplerKind::kUniPC:
      return std::unique_ptr<FlowScheduler>(new UniPCScheduler(options));
    case SamplerKind::kDpmPP:
      return std::unique_ptr<FlowScheduler>(new DpmPPScheduler(options));
    case SamplerKind::kEuler:
      return std::unique_ptr<FlowScheduler>(new EulerScheduler(options));
    case SamplerKind::kStepDistill:
      return std::unique_ptr<FlowScheduler>(new StepDistillScheduler(options));
  }
  return absl::InvalidArgumentError("unknown sampler kind");
}

absl::Status FlowScheduler::SetTimesteps(int num_steps, double shift) {
  if (num_steps < 1) return absl::InvalidArgumentError(absl::StrCat("steps must be >= 1, got ", num_steps));
  if (!options_.timestep_list.empty() && static_cast<size_t>(num_steps) != options_.timestep_list.size()) {
    return absl::InvalidArgumentError(absl::StrCat("steps must equal the ", options_.timestep_list.size(),
                                                   " entries of the timestep list, got ", num_steps));
  }
  if (!PositiveFinite(shift)) {
    return absl::InvalidArgumentError(absl::StrCat("shift must be a positive finite number, got ", shift));
  }
  auto schedule = TorchCall(absl::StrCat(SamplerKindName(kind_), " SetTimesteps"),
                            [&] { return ComputeSchedule(num_steps, shift); });
  if (!schedule.ok()) return schedule.status();
  timesteps_ = std::move(schedule->timesteps);
  sigmas_ = std::move(schedule->sigmas);
  num_steps_ = num_steps;
  last_step_index_ = -1;
  ResetState();
  return absl::OkStatus();
}

absl::StatusOr<torch::Tensor> FlowScheduler::Step(const torch::Tensor& model_output, int step_index,
                                                  const torch::Tensor& sample) {
  if (num_steps_ == 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(SamplerKindName(kind_), " scheduler: Step called before SetTimesteps"));
  }
  if (step_index < 0 || step_index >= num_steps_) {
    return absl::InvalidArgumentError(
        absl::StrCat("step_index must be in [0, ", num_steps_, "), got ", step_index));
  }
  if (IsMultistep() && last_step_index_ >= 0 && step_index != last_step_index_ + 1) {
    return absl::FailedPreconditionError(
        absl::StrCat(SamplerKindName(kind_), " scheduler: step_index ", step_index, " after step ",
                     last_step_index_, "; multistep samplers need consecutive steps (SetTimesteps resets)"));
  }
  if (!model_output.defined() || !model_output.is_floating_point()) {
    return absl::InvalidArgumentError("model_output must be a defined floating-point tensor");
  }
  if (!sample.defined() || !sample.is_floating_point()) {
    return absl::InvalidArgumentError("sample must be a defined floating-point tensor");
  }
  if (!model_output.sizes().equals(sample.sizes())) {
    return absl::InvalidArgumentError(absl::StrCat("model_output shape ", ShapeString(model_output),
                                                   " differs from sample shape ", ShapeString(sample)));
  }
  if (model_output.device() != sample.device()) {
    return absl::InvalidArgumentError("model_output and sample must be on the same device");
  }
  auto out = TorchCall(absl::StrCat(SamplerKindName(kind_), " Step"),
                       [&] { return DoStep(model_output, step_index, sample); });
  if (out.ok()) last_step_index_ = step_index;
  return out;
}

}  // namespace videogen::schedulers
