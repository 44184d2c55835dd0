#include "tests/support/golden.h"

#include <cstdlib>

#include <gtest/gtest.h>

namespace videogen::testing {

std::string GoldenDir() {
  const char* env = std::getenv("VIDEOGEN_GOLDEN_DIR");
  return env != nullptr && *env != '\0' ? env : "../shared/golden";
}

std::unique_ptr<io::TensorSource> OpenOrFail(const std::string& path) {
  auto source = io::OpenCheckpoint(path);
  EXPECT_TRUE(source.ok()) << source.status();
  return source.ok() ? std::move(*source) : nullptr;
}

torch::Tensor ReadTensor(const std::string& path, const std::string& name) {
  auto source = OpenOrFail(path);
  if (source == nullptr) return {};
  auto t = source->Read(name);
  EXPECT_TRUE(t.ok()) << t.status();
  return t.ok() ? t->clone() : torch::Tensor();
}

double RelL2(const torch::Tensor& a, const torch::Tensor& b) {
  const torch::Tensor a64 = a.to(torch::kFloat64), b64 = b.to(torch::kFloat64);
  return ((a64 - b64).norm() / b64.norm()).item<double>();
}

}  // namespace videogen::testing
