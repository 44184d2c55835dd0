// videogen-plan MODEL_DIR [--gpu-memory SIZE] [--host-memory SIZE]
//               [--frames N] [--size WxH] [--no-cfg]
// Reads the checkpoint headers of MODEL_DIR (no weights are loaded; any layout
// io::FindModelFiles finds, Wan2.2 expert pairs and the sparse stand-ins of
// videogen-make-sparse included), prints each component's resident size per
// precision and the memory plan for the request and budgets, and exits: 0 with a plan, 3 when nothing fits
// (FAILED_PRECONDITION, with what is short by how much), 2 on usage errors,
// 1 on other errors. SIZE: bytes with an optional K/M/G/T suffix (powers of
// 1024). Defaults: no GPU unless --gpu-memory; host RAM from /proc/meminfo
// and the cgroup limit; 81 frames at 832x480 with CFG.
#include <cstdio>
#include <cstring>
#include <string>

#include "absl/strings/numbers.h"
#include "engine/common/blas_kernels.h"
#include "engine/memory/model_headers.h"
#include "engine/memory/planner.h"

namespace {

bool ParseSize(const std::string& s, uint64_t* out) {
  if (s.empty()) return false;
  uint64_t mult = 1;
  std::string digits = s;
  switch (s.back()) {
    case 'K': case 'k': mult = 1ull << 10; break;
    case 'M': case 'm': mult = 1ull << 20; break;
    case 'G': case 'g': mult = 1ull << 30; break;
    case 'T': case 't': mult = 1ull << 40; break;
    default: mult = 0;
  }
  if (mult != 0) {
    digits.pop_back();
  } else {
    mult = 1;
  }
  double v = 0;
  if (!absl::SimpleAtod(digits, &v) || v < 0) return false;
  *out = static_cast<uint64_t>(v * static_cast<double>(mult));
  return true;
}

int Usage() {
  std::fprintf(stderr, "usage: videogen-plan MODEL_DIR [--gpu-memory SIZE] [--host-memory SIZE] [--frames N] "
                       "[--size WxH] [--no-cfg]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  videogen::ApplyBlasKernelChoice();  // first: BLIS reads BLIS_ARCH_TYPE once, at its first use
  using namespace videogen::memory;
  std::string dir;
  uint64_t gpu = 0, host = 0;
  RequestShape request;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--gpu-memory" && has_value) {
      if (!ParseSize(argv[++i], &gpu)) return Usage();
    } else if (a == "--host-memory" && has_value) {
      if (!ParseSize(argv[++i], &host)) return Usage();
    } else if (a == "--frames" && has_value) {
      if (!absl::SimpleAtoi(argv[++i], &request.frames)) return Usage();
    } else if (a == "--size" && has_value) {
      if (std::sscanf(argv[++i], "%ldx%ld", &request.width, &request.height) != 2) return Usage();
    } else if (a == "--no-cfg") {
      request.cfg = false;
    } else if (a == "-h" || a == "--help") {
      Usage();
      return 0;
    } else if (!a.empty() && a[0] != '-' && dir.empty()) {
      dir = a;
    } else {
      return Usage();
    }
  }
  if (dir.empty()) return Usage();
  Budgets budgets = DetectBudgets(gpu);
  if (host != 0) budgets.host_bytes = host;
  auto headers = ReadModelHeaders(dir);
  if (!headers.ok()) {
    std::fprintf(stderr, "videogen-plan: %s\n", headers.status().ToString().c_str());
    return 1;
  }
  std::printf("model %s\n", dir.c_str());
  for (const ComponentHeaders& c : headers->components) {
    std::printf("  %-13s %zu tensors:", std::string(ComponentName(c.component)).c_str(), c.tensors.size());
    for (Precision p : {Precision::kFp32, Precision::kBf16, Precision::kFp8}) {
      const bool dit = c.component == Component::kDit || c.component == Component::kDitLowNoise;
      if (p == Precision::kFp8 && !dit) continue;
      std::printf(" %s %.2f GiB", std::string(PrecisionName(p)).c_str(),
                  static_cast<double>(ResidentBytes(c, p)) / (1ull << 30));
    }
    std::printf("\n");
  }
  auto plan = MakePlan(*headers, request, budgets);
  if (!plan.ok()) {
    std::printf("%s\n", plan.status().ToString().c_str());
    return plan.status().code() == absl::StatusCode::kFailedPrecondition ? 3 : 1;
  }
  std::printf("%s", FormatPlan(*plan).c_str());
  return 0;
}
