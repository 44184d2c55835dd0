// From the memory plan (engine/memory/planner.h) to how each component of a
// model directory is loaded: device, parameter dtype, fp8 or not. Planned
// from checkpoint headers before anything is loaded, so a model that cannot
// fit is refused without touching its weights.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include <torch/types.h>

#include "absl/status/statusor.h"
#include "engine/memory/model_headers.h"
#include "engine/memory/placement.h"
#include "engine/memory/planner.h"
#include "engine/pipeline/api/generator.h"

namespace videogen::pipeline {

struct LoadPlanOptions {
  // The worker's device: cpu, or cuda:N (its memory is the GPU budget).
  torch::Device device = torch::kCPU;
  // --placement: entries given here override the planner's choice. For a
  // Wan2.2 expert pair, an entry for one of dit / dit_low_noise applies to
  // both unless the other is given too.
  memory::Placement placement;
  // --gpu-memory / --host-memory overrides in bytes; 0 = from the device and
  // from /proc/meminfo + the cgroup limit.
  uint64_t gpu_memory = 0;
  uint64_t host_memory = 0;
  // Host bytes held besides the planned components (the per-request
  // adapters): taken off the host budget before planning.
  uint64_t reserved_host_bytes = 0;
};

// How one component is loaded.
struct ComponentLoad {
  torch::Device device = torch::kCPU;
  torch::ScalarType dtype = torch::kFloat32;  // parameter / compute dtype
  bool fp8 = false;                           // DiT: fp8 weights computing in `dtype`
  // T5 only: never resident; each encoding streams its blocks from the
  // checkpoint (host-only plans with offload encoders-after-use).
  bool streamed = false;
};

struct LoadPlan {
  memory::Plan plan;
  // Indexed by memory::Component; kDitLowNoise (the low-noise expert of a
  // Wan2.2 pair) is loaded like kDit, which is then the high-noise expert.
  // Entries of components the model lacks keep their defaults.
  std::array<ComponentLoad, kNumComponents> components;
  PlanSummary summary;  // what ListModels and the metrics report
  bool vae_tiling = false;  // decode in spatial tiles (the plan's vae tiling)

  const ComponentLoad& operator[](memory::Component c) const { return components[static_cast<size_t>(c)]; }
};

// Plans a model, described by its tensors (engine/memory/model_headers.h:
// read from headers only), for requests of the model's default shape, or --
// when the default does not fit -- for the requests that do
// (memory::MakeServingPlan). Errors: FailedPrecondition from the planner when
// not even the smallest request fits (what is short by how much, and which
// setting would fit), or when a GPU plan needs an offload mode (encoders
// after use, expert swap, DiT block streaming) and no --placement was given:
// the pipeline does not execute GPU offloading yet (host-only plans run
// encoders-after-use as T5 streaming); InvalidArgument naming `placement` for a
// placement that is not on the worker's device or not supported on it (fp16 on
// the CPU); the header readers' errors.
absl::StatusOr<LoadPlan> PlanLoad(const memory::ModelHeaders& headers, const GenerationDefaults& defaults,
                                  const LoadPlanOptions& options);

}  // namespace videogen::pipeline
