// Measuring BLIS kernel sets, one subprocess per candidate (BLIS reads
// BLIS_ARCH_TYPE once per process, and a kernel set the CPU cannot run dies
// of SIGILL). Used by videogen-blas-check --probe / --select.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/common/blas_kernels.h"

namespace videogen {

struct BlasProbeResult {
  enum class Outcome {
    kOk,           // correct results; gflops measured
    kInvalid,      // BLIS has no kernel set with this id (it aborts)
    kUnsupported,  // the CPU flags do not allow this kernel set; not run
    kCrashed,      // died running the kernels (e.g. SIGILL)
    kWrong,        // GEMM results differ from the reference
    kNotBlis,      // the BLAS in this process is not BLIS
  };
  int id = 0;
  std::string name;  // BLIS sub-configuration; "" when unknown
  Outcome outcome = Outcome::kInvalid;
  double gflops = 0;     // fp32 1024^3 GEMM, best of 5 (kOk only)
  int threads = 0;       // BLAS threads of that measurement (kOk only)
  double max_error = 0;  // worst |C - ref| / sum_k |A||B| over the checked shapes
  std::string detail;    // e.g. "signal 4"
};

const char* OutcomeName(BlasProbeResult::Outcome outcome);

// The body of the probe subprocess for arch id `id`: sets BLIS_ARCH_TYPE,
// learns the sub-configuration BLIS selects, checks the CPU flags allow it,
// checks fp32 GEMM results of several shapes and transpositions against a
// double-precision reference, then measures fp32 1024^3 GEMM with `threads`
// LibTorch and BLIS threads (0 = all usable). Prints its result as one "probe ..." line on
// stdout; may die of a signal instead. Returns the process exit code.
// Precondition: nothing in this process has called the BLAS yet.
int RunBlasProbe(int id, int threads);

// Runs `self_exe --probe ID --threads T` for ID = 0, 1, ... up to max_id or
// the first id BLIS reports as past its last, and parses each result
// (crashes included). Slow: a second or two per valid id.
std::vector<BlasProbeResult> ProbeBlasKernelSets(const std::string& self_exe, int threads, int max_id);

// The fastest kOk result as a choice (source kCache). NotFound when none is ok.
absl::StatusOr<BlasKernelChoice> FastestBlasKernelSet(const std::vector<BlasProbeResult>& results);

}  // namespace videogen
