#include "engine/pipeline/model_plan.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "engine/common/cuda_memory.h"
#include "engine/common/status_macros.h"
#include "engine/pipeline/offload_residency.h"

namespace videogen::pipeline {
namespace {

using memory::Component;
using memory::Precision;

torch::ScalarType ComputeDtype(Precision p, bool cuda) {
  switch (p) {
    case Precision::kFp32: return torch::kFloat32;
    case Precision::kBf16: return torch::kBFloat16;
    case Precision::kFp16: return torch::kFloat16;
    case Precision::kFp8: return cuda ? torch::kBFloat16 : torch::kFloat32;
  }
  return torch::kFloat32;
}

}  // namespace

absl::StatusOr<LoadPlan> PlanLoad(const memory::ModelHeaders& headers, const GenerationDefaults& defaults,
                                  const LoadPlanOptions& options) {
  memory::Budgets budgets = memory::DetectBudgets(options.gpu_memory);
  if (options.host_memory != 0) budgets.host_bytes = options.host_memory;
  budgets.host_bytes -= std::min(budgets.host_bytes, options.reserved_host_bytes);
  if (options.device.is_cuda() && options.gpu_memory == 0) {
    ASSIGN_OR_RETURN(const CudaMemoryInfo cuda, QueryCudaMemory(options.device.has_index() ? options.device.index() : 0));
    budgets.gpu_bytes = cuda.total - cuda.used + cuda.reserved;  // free now, plus what this process may reuse
  }
  if (!options.device.is_cuda()) budgets.gpu_bytes = 0;
  memory::RequestShape shape;
  shape.frames = defaults.num_frames;
  shape.width = defaults.width;
  shape.height = defaults.height;
  ASSIGN_OR_RETURN(memory::Plan plan, memory::MakeServingPlan(headers, shape, budgets));

  LoadPlan out;
  const memory::Placement planned = plan.placement();
  // An explicit placement of one expert of a pair applies to both unless the other is given too.
  memory::Placement requested = options.placement;
  if (planned[Component::kDitLowNoise].has_value()) {
    auto& high = requested[Component::kDit];
    auto& low = requested[Component::kDitLowNoise];
    if (high && !low) low = high;
    if (low && !high) high = low;
  }
  for (Component c : memory::kComponents) {
    std::optional<memory::ComponentPlacement> p = requested[c] ? requested[c] : planned[c];
    if (!p) continue;  // absent from the model directory
    const bool cuda = p->device.kind == memory::DeviceKind::kCuda;
    // One worker owns one device; the host is always usable.
    if (cuda && (!options.device.is_cuda() || p->device.index != (options.device.has_index() ? options.device.index() : 0))) {
      return absl::InvalidArgumentError(absl::StrCat("placement: ", memory::ComponentName(c), " on ",
                                                     memory::DeviceName(p->device), " but this worker runs on ",
                                                     options.device.str()));
    }
    if (!cuda && p->precision == Precision::kFp16) {
      return absl::InvalidArgumentError(absl::StrCat("placement: ", memory::ComponentName(c),
                                                     " in fp16 needs a CUDA device (LibTorch has no fp16 CPU GEMM)"));
    }
    ComponentLoad& load = out.components[static_cast<size_t>(c)];
    load.device = cuda ? torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(p->device.index)) : torch::kCPU;
    load.dtype = ComputeDtype(p->precision, cuda);
    load.fp8 = p->precision == Precision::kFp8;
  }
  // Host-only encoders-after-use: T5 is streamed from its checkpoint per encoding.
  out.components[static_cast<size_t>(Component::kT5)].streamed =
      !options.offload.has_value() && !requested[Component::kT5].has_value() && budgets.gpu_bytes == 0 &&
      plan.offload == memory::OffloadMode::kEncodersAfterUse;
  // Every other offload mode runs on the worker's device through an executor;
  // an explicit --placement is taken literally (no offload) unless an offload
  // mode is forced too.
  bool explicit_placement = false;
  for (Component c : memory::kComponents) explicit_placement = explicit_placement || options.placement[c].has_value();
  const memory::OffloadMode mode =
      options.offload.value_or(explicit_placement ? memory::OffloadMode::kNone : plan.offload);
  if (mode != memory::OffloadMode::kNone && (options.offload.has_value() || budgets.gpu_bytes != 0)) {
    if (mode == memory::OffloadMode::kExpertSwap && !planned[Component::kDitLowNoise].has_value()) {
      return absl::InvalidArgumentError("offload: expert-swap needs a Wan2.2 expert pair");
    }
    out.executed_offload = mode;
    out.offload_device = options.device;
    for (Component c : memory::kComponents) {
      ComponentLoad& load = out.components[static_cast<size_t>(c)];
      if (!planned[c].has_value() || c == Component::kVae) continue;
      const bool dit = c == Component::kDit || c == Component::kDitLowNoise;
      if (dit) {
        // Loaded on the host, in the device's compute dtype.
        load.block_streamed = mode == memory::OffloadMode::kDitBlockStreaming;
        load.moved = !load.block_streamed;
        load.dtype = ComputeDtype((requested[c] ? requested[c] : planned[c])->precision, options.device.is_cuda());
        load.device = torch::kCPU;
      } else if (DeviceOfTorch(load.device) == DeviceOfTorch(options.device)) {
        load.moved = true;  // an encoder computing on the worker's device
      }
    }
  }
  out.vae_tiling = plan.vae_tiling;
  out.summary.offload_mode = options.offload.value_or(plan.offload);
  if (budgets.gpu_bytes != 0) {
    out.summary.predicted_peak[Device::Cuda(options.device.has_index() ? options.device.index() : 0)] = plan.peak_vram;
  }
  out.summary.predicted_peak[Device::Cpu()] = plan.peak_host;
  out.summary.summary = memory::FormatPlan(plan);
  out.plan = std::move(plan);
  return out;
}

}  // namespace videogen::pipeline
