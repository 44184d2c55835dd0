// Shared helpers of the engine/text tests.
#pragma once

#include <cstdlib>
#include <string>

namespace videogen::text::test_util {

// The tiny umT5-layout SentencePiece model of the golden tokenizer fixture
// ($VIDEOGEN_GOLDEN_DIR, else ../shared/golden relative to the repo root).
inline std::string GoldenSpieceModel() {
  const char* dir = std::getenv("VIDEOGEN_GOLDEN_DIR");
  const std::string root = dir != nullptr && *dir != '\0' ? dir : "../shared/golden";
  return root + "/tokenizer_umt5_whitespace/spiece.model";
}

}  // namespace videogen::text::test_util
