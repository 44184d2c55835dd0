#include "engine/pipeline/text_embedding_cache.h"

#include <memory>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "engine/models/t5/t5_config.h"
#include "tests/support/golden.h"

namespace videogen::pipeline {
namespace {

int64_t Bytes(const torch::Tensor& t) { return t.numel() * t.element_size(); }

// The tiny umT5 of golden/pipeline_t2v (2 layers, dim 32) with its tokenizer.
std::unique_ptr<models::T5EncoderModel> TinyEncoder() {
  const std::string dir = testing::GoldenDir() + "/pipeline_t2v";
  models::T5EncoderModelOptions o;
  o.checkpoint_path = dir + "/t5.safetensors";
  o.tokenizer_path = dir + "/spiece.model";
  auto config = models::T5Config::FromJson({{"vocab", 500}, {"dim", 32}, {"dim_attn", 32}, {"dim_ffn", 64},
                                            {"num_heads", 4}, {"num_layers", 2}, {"num_buckets", 32},
                                            {"shared_pos", false}});
  EXPECT_TRUE(config.ok()) << config.status();
  o.config = *config;
  o.dtype = torch::kFloat32;
  auto model = models::T5EncoderModel::Create(o);
  EXPECT_TRUE(model.ok()) << model.status();
  return model.ok() ? std::move(*model) : nullptr;
}

TEST(TextEmbeddingCacheTest, EvictsTheLeastRecentlyUsedWithinTheBound) {
  const torch::Tensor a = torch::full({4, 8}, 1.0f), b = torch::full({4, 8}, 2.0f), c = torch::full({4, 8}, 3.0f);
  TextEmbeddingCache cache(2 * Bytes(a));
  cache.Insert({1, 2}, a);
  cache.Insert({3}, b);
  EXPECT_EQ(cache.bytes(), 2 * Bytes(a));
  ASSERT_TRUE(cache.Lookup({1, 2}).defined());  // {1, 2} is now the most recent
  cache.Insert({4}, c);                           // evicts {3}
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_LE(cache.bytes(), cache.max_bytes());
  EXPECT_FALSE(cache.Lookup({3}).defined());
  EXPECT_TRUE(torch::equal(cache.Lookup({1, 2}), a));
  EXPECT_TRUE(torch::equal(cache.Lookup({4}), c));
  EXPECT_EQ(cache.hits(), 3);
  EXPECT_EQ(cache.misses(), 1);
}

TEST(TextEmbeddingCacheTest, StoresAnOwnCopyAndNothingLargerThanTheBound) {
  TextEmbeddingCache cache(1024);
  torch::Tensor big = torch::zeros({1025}, torch::kUInt8);
  cache.Insert({1}, big);
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.bytes(), 0);
  // A view of a larger batch is stored with its own storage, not the batch's.
  torch::Tensor batch = torch::arange(64, torch::kFloat32).view({2, 32});
  cache.Insert({2}, batch[1].narrow(0, 0, 4));
  EXPECT_EQ(cache.bytes(), 16);
  batch.zero_();
  EXPECT_TRUE(torch::equal(cache.Lookup({2}), torch::arange(32, 36, torch::kFloat32)));
  TextEmbeddingCache off(0);
  off.Insert({1}, torch::zeros({1}));
  EXPECT_EQ(off.size(), 0u);
}

TEST(TextEmbeddingCacheTest, HitsAreBitIdenticalToEncodingAndOtherTextsMiss) {
  auto encoder = TinyEncoder();
  ASSERT_NE(encoder, nullptr);
  TextEmbeddingCache cache(1 << 20);
  const std::string prompt = "A red sports car drives through a neon-lit city street at night.";
  const std::string negative = "blurry, static";
  auto first = EncodeTextsCached(*encoder, &cache, {prompt, negative});
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(cache.misses(), 2);
  EXPECT_EQ(cache.size(), 2u);
  // The same texts again: both from the cache, identical tensors.
  auto again = EncodeTextsCached(*encoder, &cache, {prompt, negative});
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(cache.hits(), 2);
  for (size_t i = 0; i < 2; ++i) EXPECT_TRUE(torch::equal((*again)[i], (*first)[i])) << i;
  // A new prompt with the cached negative prompt: one miss, one hit; each
  // context equals the uncached encoder's for that text alone (see below).
  auto other = EncodeTextsCached(*encoder, &cache, {"a lighthouse at dusk", negative});
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_EQ(cache.misses(), 3);
  EXPECT_EQ(cache.hits(), 3);
  auto alone = encoder->Encode({"a lighthouse at dusk"});
  auto negative_alone = encoder->Encode({negative});
  ASSERT_TRUE(alone.ok() && negative_alone.ok());
  EXPECT_TRUE(torch::equal((*other)[0], (*alone)[0]));
  // The cached negative was encoded in a batch with the longer prompt (its
  // columns padded to that prompt's length): equal to encoding it alone up to
  // the GEMM shapes' rounding (bit-identical on LibTorch 1.13, not on 2.6).
  EXPECT_TRUE(torch::allclose((*other)[1], (*negative_alone)[0], /*rtol=*/1e-5, /*atol=*/1e-6));
  EXPECT_NE((*other)[0].size(0), (*first)[0].size(0));
  // No cache: the encoder's own result.
  auto uncached = EncodeTextsCached(*encoder, nullptr, {prompt});
  ASSERT_TRUE(uncached.ok()) << uncached.status();
  EXPECT_TRUE(torch::equal((*uncached)[0], (*first)[0]));
}

}  // namespace
}  // namespace videogen::pipeline
