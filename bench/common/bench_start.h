// What every bench main() does first.
#pragma once

namespace videogen::bench {

// Answers --help / -h anywhere in argv by printing `usage` to stdout (the
// caller then exits 0 without running); otherwise applies the cached BLAS
// kernel choice (engine/common/blas_kernels.h) and prints the kernel set in
// use as one "blas-kernels: ..." line on stderr.
// Returns true when the bench must exit now (help was printed).
// Precondition: first call of main(), before any BLAS call or thread start.
bool BenchStart(int argc, char** argv, const char* usage);

}  // namespace videogen::bench
