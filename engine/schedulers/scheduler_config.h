// A sampler run described as in the scheduler golden fixtures' `config`:
// constructor kwargs (top level or under "constructor") plus sampling_steps
// and shift.
#pragma once

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "engine/schedulers/scheduler.h"

namespace videogen::schedulers {

struct SchedulerConfig {
  SamplerKind kind = SamplerKind::kUniPC;
  SchedulerOptions options;
  int sampling_steps = 50;
  double shift = 5.0;

  // Keys are looked up under "constructor" first, then at the top level;
  // absent optional keys keep the SchedulerOptions defaults. Required:
  // sampling_steps, shift. Settings this implementation does not have (e.g.
  // use_dynamic_shifting true, solver_type bh1, algorithm_type sde-dpmsolver++,
  // final_sigmas_type sigma_min, thresholding, template other than Wan) are
  // InvalidArgument naming the field, as are malformed or out-of-range values.
  static absl::StatusOr<SchedulerConfig> FromJson(SamplerKind kind, const nlohmann::json& config);
};

}  // namespace videogen::schedulers
