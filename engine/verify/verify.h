// Running a fixture end to end and judging it: the library behind videogen-verify.
#pragma once

#include <string>
#include <vector>

#include "engine/verify/fixture.h"
#include "engine/verify/pending_list.h"
#include "engine/verify/runners.h"

namespace videogen::verify {

// What a fixture is judged by: its own (fp32) tolerances, or, for fp8 and
// bf16 runs, only the fp8 fidelity goal (rel_l2 <= kFp8RelL2Goal per output),
// the errors being the result to report.
enum class Judgement { kFixtureTolerance, kFp8Goal };
inline constexpr double kFp8RelL2Goal = 3e-2;

struct FixtureResult {
  std::string name;
  Judgement judgement = Judgement::kFixtureTolerance;
  std::string precision = "FP8";  // kFp8Goal lines: "FP8" or "BF16"
  bool pass = false;
  double worst_rel_l2 = 0;
  double worst_max_abs = 0;
  std::string error;                        // set when the fixture could not be run
  std::vector<TensorComparison> tensors;    // per output tensor
  // VerifyFixtureOffload: the offload mode run ("" when not asked for) and,
  // for modes other than none, whether every output equals mode none's bit
  // for bit, else the largest absolute difference to them.
  std::string offload;
  bool compared_to_none = false;
  bool identical_to_none = false;
  double max_abs_vs_none = 0;
};

// Loads `dir`, dispatches on its component and compares. Never throws; a
// fixture that cannot be run yields pass=false with `error` set.
FixtureResult VerifyFixture(const std::string& dir, const RunOptions& options);

// videogen-verify --offload: a pipeline fixture (pipeline_*) run once per
// mode of `modes` (each judged by the fixture's tolerances, as
// VerifyFixture, and compared with mode none's outputs); any other fixture
// once, as VerifyFixture. Modes a fixture cannot run (expert-swap without an
// expert pair) are left out. Never throws.
std::vector<FixtureResult> VerifyFixtureOffload(const std::string& dir, const RunOptions& options,
                                                const std::vector<OffloadRun>& modes);

// The one-line report: "PASS <name> worst_rel_l2=<x> worst_max_abs=<y>" or
// "FAIL <name> <tensor> max_abs=.. (tol ..) rel_l2=.. (tol ..) ..." / "FAIL <name> error: ...".
// fp8 runs: "FP8 <name> <tensor> rel_l2=.. max_abs=.. ... within|OVER goal rel_l2<=0.03" (bf16: "BF16 ...").
// Offload runs end with " [offload=<mode>]", and for modes other than none
// " bit-identical to none" or " max_abs vs none=<x>".
std::string FormatResult(const FixtureResult& result);

// A result judged against the pending list: a listed fixture is expected to
// fail (kPending) and fails the run when it passes (kUnexpectedPass).
enum class Outcome { kPass, kFail, kPending, kUnexpectedPass };
Outcome Judge(const FixtureResult& result, const PendingList& pending);

// FormatResult's line, prefixed for the pending outcomes:
// "PENDING <name> (#13): FAIL ..." / "FAIL <name>: passes but is listed as
// pending (#13); remove it from the pending list".
std::string FormatOutcome(const FixtureResult& result, Outcome outcome, const PendingList& pending);

}  // namespace videogen::verify
