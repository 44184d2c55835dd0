#include "engine/verify/runners.h"

namespace videogen::verify {

// TODO(in progress): not implemented yet.
absl::StatusOr<TensorMap> RunTokenizerFixture(const Fixture& fixture, const RunOptions&) {
  return absl::UnimplementedError(fixture.component + ": not implemented yet");
}

}  // namespace videogen::verify
