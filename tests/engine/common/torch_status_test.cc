#include "engine/common/torch_status.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

namespace videogen {
namespace {

TEST(TorchStatusTest, ValueIsPassedThrough) {
  absl::StatusOr<int> r = TorchCall("x", [] { return 7; });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 7);
}

TEST(TorchStatusTest, ShapeErrorBecomesInternalWithContext) {
  absl::Status s = TorchCall("adding", [] { (at::ones({2}) + at::ones({3})).sum(); });
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal);
  EXPECT_NE(s.message().find("adding"), std::string::npos);
  EXPECT_EQ(s.message().find("Exception raised from"), std::string::npos) << "no C++ backtrace: " << s.message();
}

TEST(TorchStatusTest, OutOfMemoryBecomesResourceExhausted) {
  absl::Status s = TorchCall("alloc", []() -> void { throw std::bad_alloc(); });
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  absl::Status s2 = TorchCall("alloc", []() -> void {
    throw c10::OutOfMemoryError(c10::SourceLocation{"f", "file", 1}, "CUDA out of memory. Tried to allocate 2 GiB");
  });
  EXPECT_EQ(s2.code(), absl::StatusCode::kResourceExhausted);
}

TEST(TorchStatusTest, StatusReturningCallableKeepsItsCode) {
  absl::Status s = TorchCall("x", [] { return absl::InvalidArgumentError("steps"); });
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  absl::StatusOr<int> r = TorchCall("x", []() -> absl::StatusOr<int> { return absl::NotFoundError("f"); });
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace videogen
