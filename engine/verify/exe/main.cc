// videogen-verify FIXTURE_DIR [FIXTURE_DIR ...] [--dtype fp32|fp8] [--fp8-scaling tensor|plain]
// Runs golden fixtures; one line per fixture; exit 0 only if all pass. With
// --dtype fp8 the DiT weights are held in fp8 (engine/quant/policy.h) and each
// output's error against the fp32 reference is reported ("FP8 ..." lines),
// judged only by the fp8 goal (rel_l2 <= 3e-2), not by the fp32 tolerances.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "engine/common/runtime.h"
#include "engine/verify/verify.h"

int main(int argc, char** argv) {
  using namespace videogen;
  verify::RunOptions options;
  std::vector<std::string> dirs;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--dtype" && i + 1 < argc) {
      const std::string v = argv[++i];
      if (v == "fp32") {
        options.weight_dtype = verify::WeightDType::kFp32;
      } else if (v == "fp8") {
        options.weight_dtype = verify::WeightDType::kFp8;
      } else {
        std::fprintf(stderr, "videogen-verify: --dtype must be fp32 or fp8, got '%s'\n", v.c_str());
        return 2;
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
    } else if (arg == "-h" || arg == "--help") {
      std::printf("usage: videogen-verify [--dtype fp32|fp8] [--fp8-scaling tensor|plain] FIXTURE_DIR [FIXTURE_DIR ...]\n");
      return 0;
    } else if (!arg.empty() && arg[0] == '-') {
      std::fprintf(stderr, "videogen-verify: unknown option '%s'\n", arg.c_str());
      return 2;
    } else {
      dirs.push_back(arg);
    }
  }
  if (dirs.empty()) {
    std::fprintf(stderr, "usage: videogen-verify [--dtype fp32|fp8] FIXTURE_DIR [FIXTURE_DIR ...]\n");
    return 2;
  }
  if (auto s = ConfigureTorchRuntime({}); !s.ok()) {
    std::fprintf(stderr, "videogen-verify: %s\n", s.ToString().c_str());
    return 1;
  }
  int failed = 0;
  for (const std::string& dir : dirs) {
    const verify::FixtureResult r = verify::VerifyFixture(dir, options);
    std::printf("%s\n", verify::FormatResult(r).c_str());
    std::fflush(stdout);
    if (!r.pass) ++failed;
  }
  return failed == 0 ? 0 : 1;
}
