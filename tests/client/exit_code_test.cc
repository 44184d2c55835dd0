#include "client/exit_code.h"

#include <set>

#include <gtest/gtest.h>

namespace videogen::client {
namespace {

TEST(ExitCodeTest, DocumentedCodesAreDistinct) {
  const std::set<int> codes = {ToInt(ExitCode::kOk),          ToInt(ExitCode::kError),
                               ToInt(ExitCode::kUsage),       ToInt(ExitCode::kUnavailable),
                               ToInt(ExitCode::kJobFailed),   ToInt(ExitCode::kCancelled),
                               ToInt(ExitCode::kAuth),        ToInt(ExitCode::kInterrupted)};
  EXPECT_EQ(codes.size(), 8u);
  EXPECT_EQ(ToInt(ExitCode::kUsage), 2);
  EXPECT_EQ(ToInt(ExitCode::kUnavailable), 3);
  EXPECT_EQ(ToInt(ExitCode::kJobFailed), 4);
  EXPECT_EQ(ToInt(ExitCode::kCancelled), 5);
  EXPECT_EQ(ToInt(ExitCode::kAuth), 6);
}

TEST(ExitCodeTest, RpcStatusMapping) {
  using grpc::StatusCode;
  EXPECT_EQ(ExitCodeForRpc(StatusCode::OK), ExitCode::kOk);
  EXPECT_EQ(ExitCodeForRpc(StatusCode::INVALID_ARGUMENT), ExitCode::kUsage);
  EXPECT_EQ(ExitCodeForRpc(StatusCode::OUT_OF_RANGE), ExitCode::kUsage);
  EXPECT_EQ(ExitCodeForRpc(StatusCode::NOT_FOUND), ExitCode::kUsage);
  EXPECT_EQ(ExitCodeForRpc(StatusCode::FAILED_PRECONDITION), ExitCode::kUsage);
  EXPECT_EQ(ExitCodeForRpc(StatusCode::UNAVAILABLE), ExitCode::kUnavailable);
  EXPECT_EQ(ExitCodeForRpc(StatusCode::DEADLINE_EXCEEDED), ExitCode::kUnavailable);
  EXPECT_EQ(ExitCodeForRpc(StatusCode::RESOURCE_EXHAUSTED), ExitCode::kUnavailable);
  EXPECT_EQ(ExitCodeForRpc(StatusCode::CANCELLED), ExitCode::kCancelled);
  EXPECT_EQ(ExitCodeForRpc(StatusCode::UNAUTHENTICATED), ExitCode::kAuth);
  EXPECT_EQ(ExitCodeForRpc(StatusCode::PERMISSION_DENIED), ExitCode::kAuth);
  EXPECT_EQ(ExitCodeForRpc(StatusCode::INTERNAL), ExitCode::kError);
  EXPECT_EQ(ExitCodeForRpc(StatusCode::UNIMPLEMENTED), ExitCode::kError);
  EXPECT_EQ(ExitCodeForRpc(StatusCode::DATA_LOSS), ExitCode::kError);
}

TEST(ExitCodeTest, JobFailureMapping) {
  EXPECT_EQ(ExitCodeForJobFailure(1), ExitCode::kCancelled);     // CANCELLED
  EXPECT_EQ(ExitCodeForJobFailure(3), ExitCode::kUsage);         // INVALID_ARGUMENT
  EXPECT_EQ(ExitCodeForJobFailure(8), ExitCode::kJobFailed);     // RESOURCE_EXHAUSTED (OOM in the job)
  EXPECT_EQ(ExitCodeForJobFailure(13), ExitCode::kJobFailed);    // INTERNAL
  EXPECT_EQ(ExitCodeForJobFailure(4), ExitCode::kJobFailed);     // DEADLINE_EXCEEDED
  EXPECT_EQ(ExitCodeForJobFailure(14), ExitCode::kUnavailable);  // UNAVAILABLE (drained)
  EXPECT_EQ(ExitCodeForJobFailure(16), ExitCode::kAuth);         // UNAUTHENTICATED
}

TEST(ExitCodeTest, LocalStatusMapping) {
  EXPECT_EQ(ExitCodeForLocal(absl::OkStatus()), ExitCode::kOk);
  EXPECT_EQ(ExitCodeForLocal(absl::InvalidArgumentError("x")), ExitCode::kUsage);
  EXPECT_EQ(ExitCodeForLocal(absl::DataLossError("x")), ExitCode::kError);
  EXPECT_EQ(ExitCodeForLocal(absl::UnavailableError("x")), ExitCode::kUnavailable);
  EXPECT_EQ(ExitCodeForLocal(absl::CancelledError("x")), ExitCode::kCancelled);
  EXPECT_EQ(ExitCodeForLocal(absl::UnauthenticatedError("x")), ExitCode::kAuth);
}

TEST(ExitCodeTest, CodeNames) {
  EXPECT_STREQ(StatusCodeName(3), "INVALID_ARGUMENT");
  EXPECT_STREQ(StatusCodeName(14), "UNAVAILABLE");
  EXPECT_STREQ(StatusCodeName(16), "UNAUTHENTICATED");
  EXPECT_STREQ(StatusCodeName(99), "UNKNOWN_CODE");
}

}  // namespace
}  // namespace videogen::client
