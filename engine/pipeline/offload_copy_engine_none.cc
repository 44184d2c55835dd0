// Compiled when this LibTorch has no CUDA (see CMakeLists.txt).
#include "engine/pipeline/offload_copy_engine.h"

namespace videogen::pipeline {

absl::StatusOr<std::unique_ptr<CopyEngine>> MakeCudaCopyEngine(int) {
  return absl::FailedPreconditionError("devices: this build's LibTorch has no CUDA; offload to a GPU is unavailable");
}

}  // namespace videogen::pipeline
