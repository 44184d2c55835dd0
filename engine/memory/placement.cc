#include "engine/memory/placement.h"

#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace videogen::memory {

absl::StatusOr<Placement> ParsePlacement(std::string_view spec) {
  Placement placement;
  const absl::string_view text(spec.data(), spec.size());
  for (absl::string_view entry : absl::StrSplit(text, ',', absl::SkipWhitespace())) {
    const std::string e(entry);
    auto bad = [&](const std::string& why) {
      return absl::InvalidArgumentError(absl::StrCat("placement: entry '", e, "': ", why));
    };
    const std::vector<std::string> kv = absl::StrSplit(entry, '=');
    if (kv.size() != 2) return bad("expected <component>=<device>:<precision>");
    std::optional<Component> component;
    for (Component c : kComponents) {
      if (kv[0] == ComponentName(c)) component = c;
    }
    if (!component) return bad("unknown component (dit, dit_low_noise, t5, clip, vae)");
    if (placement[*component]) return bad("component given twice");
    const std::vector<std::string> parts = absl::StrSplit(kv[1], ':');
    ComponentPlacement p;
    std::string precision;
    if (parts.size() == 2 && parts[0] == "cpu") {
      p.device = {DeviceKind::kCpu, 0};
      precision = parts[1];
    } else if (parts.size() == 2 && parts[0] == "cuda") {
      p.device = {DeviceKind::kCuda, 0};
      precision = parts[1];
    } else if (parts.size() == 3 && parts[0] == "cuda") {
      int index = 0;
      if (!absl::SimpleAtoi(parts[1], &index) || index < 0) return bad("bad CUDA device index");
      p.device = {DeviceKind::kCuda, index};
      precision = parts[2];
    } else {
      return bad("device must be cpu or cuda[:N], followed by :<precision>");
    }
    bool known = false;
    for (Precision q : {Precision::kFp32, Precision::kBf16, Precision::kFp16, Precision::kFp8}) {
      if (precision == PrecisionName(q)) {
        p.precision = q;
        known = true;
      }
    }
    if (!known) return bad("unknown precision (fp32, bf16, fp16, fp8)");
    if (p.precision == Precision::kFp8 && *component != Component::kDit && *component != Component::kDitLowNoise) {
      return bad("fp8 is supported for the dit (and dit_low_noise) only");
    }
    placement[*component] = p;
  }
  return placement;
}

std::string FormatPlacement(const Placement& placement) {
  std::vector<std::string> parts;
  for (Component c : kComponents) {
    if (const auto& p = placement[c]) {
      parts.push_back(absl::StrCat(std::string(ComponentName(c)), "=", DeviceName(p->device), ":", std::string(PrecisionName(p->precision))));
    }
  }
  return absl::StrJoin(parts, ",");
}

}  // namespace videogen::memory
