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
  // Runs this offload mode instead of the plan's, on the worker's device
  // (tests and videogen-verify --offload: the GPU modes through the CPU copy
  // engine). Unset (default): the plan's mode.
  std::optional<memory::OffloadMode> offload;
};

// How one component is loaded.
struct ComponentLoad {
  torch::Device device = torch::kCPU;
  torch::ScalarType dtype = torch::kFloat32;  // parameter / compute dtype
  bool fp8 = false;                           // DiT: fp8 weights computing in `dtype`
  // T5 only: never resident; each encoding streams its blocks from the
  // checkpoint (host-only plans with offload encoders-after-use).
  bool streamed = false;
  // Offload (offload_executor.h), on a worker device: `moved` components
  // are on the device only while a phase uses them (their host copy kept);
  // a `block_streamed` DiT keeps its blocks on the host and streams them.
  // The DiT of either is loaded on the host (`device` is then the CPU, in
  // the worker device's compute dtype); a moved encoder is loaded on the
  // device and adopted by the executor right after.
  bool moved = false;
  bool block_streamed = false;
};

struct LoadPlan {
  memory::Plan plan;
  // Indexed by memory::Component; kDitLowNoise (the low-noise expert of a
  // Wan2.2 pair) is loaded like kDit, which is then the high-noise expert.
  // Entries of components the model lacks keep their defaults.
  std::array<ComponentLoad, kNumComponents> components;
  PlanSummary summary;  // what ListModels and the metrics report
  bool vae_tiling = false;  // decode in spatial tiles (the plan's vae tiling)
  // The offload mode an executor runs (kNone: no executor; host-only plans'
  // encoders-after-use is T5 streaming, `streamed` above) and its device.
  memory::OffloadMode executed_offload = memory::OffloadMode::kNone;
  torch::Device offload_device = torch::kCPU;

  const ComponentLoad& operator[](memory::Component c) const { return components[static_cast<size_t>(c)]; }
};

// Plans a model, described by its tensors (engine/memory/model_headers.h:
// read from headers only), for requests of the model's default shape, or --
// when the default does not fit -- for the requests that do
// (memory::MakeServingPlan). Errors: FailedPrecondition from the planner when
// not even the smallest request fits (what is short by how much, and which
// setting would fit); every offload mode planned runs (offload_executor.h;
// host-only plans run encoders-after-use as T5 streaming); InvalidArgument
// naming `offload` for a forced expert-swap on a model without an expert
// pair; InvalidArgument naming `placement` for a
// placement that is not on the worker's device or not supported on it (fp16 on
// the CPU); the header readers' errors.
absl::StatusOr<LoadPlan> PlanLoad(const memory::ModelHeaders& headers, const GenerationDefaults& defaults,
                                  const LoadPlanOptions& options);

}  // namespace videogen::pipeline
