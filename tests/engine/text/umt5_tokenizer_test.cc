// Unit tests of UmT5Tokenizer on the golden fixture's tiny SentencePiece model.
#include "engine/text/umt5_tokenizer.h"

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "tests/engine/text/tokenizer_test_util.h"

namespace videogen::text {
namespace {

std::unique_ptr<UmT5Tokenizer> MustCreate(int seq_len) {
  TokenizerOptions options;
  options.seq_len = seq_len;
  auto tokenizer = UmT5Tokenizer::Create(test_util::GoldenSpieceModel(), options);
  EXPECT_TRUE(tokenizer.ok()) << tokenizer.status();
  return tokenizer.ok() ? std::move(*tokenizer) : nullptr;
}

std::vector<int64_t> Row(const torch::Tensor& t, int64_t i) {
  const torch::Tensor row = t[i].contiguous();
  return std::vector<int64_t>(row.data_ptr<int64_t>(), row.data_ptr<int64_t>() + row.numel());
}

TEST(UmT5TokenizerTest, FixtureModelHasT5Ids) {
  auto tok = MustCreate(16);
  ASSERT_NE(tok, nullptr);
  EXPECT_EQ(tok->pad_id(), 0);
  EXPECT_EQ(tok->eos_id(), 1);
  EXPECT_EQ(tok->unk_id(), 2);
  EXPECT_EQ(tok->vocab_size(), 500);
  EXPECT_EQ(tok->IdToPiece(1), "</s>");
  EXPECT_EQ(tok->IdToPiece(-1), "");
  EXPECT_EQ(tok->IdToPiece(500), "");
}

TEST(UmT5TokenizerTest, EmptyPromptIsEosThenPadding) {
  auto tok = MustCreate(6);
  ASSERT_NE(tok, nullptr);
  // Whitespace-only text cleans to "" as well.
  auto batch = tok->Encode({"", "  \t\n "});
  ASSERT_TRUE(batch.ok()) << batch.status();
  ASSERT_EQ(batch->ids.sizes(), (c10::IntArrayRef{2, 6}));
  for (int64_t i = 0; i < 2; ++i) {
    EXPECT_EQ(Row(batch->ids, i), (std::vector<int64_t>{1, 0, 0, 0, 0, 0}));
    EXPECT_EQ(Row(batch->mask, i), (std::vector<int64_t>{1, 0, 0, 0, 0, 0}));
  }
}

TEST(UmT5TokenizerTest, LongPromptKeepsSeqLenMinusOnePiecesThenEos) {
  auto tok = MustCreate(8);
  ASSERT_NE(tok, nullptr);
  const std::string prompt = "A cat walks slowly across a sunny wooden floor while a dog runs along the beach.";
  auto pieces = tok->EncodePieces(prompt);
  ASSERT_TRUE(pieces.ok()) << pieces.status();
  ASSERT_GT(pieces->size(), 8u);
  auto batch = tok->Encode({prompt});
  ASSERT_TRUE(batch.ok()) << batch.status();
  std::vector<int64_t> expected(pieces->begin(), pieces->begin() + 7);
  expected.push_back(1);
  EXPECT_EQ(Row(batch->ids, 0), expected);
  EXPECT_EQ(Row(batch->mask, 0), std::vector<int64_t>(8, 1));
}

TEST(UmT5TokenizerTest, ShortPromptIsPaddedAndMasked) {
  auto tok = MustCreate(32);
  ASSERT_NE(tok, nullptr);
  auto pieces = tok->EncodePieces("a cat");
  ASSERT_TRUE(pieces.ok());
  ASSERT_FALSE(pieces->empty());
  auto batch = tok->Encode({"a cat"});
  ASSERT_TRUE(batch.ok());
  const int64_t n = static_cast<int64_t>(pieces->size());
  const std::vector<int64_t> ids = Row(batch->ids, 0), mask = Row(batch->mask, 0);
  EXPECT_EQ(std::vector<int64_t>(ids.begin(), ids.begin() + n), *pieces);
  EXPECT_EQ(ids[n], 1);
  for (int64_t j = n + 1; j < 32; ++j) EXPECT_EQ(ids[j], 0) << j;
  for (int64_t j = 0; j < 32; ++j) EXPECT_EQ(mask[j], j <= n ? 1 : 0) << j;
}

TEST(UmT5TokenizerTest, InvalidUtf8NamesTheTextIndex) {
  auto tok = MustCreate(8);
  ASSERT_NE(tok, nullptr);
  auto batch = tok->Encode({"fine", "also fine", std::string("bad \xC3\x28 byte")});
  EXPECT_EQ(batch.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(batch.status().message()).find("text 2"), std::string::npos) << batch.status();
  // Overlong encoding and a lone surrogate are rejected too.
  EXPECT_EQ(tok->Encode({std::string("\xC0\xAF")}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(tok->Encode({std::string("\xED\xA0\x80")}).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(UmT5TokenizerTest, WhitespaceRunsCollapse) {
  auto tok = MustCreate(32);
  ASSERT_NE(tok, nullptr);
  auto a = tok->EncodePieces("two dogs run");
  auto b = tok->EncodePieces("  two \t\t dogs\n\n run   ");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, *b);
}

TEST(UmT5TokenizerTest, HtmlIsUnescapedTwice) {
  auto tok = MustCreate(32);
  ASSERT_NE(tok, nullptr);
  auto a = tok->EncodePieces("a <b> cat");
  auto b = tok->EncodePieces("a &amp;lt;b&amp;gt; cat");
  auto once = tok->EncodePieces("a &lt;b&gt; cat");
  ASSERT_TRUE(a.ok() && b.ok() && once.ok());
  EXPECT_EQ(*a, *b);
  EXPECT_EQ(*a, *once);
}

TEST(UmT5TokenizerTest, ConsecutiveUnknownCharactersFuseIntoOneUnk) {
  auto tok = MustCreate(16);
  ASSERT_NE(tok, nullptr);
  // Snowmen and the bridge emoji are not in the fixture's English+Chinese
  // vocabulary: one <unk> per run, also across different unknown characters.
  const std::string text = "cat \xE2\x98\x83\xE2\x98\x83\xE2\x98\x83 dog";
  auto pieces = tok->EncodePieces(text);
  ASSERT_TRUE(pieces.ok());
  EXPECT_EQ(std::count(pieces->begin(), pieces->end(), tok->unk_id()), 1);
  auto single = tok->EncodePieces("cat \xE2\x98\x83 dog");
  ASSERT_TRUE(single.ok());
  EXPECT_EQ(*pieces, *single);
  auto mixed = tok->EncodePieces("cat \xE2\x98\x83\xF0\x9F\x8C\x89\xE2\x98\x83 dog");
  ASSERT_TRUE(mixed.ok());
  EXPECT_EQ(*mixed, *single);
  // Separated runs stay separate <unk>s.
  auto apart = tok->EncodePieces("a\xE2\x98\x83" "b\xE2\x98\x83" "c");
  ASSERT_TRUE(apart.ok());
  EXPECT_EQ(std::count(apart->begin(), apart->end(), tok->unk_id()), 2);
}

TEST(UmT5TokenizerTest, SeqLenBelowOneIsRejected) {
  for (int seq_len : {0, -3}) {
    TokenizerOptions options;
    options.seq_len = seq_len;
    auto tok = UmT5Tokenizer::Create(test_util::GoldenSpieceModel(), options);
    EXPECT_EQ(tok.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(std::string(tok.status().message()).find("seq_len"), std::string::npos) << tok.status();
  }
}

TEST(UmT5TokenizerTest, SeqLenOneIsOnlyEos) {
  auto tok = MustCreate(1);
  ASSERT_NE(tok, nullptr);
  auto batch = tok->Encode({"a cat walks"});
  ASSERT_TRUE(batch.ok());
  EXPECT_EQ(Row(batch->ids, 0), std::vector<int64_t>{1});
}

TEST(UmT5TokenizerTest, MissingModelIsNotFound) {
  auto tok = UmT5Tokenizer::Create("/nonexistent/spiece.model");
  EXPECT_EQ(tok.status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace videogen::text
