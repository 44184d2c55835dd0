#include "server/log/echo.h"

#include <gtest/gtest.h>

#include <string>

namespace videogen::logging {
namespace {

TEST(EchoTest, ShortValuesAreKept) {
  EXPECT_EQ(Echo(""), "");
  EXPECT_EQ(Echo(std::string(kMaxEchoedBytes, 'a')), std::string(kMaxEchoedBytes, 'a'));
}

TEST(EchoTest, LongValuesAreCutWithAnEllipsis) {
  EXPECT_EQ(Echo(std::string(100'000, 'a')), std::string(kMaxEchoedBytes, 'a') + "...");
}

TEST(EchoTest, NeverCutsInsideAUtf8Sequence) {
  // "é" is two bytes; an odd prefix puts a sequence across the cut.
  std::string value = "a";
  while (value.size() < 2 * kMaxEchoedBytes) value += "\xC3\xA9";
  EXPECT_EQ(Echo(value), value.substr(0, kMaxEchoedBytes - 1) + "...");
}

}  // namespace
}  // namespace videogen::logging
