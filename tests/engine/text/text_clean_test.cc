// Unit tests of the prompt cleaning (engine/text/text_clean.h).
#include "engine/text/text_clean.h"

#include <string>

#include <gtest/gtest.h>

namespace videogen::text {
namespace {

std::string Clean(const std::string& text, TextClean mode) {
  auto out = CleanText(text, mode);
  EXPECT_TRUE(out.ok()) << out.status();
  return out.ok() ? *out : "<error>";
}

TEST(TextCleanTest, WhitespaceCollapsesAndStrips) {
  EXPECT_EQ(Clean("  Two   dogs\trun along\n the beach   at sunset.  ", TextClean::kWhitespace),
            "Two dogs run along the beach at sunset.");
  // U+3000 (ideographic space) and U+00A0 are Unicode White_Space.
  EXPECT_EQ(Clean("a\xE3\x80\x80\xC2\xA0 b", TextClean::kWhitespace), "a b");
  EXPECT_EQ(Clean(" \t\n", TextClean::kWhitespace), "");
}

TEST(TextCleanTest, HtmlIsUnescapedTwice) {
  EXPECT_EQ(Clean("&amp;lt;", TextClean::kWhitespace), "<");
  EXPECT_EQ(Clean("Tom &amp; Jerry &lt;b&gt;", TextClean::kWhitespace), "Tom & Jerry <b>");
  // Three levels: only two are undone.
  EXPECT_EQ(Clean("&amp;amp;lt;", TextClean::kWhitespace), "&lt;");
  EXPECT_EQ(Clean("&#x41;&#66;", TextClean::kWhitespace), "AB");
}

TEST(TextCleanTest, HtmlUnescapeOnceAndLegacyEntities) {
  auto once = HtmlUnescape("&amp;lt;");
  ASSERT_TRUE(once.ok());
  EXPECT_EQ(*once, "&lt;");
  auto legacy = HtmlUnescape("&ampx &copy");  // legacy names without ';'
  ASSERT_TRUE(legacy.ok());
  EXPECT_EQ(*legacy, "&x \xC2\xA9");
}

TEST(TextCleanTest, LowerAndCanonicalize) {
  EXPECT_EQ(Clean("  A  ROBOT_Dances ", TextClean::kLower), "a robot_dances");
  EXPECT_EQ(Clean("  A  ROBOT_Dances, (v2.1)! ", TextClean::kCanonicalize), "a robot dances v21");
  EXPECT_EQ(Clean("ΟΔΟΣ", TextClean::kLower), "οδος");  // final sigma
  EXPECT_EQ(Clean("  keep  as is ", TextClean::kNone), "  keep  as is ");
}

TEST(TextCleanTest, InvalidUtf8IsInvalidArgument) {
  for (TextClean mode : {TextClean::kWhitespace, TextClean::kLower, TextClean::kCanonicalize}) {
    EXPECT_EQ(CleanText(std::string("a\xFF"), mode).status().code(), absl::StatusCode::kInvalidArgument);
  }
  EXPECT_EQ(HtmlUnescape(std::string("\x80")).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(TextCleanTest, ParseTextCleanNames) {
  EXPECT_EQ(*ParseTextClean("whitespace"), TextClean::kWhitespace);
  EXPECT_EQ(*ParseTextClean("lower"), TextClean::kLower);
  EXPECT_EQ(*ParseTextClean("canonicalize"), TextClean::kCanonicalize);
  EXPECT_EQ(*ParseTextClean(""), TextClean::kNone);
  EXPECT_EQ(*ParseTextClean("none"), TextClean::kNone);
  auto bad = ParseTextClean("fancy");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(bad.status().message()).find("fancy"), std::string::npos);
}

}  // namespace
}  // namespace videogen::text
