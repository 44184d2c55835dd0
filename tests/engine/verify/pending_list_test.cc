#include "engine/verify/pending_list.h"

#include <gtest/gtest.h>

#include "engine/verify/verify.h"

namespace videogen::verify {
namespace {

TEST(PendingListTest, ParsesNamesIssuesCommentsAndBlankLines) {
  auto list = ParsePendingList("# comment\n\ndit_lora  #13\n  vae22_decode\t#14  extra words\n");
  ASSERT_TRUE(list.ok()) << list.status();
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ(list->at("dit_lora"), "#13");
  EXPECT_EQ(list->at("vae22_decode"), "#14");
}

TEST(PendingListTest, EntryWithoutIssueIsInvalidNamingTheLine) {
  auto list = ParsePendingList("dit_lora #13\npipeline_ti2v\n");
  ASSERT_EQ(list.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(list.status().message().find("line 2"), std::string::npos) << list.status();
}

TEST(PendingListTest, DuplicateNameIsInvalid) {
  auto list = ParsePendingList("dit_lora #13\ndit_lora #14\n");
  ASSERT_EQ(list.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(list.status().message().find("twice"), std::string::npos) << list.status();
}

TEST(PendingListTest, MissingFileIsNotFound) {
  EXPECT_EQ(ReadPendingList("/nonexistent/pending.txt").status().code(), absl::StatusCode::kNotFound);
}

TEST(PendingListTest, ListedFixtureMustFailAndUnlistedMustPass) {
  const PendingList pending = {{"dit_lora", "#13"}};
  FixtureResult pass, fail;
  pass.pass = true;
  fail.error = "unknown component 'dit_lora'";
  pass.name = fail.name = "dit_lora";
  EXPECT_EQ(Judge(fail, pending), Outcome::kPending);
  EXPECT_EQ(Judge(pass, pending), Outcome::kUnexpectedPass);
  EXPECT_NE(FormatOutcome(pass, Outcome::kUnexpectedPass, pending).find("FAIL dit_lora: passes but is listed"),
            std::string::npos);
  EXPECT_EQ(FormatOutcome(fail, Outcome::kPending, pending).rfind("PENDING dit_lora (#13): FAIL", 0), 0u);
  pass.name = fail.name = "dit_t2v";
  EXPECT_EQ(Judge(pass, pending), Outcome::kPass);
  EXPECT_EQ(Judge(fail, pending), Outcome::kFail);
}

}  // namespace
}  // namespace videogen::verify
