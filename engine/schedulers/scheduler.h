// Flow-matching samplers of Wan2.1: the interface the pipelines drive.
//
// Usage (as wan/text2video.py drives the official schedulers):
//   ASSIGN_OR_RETURN(auto scheduler, FlowScheduler::Create(SamplerKind::kUniPC, {}));
//   RETURN_IF_ERROR(scheduler->SetTimesteps(steps, shift));
//   for (int i = 0; i < steps; ++i) {
//     // t = scheduler->timesteps()[i] goes to the DiT.
//     ASSIGN_OR_RETURN(latent, scheduler->Step(noise_pred, i, latent));
//   }
//
// Thread safety: none. A scheduler carries multistep state between Step calls;
// use one instance per job. SetTimesteps resets all state.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <torch/types.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace videogen::schedulers {

enum class SamplerKind {
  kUniPC,  // wan.utils.fm_solvers_unipc.FlowUniPCMultistepScheduler (bh2, predict_x0)
  kDpmPP,  // wan.utils.fm_solvers.FlowDPMSolverMultistepScheduler (dpmsolver++, midpoint)
           // with the schedule of get_sampling_sigmas, as generate(sample_solver='dpm++')
  kEuler,  // DiffSynth-Studio FlowMatchScheduler(template='Wan'): plain flow-matching Euler
  kStepDistill,  // LightX2V WanStepDistillScheduler: the few-step sampler of step-distilled
                 // models and LoRAs (an explicit timestep list, e.g. 1000, 750, 500, 250)
};

// "unipc", "dpm++", "euler", "step_distill".
std::string SamplerKindName(SamplerKind kind);
// Inverse of SamplerKindName (also accepts "dpmpp"); InvalidArgument naming
// `sample_solver` otherwise.
absl::StatusOr<SamplerKind> SamplerKindFromName(absl::string_view name);

// Constructor arguments of the official classes. The defaults are what the Wan
// pipelines use.
struct SchedulerOptions {
  // Length of the training schedule; timestep = sigma * num_train_timesteps. >= 2.
  int num_train_timesteps = 1000;
  // The official constructor `shift` (> 0, finite). The pipelines construct
  // with 1 and pass the sampling shift to SetTimesteps. UniPC: shifts the
  // training sigmas in float32 (moves sigma_max); DPM++: re-applied to the
  // sampling sigmas in float64. Ignored by Euler (DiffSynth has none).
  double shift = 1.0;
  // Multistep order of UniPC and DPM++: 1 or 2 (Wan uses 2). Ignored by Euler.
  int solver_order = 2;
  // UniPC: order 1 at the final step (official `lower_order_final`). DPM++ with
  // a zero final sigma always takes a first-order final step.
  bool lower_order_final = true;
  // Euler only (DiffSynth `denoising_strength`, in (0, 1]): the schedule starts
  // at sigma = denoising_strength instead of 1.
  double denoising_strength = 1.0;
  // Step-distill only: the timesteps to sample, strictly decreasing in
  // [1, num_train_timesteps] (e.g. {1000, 750, 500, 250}); SetTimesteps then
  // needs num_steps == its size. Empty: LightX2V's default list for the steps.
  std::vector<int> timestep_list;
};

class FlowScheduler {
 public:
  virtual ~FlowScheduler() = default;
  FlowScheduler(const FlowScheduler&) = delete;
  FlowScheduler& operator=(const FlowScheduler&) = delete;

  // InvalidArgument naming the field (num_train_timesteps, shift,
  // solver_order, denoising_strength, timesteps) for values outside the
  // ranges above, or a timestep list given to another sampler.
  static absl::StatusOr<std::unique_ptr<FlowScheduler>> Create(SamplerKind kind,
                                                               const SchedulerOptions& options);

  SamplerKind kind() const { return kind_; }
  const SchedulerOptions& options() const { return options_; }

  // Builds the sampling schedule for `num_steps` steps with `shift` (the
  // official set_timesteps(steps, shift=shift); for DPM++ the sigmas of
  // get_sampling_sigmas(steps, shift)) and resets the multistep state.
  // InvalidArgument naming `steps` (< 1, or not the size of a given
  // timestep_list) or `shift` (not > 0 or not finite);
  // on error the previous schedule and state are kept.
  absl::Status SetTimesteps(int num_steps, double shift);

  // The schedule; undefined tensors before the first SetTimesteps.
  // timesteps(): [S], what the pipeline iterates over and passes to the DiT
  //   as t: int64 (truncated sigma * N) for UniPC and DPM++, float32 for Euler.
  // sigmas(): float32, [S + 1] with a trailing 0 for UniPC and DPM++, [S] for Euler.
  const torch::Tensor& timesteps() const { return timesteps_; }
  const torch::Tensor& sigmas() const { return sigmas_; }
  // S, or 0 before SetTimesteps.
  int num_steps() const { return num_steps_; }

  // One sampler step from position `step_index` of timesteps() (the official
  // step(model_output, timesteps[step_index], sample)): returns the sample at
  // the next position. model_output (the DiT's flow prediction) and sample are
  // floating tensors of the same shape and device, e.g. [1, 16, T, h, w]; the
  // arithmetic is float32 as in the reference.
  // Errors: FailedPrecondition before SetTimesteps, or when a multistep
  // sampler (UniPC, DPM++) is not called with consecutive step indices after
  // its first step (the first step may start anywhere); InvalidArgument naming
  // `step_index` (outside [0, S)), `model_output` or `sample`. A failed call
  // leaves the state unchanged. None of Wan's samplers draws noise, so there
  // is no generator argument.
  absl::StatusOr<torch::Tensor> Step(const torch::Tensor& model_output, int step_index,
                                     const torch::Tensor& sample);

 protected:
  FlowScheduler(SamplerKind kind, const SchedulerOptions& options) : kind_(kind), options_(options) {}

  struct Schedule {
    torch::Tensor timesteps;
    torch::Tensor sigmas;
  };
  // The schedule for validated arguments. May throw c10::Error.
  virtual Schedule ComputeSchedule(int num_steps, double shift) const = 0;
  // Clears the multistep state (called after a new schedule is installed).
  virtual void ResetState() = 0;
  // Whether Step must be called with consecutive indices.
  virtual bool IsMultistep() const = 0;
  // The step for validated arguments; timesteps()/sigmas() are set. May throw.
  virtual torch::Tensor DoStep(const torch::Tensor& model_output, int step_index,
                               const torch::Tensor& sample) = 0;

 private:
  // Constant after construction.
  const SamplerKind kind_;
  const SchedulerOptions options_;

  torch::Tensor timesteps_;
  torch::Tensor sigmas_;
  int num_steps_ = 0;
  int last_step_index_ = -1;  // -1: no step since SetTimesteps
};

}  // namespace videogen::schedulers
