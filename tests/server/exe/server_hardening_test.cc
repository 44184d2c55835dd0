// Issue #15's hardening findings, each reproduced against the real
// videogen-server binary (fake model) on 127.0.0.1.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "tests/server/exe/test_util.h"
#include "tests/server/support/health_wait.h"

namespace videogen::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// The longest line the server logged.
size_t LongestLogLine(const ServerProcess& server) {
  size_t longest = 0;
  for (absl::string_view line : absl::StrSplit(server.Logs(), '\n')) longest = std::max(longest, line.size());
  return longest;
}

TEST(ServerHardeningTest, HugeModelAndJobIdAreRefusedWithTheirEchoTruncated) {
  auto server = ServerProcess::Start({"--model", "fake"});
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = Connect(**server);
  const std::string huge(100'000, 'x');

  v1::GenerateVideoRequest request = FakeRequest(1);
  request.set_model(huge);
  JobStream refused = Generate(*stub, request);
  EXPECT_EQ(refused.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << refused.status.error_message();
  EXPECT_THAT(refused.status.error_message(), HasSubstr("model: unknown model \"xxxx"));
  EXPECT_THAT(refused.status.error_message(), HasSubstr("...\""));
  EXPECT_LT(refused.status.error_message().size(), 300u);

  {
    grpc::ClientContext ctx;
    v1::GetJobRequest get;
    get.set_job_id(huge);
    v1::Job job;
    const grpc::Status s = stub->GetJob(&ctx, get, &job);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND) << s.error_message();
    EXPECT_THAT(s.error_message(), HasSubstr("job_id: no job \"xxxx"));
    EXPECT_LT(s.error_message().size(), 300u);
  }
  {
    grpc::ClientContext ctx;
    v1::CancelJobRequest cancel;
    cancel.set_job_id(huge);
    v1::Job job;
    const grpc::Status s = stub->CancelJob(&ctx, cancel, &job);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND) << s.error_message();
    EXPECT_LT(s.error_message().size(), 300u);
  }
  JobStream watched = Watch(*stub, huge);
  EXPECT_EQ(watched.status.error_code(), grpc::StatusCode::NOT_FOUND) << watched.status.error_message();
  EXPECT_LT(watched.status.error_message().size(), 300u);

  EXPECT_EQ((*server)->SignalAndWait(SIGTERM), 0);
  EXPECT_LT(LongestLogLine(**server), 2000u);
}

}  // namespace
}  // namespace videogen::testing
