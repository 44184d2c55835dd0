// libFuzzer entry point of one target: VIDEOGEN_FUZZ_TARGET names its function
// (fuzz_targets.h). A contract violation aborts, so libFuzzer keeps the input.
#include <cstdio>
#include <cstdlib>

#include "tests/fuzz/fuzz_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string violation = videogen::fuzz::VIDEOGEN_FUZZ_TARGET(data, size);
  if (!violation.empty()) {
    std::fprintf(stderr, "contract violated: %s\n", violation.c_str());
    std::abort();
  }
  return 0;
}
