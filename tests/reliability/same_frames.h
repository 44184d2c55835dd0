// Comparing two encoded videos by their decoded frames (the media tests'
// decoder). Independent H.264/VP9 encodes of identical frames by
// videogen-server currently differ in a few bits (measured: 4 different files
// from 12 runs of one request with one seed on one server, ~44 dB PSNR between
// them), so jobs that must produce the same video are compared decoded, with
// a tolerance far below what a different seed or prompt gives.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "tests/engine/media/media_test_util.h"

namespace videogen::testing {

// Largest mean absolute difference per channel (0-255) between frames
// accepted as the same (measured between encodes of identical frames: up to
// 4.5); different seeds of the fake model shift every channel by tens.
constexpr double kSameFrameMeanAbs = 8.0;

inline void ExpectSameFrames(const std::string& a, const std::string& b, const std::string& what) {
  if (a == b) return;
  auto da = media::testing::DecodeVideo(a);
  auto db = media::testing::DecodeVideo(b);
  ASSERT_TRUE(da.ok()) << what << ": " << da.status();
  ASSERT_TRUE(db.ok()) << what << ": " << db.status();
  ASSERT_EQ(da->frames.size(), db->frames.size()) << what;
  for (size_t f = 0; f < da->frames.size(); ++f) {
    ASSERT_EQ(da->frames[f].rgb.size(), db->frames[f].rgb.size()) << what << " frame " << f;
    const auto diff = media::testing::Compare(da->frames[f].rgb.data(), db->frames[f].rgb.data(),
                                              da->frames[f].rgb.size());
    EXPECT_LT(diff.mean_abs, kSameFrameMeanAbs) << what << " frame " << f;
  }
}

}  // namespace videogen::testing
