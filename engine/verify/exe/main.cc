// videogen-verify FIXTURE_DIR [FIXTURE_DIR ...] [--dtype fp32|fp8|bf16] [--fp8-scaling tensor|plain]
//                [--device cpu|cuda[:N]] [--pending FILE] [--offload MODE|all]
// Runs golden fixtures; one line per fixture, then "N passed, N failed"; exit
// 0 only if all pass. With --dtype fp8 the DiT weights are held in fp8
// (engine/quant/policy.h) and each output's error against the fp32 reference
// is reported ("FP8 ..." lines), judged only by the fp8 goal (rel_l2 <= 3e-2),
// not by the fp32 tolerances; --dtype bf16 (DiT, T5 and CLIP in bfloat16) is
// reported and judged the same way ("BF16 ..." lines). --device runs the
// components there (float32 with TF32 off: judged by the fixtures' own
// tolerances); exit 2 when the device does not exist. With --pending FILE (engine/verify/pending_list.h)
// the fixtures listed there are expected to fail ("PENDING ..." lines); one
// that passes, or a listed name that was not run, fails the run. With
// --offload MODE (none, encoders-after-use, dit-block-streaming, expert-swap,
// t5-streamed; `all`: each in turn) the pipeline fixtures run with their
// weights held and moved as that offload mode does (engine/verify/runners.h),
// one line per mode, each judged by the fixture's tolerances and compared
// with mode none's outputs ("bit-identical to none" or the largest
// difference); the other fixtures run once.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include <torch/cuda.h>
#include <torch/types.h>

#include "engine/common/blas_kernels.h"
#include "engine/common/runtime.h"
#include "engine/verify/verify.h"

namespace {

constexpr char kUsage[] =
    "usage: videogen-verify [--dtype fp32|fp8|bf16] [--fp8-scaling tensor|plain] [--device cpu|cuda[:N]] "
    "[--pending FILE] [--offload none|encoders-after-use|dit-block-streaming|expert-swap|t5-streamed|all] "
    "FIXTURE_DIR [FIXTURE_DIR ...]\n";

}  // namespace

int main(int argc, char** argv) {
  videogen::ApplyBlasKernelChoice();  // first: BLIS reads BLIS_ARCH_TYPE once, at its first use
  using namespace videogen;
  verify::RunOptions options;
  std::string pending_path;
  std::vector<verify::OffloadRun> offload_modes;  // empty: no --offload
  std::vector<std::string> dirs;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--dtype" && i + 1 < argc) {
      const std::string v = argv[++i];
      if (v == "fp32") {
        options.weight_dtype = verify::WeightDType::kFp32;
      } else if (v == "fp8") {
        options.weight_dtype = verify::WeightDType::kFp8;
      } else if (v == "bf16") {
        options.weight_dtype = verify::WeightDType::kBf16;
      } else {
        std::fprintf(stderr, "videogen-verify: --dtype must be fp32, fp8 or bf16, got '%s'\n", v.c_str());
        return 2;
      }
    } else if (arg == "--device" && i + 1 < argc) {
      const std::string v = argv[++i];
      const bool cuda = v == "cuda" || v.rfind("cuda:", 0) == 0;
      if (v != "cpu" && !cuda) {
        std::fprintf(stderr, "videogen-verify: --device must be cpu or cuda[:N], got '%s'\n", v.c_str());
        return 2;
      }
      if (cuda) {
        const int index = v == "cuda" ? 0 : std::atoi(v.c_str() + 5);
        if (index < 0 || index >= static_cast<int>(torch::cuda::device_count())) {
          std::fprintf(stderr, "videogen-verify: --device %s: no such CUDA device (%d visible to this LibTorch)\n",
                       v.c_str(), static_cast<int>(torch::cuda::device_count()));
          return 2;
        }
        options.device = torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(index));
      }
    } else if (arg == "--fp8-scaling" && i + 1 < argc) {
      const std::string v = argv[++i];
      if (v == "tensor") {
        options.fp8_scaling = quant::Fp8Scaling::kPerTensor;
      } else if (v == "plain") {
        options.fp8_scaling = quant::Fp8Scaling::kPlainCast;
      } else {
        std::fprintf(stderr, "videogen-verify: --fp8-scaling must be tensor or plain, got '%s'\n", v.c_str());
        return 2;
      }
    } else if (arg == "--offload" && i + 1 < argc) {
      const std::string v = argv[++i];
      offload_modes.clear();
      for (verify::OffloadRun run : verify::kOffloadRuns) {
        if (v == "all" || v == verify::OffloadRunName(run)) offload_modes.push_back(run);
      }
      if (offload_modes.empty()) {
        std::fprintf(stderr,
                     "videogen-verify: --offload must be none, encoders-after-use, dit-block-streaming, expert-swap, "
                     "t5-streamed or all, got '%s'\n",
                     v.c_str());
        return 2;
      }
    } else if (arg == "--pending" && i + 1 < argc) {
      pending_path = argv[++i];
    } else if (arg == "-h" || arg == "--help") {
      std::printf("%s", kUsage);
      return 0;
    } else if (!arg.empty() && arg[0] == '-') {
      std::fprintf(stderr, "videogen-verify: unknown option '%s'\n", arg.c_str());
      return 2;
    } else {
      dirs.push_back(arg);
    }
  }
  if (dirs.empty()) {
    std::fprintf(stderr, "%s", kUsage);
    return 2;
  }
  verify::PendingList pending;
  if (!pending_path.empty()) {
    auto list = verify::ReadPendingList(pending_path);
    if (!list.ok()) {
      std::fprintf(stderr, "videogen-verify: %s\n", list.status().ToString().c_str());
      return 2;
    }
    pending = *std::move(list);
  }
  if (auto s = ConfigureTorchRuntime({}); !s.ok()) {
    std::fprintf(stderr, "videogen-verify: %s\n", s.ToString().c_str());
    return 1;
  }
  int passed = 0, failed = 0, pending_failed = 0;
  std::set<std::string> seen;
  for (const std::string& dir : dirs) {
    const std::vector<verify::FixtureResult> results =
        offload_modes.empty() ? std::vector<verify::FixtureResult>{verify::VerifyFixture(dir, options)}
                              : verify::VerifyFixtureOffload(dir, options, offload_modes);
    for (const verify::FixtureResult& r : results) {
      const verify::Outcome outcome = verify::Judge(r, pending);
      seen.insert(r.name);
      std::printf("%s\n", verify::FormatOutcome(r, outcome, pending).c_str());
      std::fflush(stdout);
      switch (outcome) {
        case verify::Outcome::kPass: ++passed; break;
        case verify::Outcome::kPending: ++pending_failed; break;
        case verify::Outcome::kFail:
        case verify::Outcome::kUnexpectedPass: ++failed; break;
      }
    }
  }
  for (const auto& [name, issue] : pending) {
    if (seen.count(name) != 0) continue;
    std::printf("FAIL %s: listed as pending (%s) in %s but not run; remove it or pass its directory\n", name.c_str(),
                issue.c_str(), pending_path.c_str());
    ++failed;
  }
  std::printf("%d passed, %d failed\n", passed, failed);
  if (pending_failed != 0) std::printf("(%d pending fixtures failed as expected)\n", pending_failed);
  return failed == 0 ? 0 : 1;
}
