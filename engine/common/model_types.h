// The vocabulary shared by the engine and the server (header-only, no
// LibTorch): model components, weight precisions, devices and offload modes.
// One enum per meaning; names are the spellings used in flags, logs, metric
// labels and ListModels.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>

namespace videogen {

// The parts of a Wan model, as the memory plan and resident accounting see them.
// kDit is the model's DiT, or the high-noise expert of a Wan2.2 A14B expert
// pair; kDitLowNoise is that pair's low-noise expert (absent elsewhere).
enum class Component { kDit, kT5, kClip, kVae, kDitLowNoise };
inline constexpr size_t kNumComponents = 5;
inline constexpr std::array<Component, kNumComponents> kComponents = {
    Component::kDit, Component::kT5, Component::kClip, Component::kVae, Component::kDitLowNoise};
// "dit", "t5", "clip", "vae", "dit_low_noise".
inline const char* ComponentName(Component c) {
  switch (c) {
    case Component::kDit: return "dit";
    case Component::kDitLowNoise: return "dit_low_noise";
    case Component::kT5: return "t5";
    case Component::kClip: return "clip";
    case Component::kVae: return "vae";
  }
  return "?";
}

// Resident weight precision. kFp8: e4m3fn weights for the layers the fp8
// policy selects (engine/quant/policy.h); the rest stays in the compute dtype.
enum class Precision { kFp32, kBf16, kFp16, kFp8 };
// "fp32", "bf16", "fp16", "fp8" (the --placement spelling).
inline const char* PrecisionName(Precision p) {
  switch (p) {
    case Precision::kFp32: return "fp32";
    case Precision::kBf16: return "bf16";
    case Precision::kFp16: return "fp16";
    case Precision::kFp8: return "fp8";
  }
  return "?";
}
// The stored dtype of tensors in precision `p` ("fp8_e4m3fn" for kFp8, else
// PrecisionName): the dtype label of resident-bytes metrics and ListModels.
inline const char* StorageDTypeName(Precision p) { return p == Precision::kFp8 ? "fp8_e4m3fn" : PrecisionName(p); }
// Bytes per element of tensors quantized/converted to `p`.
inline int64_t PrecisionBytes(Precision p) {
  switch (p) {
    case Precision::kFp32: return 4;
    case Precision::kBf16: case Precision::kFp16: return 2;
    case Precision::kFp8: return 1;
  }
  return 4;
}

enum class DeviceKind { kCpu, kCuda };
struct Device {
  DeviceKind kind = DeviceKind::kCpu;
  int index = 0;  // CUDA ordinal; 0 for the CPU

  static Device Cpu() { return {DeviceKind::kCpu, 0}; }
  static Device Cuda(int index) { return {DeviceKind::kCuda, index}; }
  bool is_cuda() const { return kind == DeviceKind::kCuda; }
  bool operator==(const Device& o) const { return kind == o.kind && index == o.index; }
  bool operator!=(const Device& o) const { return !(*this == o); }
  bool operator<(const Device& o) const { return std::tie(kind, index) < std::tie(o.kind, o.index); }
};
// "cpu", "cuda:0".
inline std::string DeviceName(const Device& d) {
  return d.kind == DeviceKind::kCpu ? std::string("cpu") : "cuda:" + std::to_string(d.index);
}

// "cpu", "cuda" (ordinal 0) or "cuda:N"; nullopt for anything else.
inline std::optional<Device> ParseDevice(std::string_view name) {
  if (name == "cpu") return Device::Cpu();
  if (name == "cuda") return Device::Cuda(0);
  constexpr std::string_view kCuda = "cuda:";
  if (name.substr(0, kCuda.size()) != kCuda || name.size() == kCuda.size() || name.size() > kCuda.size() + 3) {
    return std::nullopt;
  }
  int index = 0;
  for (char c : name.substr(kCuda.size())) {
    if (c < '0' || c > '9') return std::nullopt;
    index = index * 10 + (c - '0');
  }
  return Device::Cuda(index);
}

// How weights move between devices during a request (engine/memory/planner.h).
enum class OffloadMode {
  kNone,              // everything stays where it is placed
  kEncodersAfterUse,  // T5/CLIP on the GPU only while encoding (host copies otherwise);
                      // the DiT comes to the GPU after encoding
  kDitBlockStreaming, // DiT weights stay in pinned host memory; two blocks at a time on the GPU
  kExpertSwap,        // Wan2.2 A14B: one expert on the GPU at a time (encoders after use too);
                      // the low-noise expert replaces the high-noise one once per request, at
                      // the boundary step, copied in while the high-noise steps run
};
// "none", "encoders-after-use", "dit-block-streaming", "expert-swap".
inline const char* OffloadModeName(OffloadMode m) {
  switch (m) {
    case OffloadMode::kNone: return "none";
    case OffloadMode::kEncodersAfterUse: return "encoders-after-use";
    case OffloadMode::kDitBlockStreaming: return "dit-block-streaming";
    case OffloadMode::kExpertSwap: return "expert-swap";
  }
  return "?";
}

}  // namespace videogen
