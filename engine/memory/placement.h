// Where each model component lives and in which precision: the vocabulary of
// the memory planner and of the `--placement` flag.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "engine/common/model_types.h"

namespace videogen::memory {

// The vocabulary lives in engine/common/model_types.h (shared with the server).
using ::videogen::Component;
using ::videogen::ComponentName;
using ::videogen::Device;
using ::videogen::DeviceKind;
using ::videogen::DeviceName;
using ::videogen::kComponents;
using ::videogen::kNumComponents;
using ::videogen::Precision;
using ::videogen::PrecisionBytes;
using ::videogen::PrecisionName;

struct ComponentPlacement {
  Device device;
  Precision precision = Precision::kFp32;
};

// One entry per component; absent = chosen by the planner.
struct Placement {
  std::array<std::optional<ComponentPlacement>, kNumComponents> entries;  // indexed by Component
  std::optional<ComponentPlacement>& operator[](Component c) { return entries[static_cast<size_t>(c)]; }
  const std::optional<ComponentPlacement>& operator[](Component c) const { return entries[static_cast<size_t>(c)]; }
};

// Parses "dit=cuda:0:fp8,t5=cpu:bf16,clip=cuda:0:fp16,vae=cuda:0:fp32"
// (device "cpu" or "cuda[:N]", then the precision); "dit_low_noise=..." places
// the low-noise expert of a Wan2.2 pair ("dit" is then the high-noise one).
// fp8 is accepted for dit and dit_low_noise only. InvalidArgument naming the
// offending entry (unknown component, device or precision, duplicate
// component, malformed entry).
absl::StatusOr<Placement> ParsePlacement(std::string_view spec);

// The inverse of ParsePlacement for the entries present.
std::string FormatPlacement(const Placement& placement);

}  // namespace videogen::memory
