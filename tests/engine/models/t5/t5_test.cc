#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <memory>
#include <utility>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <gtest/gtest.h>

#include "tests/support/golden.h"

#include "engine/io/safetensors.h"
#include "engine/io/tensor_source.h"
#include "engine/models/t5/t5_config.h"
#include "engine/models/t5/t5_encoder.h"
#include "engine/models/t5/t5_encoder_model.h"
#include "engine/models/t5/t5_layers.h"
#include "engine/models/t5/t5_streamed_encoder.h"

namespace videogen::models {
namespace {

namespace fs = std::filesystem;

using testing::GoldenDir;
using testing::ReadTensor;
using testing::RelL2;

T5Config FixtureConfig() {
  // golden/t5_encoder/fixture.json "config".
  auto config = T5Config::FromJson({{"vocab", 500}, {"dim", 32}, {"dim_attn", 32}, {"dim_ffn", 80}, {"num_heads", 4},
                                    {"num_layers", 2}, {"num_buckets", 32}, {"shared_pos", false}, {"dropout", 0.1}});
  EXPECT_TRUE(config.ok()) << config.status();
  return *config;
}

int64_t Bucket(int64_t rel, int64_t num_buckets, bool bidirectional) {
  return RelativePositionBucket(torch::tensor({rel}), num_buckets, bidirectional)[0].item<int64_t>();
}

TEST(RelativePositionBucketTest, BidirectionalMatchesHandComputedValues) {
  // num_buckets 32 -> 16 per direction, exact below 8, log-spaced up to 128:
  // bucket = 8 + int(log(d/8) / log(16) * 8), clamped to 15; +16 when key after query.
  EXPECT_EQ(Bucket(0, 32, true), 0);
  EXPECT_EQ(Bucket(-3, 32, true), 3);
  EXPECT_EQ(Bucket(3, 32, true), 19);
  EXPECT_EQ(Bucket(-7, 32, true), 7);
  EXPECT_EQ(Bucket(7, 32, true), 23);
  EXPECT_EQ(Bucket(-8, 32, true), 8);   // log(1) = 0
  EXPECT_EQ(Bucket(-9, 32, true), 8);   // 0.34 -> 0
  EXPECT_EQ(Bucket(9, 32, true), 24);
  EXPECT_EQ(Bucket(-20, 32, true), 10);  // 2.64 -> 2
  EXPECT_EQ(Bucket(20, 32, true), 26);
  EXPECT_EQ(Bucket(-50, 32, true), 13);  // 5.29 -> 5
  EXPECT_EQ(Bucket(50, 32, true), 29);
  EXPECT_EQ(Bucket(-127, 32, true), 15);  // 7.98 -> 7
  EXPECT_EQ(Bucket(-128, 32, true), 15);  // clamp
  EXPECT_EQ(Bucket(-1000, 32, true), 15);
  EXPECT_EQ(Bucket(1000, 32, true), 31);
}

TEST(RelativePositionBucketTest, UnidirectionalIgnoresFutureKeys) {
  // 32 buckets, exact below 16: bucket = 16 + int(log(d/16) / log(8) * 16), clamped to 31.
  EXPECT_EQ(Bucket(5, 32, false), 0);
  EXPECT_EQ(Bucket(-5, 32, false), 5);
  EXPECT_EQ(Bucket(-20, 32, false), 17);  // 1.72 -> 1
  EXPECT_EQ(Bucket(-1000, 32, false), 31);
}

TEST(RelativePositionBucketTest, EmbeddingLooksUpKeyMinusQueryBucket) {
  T5RelativeEmbedding emb(32, 2, /*bidirectional=*/true, 128, torch::TensorOptions());
  {
    torch::NoGradGuard no_grad;
    emb->named_parameters()["embedding.weight"].copy_(at::arange(64, at::kFloat).view({32, 2}));
  }
  const torch::Tensor bias = emb(3, 40);  // [1, H, lq, lk]
  ASSERT_EQ(bias.sizes(), (std::vector<int64_t>{1, 2, 3, 40}));
  // query 2, key 22: rel = +20 -> bucket 26; head 1 -> 26 * 2 + 1.
  EXPECT_EQ(bias[0][1][2][22].item<float>(), 53.0f);
  // query 2, key 0: rel = -2 -> bucket 2; head 0 -> 4.
  EXPECT_EQ(bias[0][0][2][0].item<float>(), 4.0f);
}

// The Toeplitz construction (one lookup per diagonal) equals the reference's
// gather of every (query, key) bucket, value for value, for square and
// non-square shapes, both directions and more keys than max_dist.
TEST(RelativePositionBucketTest, BiasEqualsTheGatherOfEveryPairsBucket) {
  for (const bool bidirectional : {true, false}) {
    T5RelativeEmbedding emb(32, 3, bidirectional, 128, torch::TensorOptions());
    {
      torch::NoGradGuard no_grad;
      emb->named_parameters()["embedding.weight"].normal_();
    }
    for (const auto& [lq, lk] : std::vector<std::pair<int64_t, int64_t>>{{1, 1}, {5, 5}, {3, 40}, {300, 7}, {257, 257}}) {
      const torch::Tensor rel_pos = at::arange(lk, at::kLong).unsqueeze(0) - at::arange(lq, at::kLong).unsqueeze(1);
      const torch::Tensor expected =
          at::embedding(emb->named_parameters()["embedding.weight"], RelativePositionBucket(rel_pos, 32, bidirectional, 128))
              .permute({2, 0, 1})
              .unsqueeze(0);
      const torch::Tensor got = emb(lq, lk);
      EXPECT_TRUE(got.is_contiguous()) << "lq " << lq << " lk " << lk << " strides " << got.strides();
      EXPECT_TRUE(at::equal(got, expected)) << "lq " << lq << " lk " << lk << " bidirectional " << bidirectional;
    }
  }
}

// T5Attention adds the position bias and the mask to the scores in place;
// the reference builds the bias apart (zeros + position bias, masked keys
// filled with the lowest value) and adds it. Equal value for value, with
// padded keys, in float32 and bf16.
TEST(T5AttentionTest, InPlaceBiasEqualsTheReferencesSeparateBias) {
  const T5Config c = FixtureConfig();
  for (const at::ScalarType dtype : {at::kFloat, at::kBFloat16}) {
    at::manual_seed(3);
    T5Attention attention(c, torch::TensorOptions().dtype(dtype));
    auto params = attention->named_parameters();
    for (auto& p : params) p.value().normal_(0, 0.3);
    const int64_t b = 2, l = 9, n = c.num_heads, d = c.dim_attn / c.num_heads;
    const at::Tensor x = at::randn({b, l, c.dim}).to(dtype);
    const at::Tensor pos_bias = at::randn({1, n, l, l}).to(dtype);
    at::Tensor mask = at::ones({b, l}, at::kLong);
    mask[1].narrow(0, 5, 4).zero_();  // the second sequence has 4 padded keys
    const at::Tensor q = at::linear(x, params["q.weight"]).view({b, l, n, d});
    const at::Tensor k = at::linear(x, params["k.weight"]).view({b, l, n, d});
    const at::Tensor v = at::linear(x, params["v.weight"]).view({b, l, n, d});
    at::Tensor bias = at::zeros({b, n, l, l}, x.options());
    bias += pos_bias;
    const double lowest = dtype == at::kFloat ? static_cast<double>(std::numeric_limits<float>::lowest())
                                              : static_cast<double>(std::numeric_limits<c10::BFloat16>::lowest());
    bias.masked_fill_(mask.view({b, 1, 1, -1}) == 0, lowest);
    at::Tensor scores = at::einsum("binc,bjnc->bnij", {q, k}) + bias;
    scores = at::softmax(scores.to(at::kFloat), -1).to(dtype);
    const at::Tensor expected =
        at::linear(at::einsum("bnij,bjnc->binc", {scores, v}).reshape({b, l, n * d}), params["o.weight"]);
    EXPECT_TRUE(at::equal(attention(x, mask, pos_bias), expected)) << dtype;
  }
}

// The in-place GELU equals the reference's op-by-op formula value for value
// (fp32 and bf16, with large, tiny, infinite and NaN inputs), and so does
// the feed-forward built on it.
TEST(T5FeedForwardTest, InPlaceGeluEqualsTheReferencesOps) {
  const double k = std::sqrt(2.0 / M_PI);
  auto reference_gelu = [&](const at::Tensor& x) {
    return 0.5 * x * (1.0 + at::tanh(k * (x + 0.044715 * at::pow(x, 3.0))));
  };
  for (const at::ScalarType dtype : {at::kFloat, at::kBFloat16}) {
    at::manual_seed(4);
    at::Tensor x = (at::randn({7, 333}) * 4).to(dtype);
    x[0][0] = std::numeric_limits<float>::infinity();
    x[0][1] = -std::numeric_limits<float>::infinity();
    x[0][2] = std::numeric_limits<float>::quiet_NaN();
    x[0][3] = 1e-30;
    x[0][4] = 300.0;
    const at::Tensor expected = reference_gelu(x);
    at::Tensor got = x.clone();
    T5GeluInPlace(got);
    EXPECT_TRUE(at::equal(got.isnan(), expected.isnan())) << dtype;
    EXPECT_TRUE(at::equal(at::nan_to_num(got), at::nan_to_num(expected))) << dtype;

    T5FeedForward ffn(24, 40, torch::TensorOptions().dtype(dtype));
    auto params = ffn->named_parameters();
    for (auto& p : params) p.value().normal_(0, 0.3);
    const at::Tensor h = at::randn({2, 5, 24}).to(dtype);
    const at::Tensor want = at::linear(
        at::linear(h, params["fc1.weight"]) * reference_gelu(at::linear(h, params["gate.0.weight"])),
        params["fc2.weight"]);
    EXPECT_TRUE(at::equal(ffn(h), want)) << dtype;
  }
}

TEST(T5ConfigTest, PresetAndValidation) {
  const T5Config xxl = T5Config::UmT5Xxl();
  EXPECT_EQ(xxl.vocab, 256384);
  EXPECT_EQ(xxl.dim, 4096);
  EXPECT_EQ(xxl.dim_ffn, 10240);
  EXPECT_EQ(xxl.num_heads, 64);
  EXPECT_EQ(xxl.num_layers, 24);
  EXPECT_EQ(xxl.num_buckets, 32);
  EXPECT_FALSE(xxl.shared_pos);

  auto bad_heads = T5Config::FromJson({{"dim_attn", 30}, {"num_heads", 4}});
  ASSERT_EQ(bad_heads.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad_heads.status().message().find("config.num_heads"), std::string::npos) << bad_heads.status();
  auto bad_dim = T5Config::FromJson({{"dim", -1}});
  ASSERT_EQ(bad_dim.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad_dim.status().message().find("config.dim"), std::string::npos) << bad_dim.status();
  auto bad_buckets = T5Config::FromJson({{"num_buckets", 31}});
  ASSERT_EQ(bad_buckets.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad_buckets.status().message().find("config.num_buckets"), std::string::npos);
}

TEST(T5EncoderTest, Float32MatchesGoldenHiddenStates) {
  const std::string dir = GoldenDir() + "/t5_encoder";
  auto source = testing::OpenOrFail(dir + "/weights.safetensors");
  auto encoder = LoadT5Encoder(FixtureConfig(), *source);
  ASSERT_TRUE(encoder.ok()) << encoder.status();
  const torch::Tensor ids = ReadTensor(dir + "/inputs.safetensors", "ids");
  const torch::Tensor mask = ReadTensor(dir + "/inputs.safetensors", "mask");
  const torch::Tensor expected = ReadTensor(dir + "/outputs.safetensors", "hidden_states");
  c10::InferenceMode inference;
  const torch::Tensor hidden = (*encoder)->forward(ids, mask);
  EXPECT_EQ(hidden.scalar_type(), torch::kFloat32);
  EXPECT_LE((hidden - expected).abs().max().item<double>(), 1e-3);
  EXPECT_LE(RelL2(hidden, expected), 1e-4);
  const std::vector<torch::Tensor> contexts = TrimToMask(hidden, mask);
  ASSERT_EQ(contexts.size(), 2u);
  EXPECT_EQ(contexts[0].size(0), mask[0].sum().item<int64_t>());
  EXPECT_EQ(contexts[1].size(0), mask[1].sum().item<int64_t>());
}

TEST(T5EncoderTest, Bfloat16CheckpointIsCloseToFloat32) {
  const std::string dir = GoldenDir() + "/t5_encoder";
  auto fp32_source = testing::OpenOrFail(dir + "/weights.safetensors");
  auto bf16_source = testing::OpenOrFail(dir + "/weights_bf16.pth");
  auto fp32 = LoadT5Encoder(FixtureConfig(), *fp32_source);
  ASSERT_TRUE(fp32.ok()) << fp32.status();
  LoadOptions bf16_load;
  bf16_load.dtype = torch::kBFloat16;
  auto bf16 = LoadT5Encoder(FixtureConfig(), *bf16_source, bf16_load);
  ASSERT_TRUE(bf16.ok()) << bf16.status();
  EXPECT_EQ((*bf16)->named_parameters()["blocks.0.attn.q.weight"].scalar_type(), torch::kBFloat16);

  const torch::Tensor ids = ReadTensor(dir + "/inputs.safetensors", "ids");
  const torch::Tensor mask = ReadTensor(dir + "/inputs.safetensors", "mask");
  c10::InferenceMode inference;
  const torch::Tensor ref = (*fp32)->forward(ids, mask);
  const torch::Tensor out = (*bf16)->forward(ids, mask);
  ASSERT_EQ(out.scalar_type(), torch::kBFloat16);
  // bf16 weights and activations (8-bit mantissa) through 2 layers. Measured
  // on this fixture: rel_l2 0.0115, max_abs 0.098 (|ref| <= 3.42); limits ~2.5x that.
  const torch::Tensor out32 = out.to(torch::kFloat32);
  const double rel = RelL2(out32, ref);
  EXPECT_LE(rel, 0.03);
  EXPECT_LE((out32 - ref).abs().max().item<double>(), 0.25);
  EXPECT_GT(rel, 0.0);  // really ran in bfloat16
}

TEST(T5EncoderTest, MissingKeyIsNamed) {
  const std::string dir = GoldenDir() + "/t5_encoder";
  auto full = testing::OpenOrFail(dir + "/weights.safetensors");
  std::vector<io::NamedTensor> kept;
  for (const io::TensorInfo& info : full->tensors()) {
    if (info.name == "blocks.1.ffn.gate.0.weight") continue;
    kept.push_back({info.name, full->Read(info.name)->clone()});
  }
  const std::string path = (fs::temp_directory_path() / ("vg_t5_" + std::to_string(::getpid()) + ".safetensors")).string();
  ASSERT_TRUE(io::WriteSafetensors(path, std::move(kept)).ok());
  auto partial = testing::OpenOrFail(path);
  auto encoder = LoadT5Encoder(FixtureConfig(), *partial);
  fs::remove(path);
  ASSERT_EQ(encoder.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(encoder.status().message().find("missing keys: blocks.1.ffn.gate.0.weight"), std::string::npos)
      << encoder.status();
}

TEST(T5EncoderTest, RejectsNonFloatDtype) {
  auto source = testing::OpenOrFail(GoldenDir() + "/t5_encoder/weights.safetensors");
  LoadOptions load;
  load.dtype = torch::kInt32;
  auto encoder = LoadT5Encoder(FixtureConfig(), *source, load);
  ASSERT_EQ(encoder.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(encoder.status().message().find("dtype"), std::string::npos) << encoder.status();
}

TEST(T5EncoderTest, RejectsFloat16OnCpu) {
  auto source = testing::OpenOrFail(GoldenDir() + "/t5_encoder/weights.safetensors");
  LoadOptions load;
  load.dtype = torch::kHalf;
  auto encoder = LoadT5Encoder(FixtureConfig(), *source, load);
  ASSERT_EQ(encoder.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(encoder.status().message().find("dtype: float16 needs a CUDA device"), std::string::npos)
      << encoder.status();
}

// Streaming the encoder block by block from its checkpoint gives exactly the
// outputs of the loaded encoder, in float32 and in bfloat16 (from the .pth).
TEST(T5StreamedEncoderTest, BitIdenticalToTheLoadedEncoder) {
  const std::string dir = GoldenDir() + "/t5_encoder";
  const torch::Tensor ids = ReadTensor(dir + "/inputs.safetensors", "ids");
  const torch::Tensor mask = ReadTensor(dir + "/inputs.safetensors", "mask");
  for (const auto& [file, dtype] : {std::pair<std::string, torch::ScalarType>{"weights.safetensors", torch::kFloat32},
                                    {"weights_bf16.pth", torch::kBFloat16}}) {
    auto source = testing::OpenOrFail(dir + "/" + file);
    LoadOptions load;
    load.dtype = dtype;
    auto loaded = LoadT5Encoder(FixtureConfig(), *source, load);
    ASSERT_TRUE(loaded.ok()) << loaded.status();
    ASSERT_TRUE(CheckT5Streamable(FixtureConfig(), *source, load).ok());
    c10::InferenceMode inference;
    const torch::Tensor expected = (*loaded)->forward(ids, mask);
    auto streamed = StreamT5Encoder(FixtureConfig(), *source, load, ids, mask);
    ASSERT_TRUE(streamed.ok()) << streamed.status();
    EXPECT_EQ(streamed->scalar_type(), dtype);
    EXPECT_TRUE(torch::equal(*streamed, expected)) << file;
  }
}

TEST(T5StreamedEncoderTest, MissingTensorIsNamedBeforeAnyEncoding) {
  const std::string dir = GoldenDir() + "/t5_encoder";
  auto full = testing::OpenOrFail(dir + "/weights.safetensors");
  std::vector<io::NamedTensor> kept;
  for (const io::TensorInfo& info : full->tensors()) {
    if (info.name == "blocks.1.attn.o.weight") continue;
    kept.push_back({info.name, full->Read(info.name)->clone()});
  }
  const std::string path =
      (fs::temp_directory_path() / ("vg_t5s_" + std::to_string(::getpid()) + ".safetensors")).string();
  ASSERT_TRUE(io::WriteSafetensors(path, std::move(kept)).ok());
  auto partial = testing::OpenOrFail(path);
  const absl::Status s = CheckT5Streamable(FixtureConfig(), *partial, LoadOptions{});
  fs::remove(path);
  ASSERT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("blocks.1.attn.o.weight"), std::string::npos) << s;
}

T5EncoderModelOptions PipelineT2vOptions() {
  const std::string dir = GoldenDir() + "/pipeline_t2v";
  T5EncoderModelOptions o;
  o.checkpoint_path = dir + "/t5.safetensors";
  o.tokenizer_path = dir + "/spiece.model";
  auto config = T5Config::FromJson({{"vocab", 500}, {"dim", 32}, {"dim_attn", 32}, {"dim_ffn", 64}, {"num_heads", 4},
                                    {"num_layers", 2}, {"num_buckets", 32}, {"shared_pos", false}});
  EXPECT_TRUE(config.ok());
  o.config = *config;
  o.dtype = torch::kFloat32;
  return o;
}

TEST(T5EncoderModelTest, EncodesPromptAsThePipelineFixture) {
  auto model = T5EncoderModel::Create(PipelineT2vOptions());
  ASSERT_TRUE(model.ok()) << model.status();
  // golden/pipeline_t2v: config.generate.input_prompt -> output "context" [30, 32].
  auto contexts = (*model)->Encode({"A red sports car drives through a neon-lit city street at night."});
  ASSERT_TRUE(contexts.ok()) << contexts.status();
  ASSERT_EQ(contexts->size(), 1u);
  const torch::Tensor expected = ReadTensor(GoldenDir() + "/pipeline_t2v/outputs.safetensors", "context");
  ASSERT_EQ((*contexts)[0].sizes(), expected.sizes());
  EXPECT_LE(((*contexts)[0] - expected).abs().max().item<double>(), 2e-3);
  EXPECT_LE(RelL2((*contexts)[0], expected), 1e-4);
}

TEST(T5EncoderModelTest, StreamedModelEncodesAsTheLoadedOne) {
  auto loaded = T5EncoderModel::Create(PipelineT2vOptions());
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  T5EncoderModelOptions o = PipelineT2vOptions();
  auto source = io::OpenCheckpoint(o.checkpoint_path);
  ASSERT_TRUE(source.ok()) << source.status();
  o.streamed_source = std::shared_ptr<const io::TensorSource>(std::move(*source));
  o.checkpoint_path.clear();
  auto streamed = T5EncoderModel::Create(o);
  ASSERT_TRUE(streamed.ok()) << streamed.status();
  EXPECT_TRUE((*streamed)->streamed());
  EXPECT_FALSE((*loaded)->streamed());
  const std::vector<std::string> prompts = {"A red sports car drives through a neon-lit city street at night.", ""};
  auto a = (*loaded)->Encode(prompts);
  auto b = (*streamed)->Encode(prompts);
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_EQ(a->size(), b->size());
  for (size_t i = 0; i < a->size(); ++i) EXPECT_TRUE(torch::equal((*a)[i], (*b)[i])) << i;
}

// EncodeIds runs only up to the batch's last real token; the contexts equal
// those of the encoder run over all text_len (512) positions, as the
// reference does, in float32 and bfloat16.
TEST(T5EncoderModelTest, RealTokensOnlyEncodeAsTheFullLength) {
  for (const torch::ScalarType dtype : {torch::kFloat32, torch::kBFloat16}) {
    T5EncoderModelOptions o = PipelineT2vOptions();
    o.dtype = dtype;
    auto model = T5EncoderModel::Create(o);
    ASSERT_TRUE(model.ok()) << model.status();
    auto source = testing::OpenOrFail(o.checkpoint_path);
    LoadOptions load;
    load.dtype = dtype;
    auto full = LoadT5Encoder(o.config, *source, load);
    ASSERT_TRUE(full.ok()) << full.status();
    auto batch = (*model)->tokenizer().Encode(
        {"A red sports car drives through a neon-lit city street at night.", "rain", ""});
    ASSERT_TRUE(batch.ok()) << batch.status();
    ASSERT_EQ(batch->ids.size(1), 512);
    auto kept = (*model)->EncodeIds(batch->ids, batch->mask);
    ASSERT_TRUE(kept.ok()) << kept.status();
    c10::InferenceMode inference;
    const std::vector<torch::Tensor> expected = TrimToMask((*full)->forward(batch->ids, batch->mask), batch->mask);
    ASSERT_EQ(kept->size(), expected.size());
    for (size_t i = 0; i < expected.size(); ++i) {
      ASSERT_EQ((*kept)[i].sizes(), expected[i].sizes()) << i;
      const double diff = ((*kept)[i].to(torch::kFloat32) - expected[i].to(torch::kFloat32)).abs().max().item<double>();
      EXPECT_TRUE(torch::equal((*kept)[i], expected[i])) << "text " << i << " max diff " << diff;
    }
  }
}

TEST(T5EncoderModelTest, RejectsOutOfVocabularyIds) {
  auto model = T5EncoderModel::Create(PipelineT2vOptions());
  ASSERT_TRUE(model.ok()) << model.status();
  const torch::Tensor ids = torch::tensor({{5, 500, 1}}, torch::kLong);
  auto out = (*model)->EncodeIds(ids, at::ones_like(ids));
  ASSERT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(out.status().message().find("ids"), std::string::npos) << out.status();
}

TEST(T5EncoderModelTest, RequiresTokenizerPath) {
  T5EncoderModelOptions o = PipelineT2vOptions();
  o.tokenizer_path.clear();
  auto model = T5EncoderModel::Create(o);
  ASSERT_EQ(model.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(model.status().message().find("tokenizer_path"), std::string::npos) << model.status();
}

}  // namespace
}  // namespace videogen::models
