#include "engine/verify/fixture.h"

#include <cstdlib>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

namespace videogen::verify {
namespace {

std::string GoldenDir() {
  const char* env = std::getenv("VIDEOGEN_GOLDEN_DIR");
  return env ? env : "../shared/golden";
}

TEST(FixtureTest, LoadsDitFixture) {
  auto f = LoadFixture(GoldenDir() + "/dit_t2v");
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->component, "dit");
  EXPECT_EQ(f->name, "dit_t2v");
  EXPECT_EQ(f->InputList("x").size(), 1u);
  ASSERT_EQ(f->expected.count("out_0"), 1u);
  EXPECT_DOUBLE_EQ(f->tolerances.at("out_0").rel_l2, 1e-4);
  auto w = f->WeightsPath();
  ASSERT_TRUE(w.ok());
  EXPECT_NE(w->find("weights.safetensors"), std::string::npos);
}

TEST(FixtureTest, CompareAcceptsReferenceAndRejectsPerturbation) {
  auto f = LoadFixture(GoldenDir() + "/dit_t2v");
  ASSERT_TRUE(f.ok()) << f.status();
  TensorMap same = f->expected;
  auto ok = CompareOutputs(*f, same);
  ASSERT_EQ(ok.size(), 1u);
  EXPECT_TRUE(ok[0].pass);
  EXPECT_EQ(ok[0].rel_l2, 0.0);

  TensorMap off = {{"out_0", f->expected.at("out_0") * 1.01}};
  auto bad = CompareOutputs(*f, off);
  EXPECT_FALSE(bad[0].pass);
  EXPECT_NEAR(bad[0].rel_l2, 0.01, 1e-6);

  auto missing = CompareOutputs(*f, {});
  EXPECT_FALSE(missing[0].pass);
  EXPECT_EQ(missing[0].problem, "not produced");
}

TEST(FixtureTest, IntegerTensorsMustMatchExactly) {
  auto f = LoadFixture(GoldenDir() + "/tokenizer_umt5_whitespace");
  ASSERT_TRUE(f.ok()) << f.status();
  TensorMap out = f->expected;
  EXPECT_TRUE(CompareOutputs(*f, out)[0].pass);
  out["ids"] = out["ids"].clone();
  out["ids"].view(-1)[0] += 1;
  for (const auto& c : CompareOutputs(*f, out)) {
    if (c.name == "ids") {
      EXPECT_FALSE(c.pass);
    }
  }
}

TEST(FixtureTest, MissingDirectoryIsNotFound) {
  EXPECT_EQ(LoadFixture("/nonexistent/fixture").status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace videogen::verify
