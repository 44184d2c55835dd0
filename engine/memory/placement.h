// Where each model component lives and in which precision: the vocabulary of
// the memory planner and of the `--placement` flag.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace videogen::memory {

enum class Component { kDit, kT5, kClip, kVae };
inline constexpr std::array<Component, 4> kComponents = {Component::kDit, Component::kT5, Component::kClip,
                                                         Component::kVae};
const char* ComponentName(Component c);  // "dit", "t5", "clip", "vae"

// Resident weight precision. kFp8: e4m3fn weights for the layers the fp8
// policy selects (engine/quant/policy.h); the rest stays in the compute dtype.
enum class Precision { kFp32, kBf16, kFp16, kFp8 };
const char* PrecisionName(Precision p);  // "fp32", "bf16", "fp16", "fp8"
int64_t PrecisionBytes(Precision p);          // bytes per element of quantized/converted tensors

enum class DeviceKind { kCpu, kCuda };
struct Device {
  DeviceKind kind = DeviceKind::kCpu;
  int index = 0;  // CUDA ordinal
  bool operator==(const Device& o) const { return kind == o.kind && index == o.index; }
};
std::string DeviceName(const Device& d);  // "cpu", "cuda:0"

struct ComponentPlacement {
  Device device;
  Precision precision = Precision::kFp32;
};

// One entry per component; absent = chosen by the planner.
struct Placement {
  std::array<std::optional<ComponentPlacement>, 4> entries;  // indexed by Component
  std::optional<ComponentPlacement>& operator[](Component c) { return entries[static_cast<size_t>(c)]; }
  const std::optional<ComponentPlacement>& operator[](Component c) const { return entries[static_cast<size_t>(c)]; }
};

// Parses "dit=cuda:0:fp8,t5=cpu:bf16,clip=cuda:0:fp16,vae=cuda:0:fp32"
// (device "cpu" or "cuda[:N]", then the precision). fp8 is accepted for the
// DiT only. InvalidArgument naming the offending entry (unknown component,
// device or precision, duplicate component, malformed entry).
absl::StatusOr<Placement> ParsePlacement(std::string_view spec);

// The inverse of ParsePlacement for the entries present.
std::string FormatPlacement(const Placement& placement);

}  // namespace videogen::memory
