// Unit tests of the strict UTF-8 codec (engine/text/utf8.h).
#include "engine/text/utf8.h"

#include <string>

#include <gtest/gtest.h>

namespace videogen::text {
namespace {

TEST(Utf8Test, RoundTripsAllLengths) {
  const std::u32string text = U"a\u00E9\u4E00\U0001F386";
  const std::string utf8 = EncodeUtf8(text);
  EXPECT_EQ(utf8, "a\xC3\xA9\xE4\xB8\x80\xF0\x9F\x8E\x86");
  auto decoded = DecodeUtf8(utf8);
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(*decoded, text);
}

TEST(Utf8Test, RejectsMalformedInput) {
  for (const std::string& bad : {std::string("\x80"), std::string("\xC3"), std::string("\xC0\xAF"),
                                std::string("\xE0\x80\xAF"), std::string("\xED\xA0\x80"),
                                std::string("\xF4\x90\x80\x80"), std::string("\xF8\x88\x80\x80\x80"),
                                std::string("\xE4\xB8")}) {
    EXPECT_FALSE(DecodeUtf8(bad).has_value()) << testing::PrintToString(bad);
  }
  EXPECT_TRUE(DecodeUtf8("").has_value());
}

}  // namespace
}  // namespace videogen::text
