// Running a fixture end to end and judging it: the library behind videogen-verify.
#pragma once

#include <string>
#include <vector>

#include "engine/verify/fixture.h"
#include "engine/verify/runners.h"

namespace videogen::verify {

struct FixtureResult {
  std::string name;
  bool pass = false;
  double worst_rel_l2 = 0;
  double worst_max_abs = 0;
  std::string error;                        // set when the fixture could not be run
  std::vector<TensorComparison> tensors;    // per output tensor
};

// Loads `dir`, dispatches on its component and compares. Never throws; a
// fixture that cannot be run yields pass=false with `error` set.
FixtureResult VerifyFixture(const std::string& dir, const RunOptions& options);

// The one-line report: "PASS <name> worst_rel_l2=<x> worst_max_abs=<y>" or
// "FAIL <name> <tensor> max_abs=.. (tol ..) rel_l2=.. (tol ..) ..." / "FAIL <name> error: ...".
std::string FormatResult(const FixtureResult& result);

}  // namespace videogen::verify
