// Issue #15's hardening findings, each reproduced against the real
// videogen-server binary (fake model) on 127.0.0.1.
#include <gmock/gmock.h>
#include <grpcpp/impl/client_unary_call.h>
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_split.h"
#include "health.grpc.pb.h"
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

// Sends `bytes` as the whole request message of `method`, as a client with
// another protobuf library (or none) could, and returns the call's status.
grpc::Status RawCall(const ServerProcess& server, const std::string& method, const std::string& bytes,
                     bool server_streaming) {
  auto channel = grpc::CreateChannel(server.address(), grpc::InsecureChannelCredentials());
  grpc::Slice slice(bytes);
  grpc::ByteBuffer request(&slice, 1);
  grpc::ClientContext ctx;
  ctx.set_deadline(In(std::chrono::seconds(10)));
  if (!server_streaming) {
    grpc::ByteBuffer response;
    return grpc::internal::BlockingUnaryCall<grpc::ByteBuffer, grpc::ByteBuffer>(
        channel.get(), grpc::internal::RpcMethod(method.c_str(), grpc::internal::RpcMethod::NORMAL_RPC), &ctx,
        request, &response);
  }
  std::unique_ptr<grpc::ClientReader<grpc::ByteBuffer>> reader(
      grpc::internal::ClientReaderFactory<grpc::ByteBuffer>::Create(
          channel.get(), grpc::internal::RpcMethod(method.c_str(), grpc::internal::RpcMethod::SERVER_STREAMING), &ctx,
          request));
  grpc::ByteBuffer event;
  while (reader->Read(&event)) {
  }
  return reader->Finish();
}

// `message` serialized, with `placeholder` (which it contains once) replaced
// by `bytes` of the same length: a way to put invalid UTF-8 on the wire.
std::string WithBytes(const google::protobuf::Message& message, const std::string& placeholder,
                      const std::string& bytes) {
  std::string wire = message.SerializeAsString();
  const size_t at = wire.find(placeholder);
  EXPECT_NE(at, std::string::npos);
  EXPECT_EQ(placeholder.size(), bytes.size());
  if (at != std::string::npos) wire.replace(at, placeholder.size(), bytes);
  return wire;
}

TEST(ServerHardeningTest, InvalidUtf8AndMalformedMessagesAreInvalidArgumentNamingTheProblem) {
  auto server = ServerProcess::Start({"--model", "fake"});
  ASSERT_TRUE(server.ok()) << server.status();
  constexpr char kGenerate[] = "/videogen.v1.VideoGeneration/GenerateVideo";

  v1::GenerateVideoRequest request = FakeRequest(1);
  request.set_prompt("a cat PLACEHOLDER");
  grpc::Status s = RawCall(**server, kGenerate, WithBytes(request, "PLACEHOLDER", "\xff\xfe broken!!"), true);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  EXPECT_THAT(s.error_message(), HasSubstr("prompt: not valid UTF-8"));

  request = FakeRequest(1);
  request.add_adapters()->set_name("PLACEHOLDER");
  s = RawCall(**server, kGenerate, WithBytes(request, "PLACEHOLDER", "abc\xc3(defghi"), true);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  EXPECT_THAT(s.error_message(), HasSubstr("adapters.name: not valid UTF-8"));

  s = RawCall(**server, kGenerate, "\xff\xff\xff\xff not a protobuf message", true);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  EXPECT_THAT(s.error_message(), HasSubstr("request: not a valid videogen.v1.GenerateVideoRequest"));

  v1::GetJobRequest get;
  get.set_job_id("PLACEHOLDER");
  s = RawCall(**server, "/videogen.v1.VideoGeneration/GetJob", WithBytes(get, "PLACEHOLDER", "job-\xed\xa0\x80xxxx"),
              false);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  EXPECT_THAT(s.error_message(), HasSubstr("job_id: not valid UTF-8"));

  v1::WatchJobRequest watch;
  watch.set_job_id("PLACEHOLDER");
  s = RawCall(**server, "/videogen.v1.VideoGeneration/WatchJob", WithBytes(watch, "PLACEHOLDER", "PLACEHOLDE\x80"),
              true);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  EXPECT_THAT(s.error_message(), HasSubstr("job_id: not valid UTF-8"));

  // A well-formed request still works on the same server.
  JobStream ok = Generate(*Connect(**server), FakeRequest(1));
  EXPECT_TRUE(ok.status.ok()) << ok.status.error_message();
  EXPECT_EQ((*server)->SignalAndWait(SIGTERM), 0);
}

TEST(ServerHardeningTest, WatchFromBeyondTheVideoIsOutOfRangeWhetherTheJobHasFinishedOrNot) {
  auto server = ServerProcess::Start({"--model", "fake", "--fake-step-ms", "20"});
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = Connect(**server);
  constexpr uint64_t kBeyond = uint64_t{1} << 40;
  grpc::ClientContext ctx;
  auto running = stub->GenerateVideo(&ctx, FakeRequest(50));
  auto seen = ReadUntil(running.get(), [](const v1::JobEvent& e) { return e.has_progress(); });
  ASSERT_FALSE(seen.empty());
  const std::string job_id = seen[0].job_id();

  JobStream unfinished = Watch(*stub, job_id, kBeyond);  // attached while the job runs, ends when it succeeds
  EXPECT_EQ(unfinished.status.error_code(), grpc::StatusCode::OUT_OF_RANGE) << unfinished.status.error_message();
  EXPECT_THAT(unfinished.status.error_message(), HasSubstr("from_offset: 1099511627776 is beyond the video's"));
  EXPECT_EQ(unfinished.completed(), nullptr);
  EXPECT_TRUE(unfinished.video.empty());

  JobStream all = ReadAll(running.get());
  ASSERT_TRUE(all.status.ok()) << all.status.error_message();
  JobStream finished = Watch(*stub, job_id, kBeyond);
  EXPECT_EQ(finished.status.error_code(), grpc::StatusCode::OUT_OF_RANGE);
  EXPECT_EQ(finished.status.error_message(), unfinished.status.error_message());
  JobStream at_end = Watch(*stub, job_id, all.video.size());
  EXPECT_TRUE(at_end.status.ok()) << at_end.status.error_message();
  EXPECT_NE(at_end.completed(), nullptr);
  EXPECT_EQ((*server)->SignalAndWait(SIGTERM), 0);
}

TEST(ServerHardeningTest, WhenEveryWorkerFailsItsWarmUpSubmissionsAreUnavailableNamingIt) {
  // The warm-up request's prompt is "warm-up": the fake model fails it.
  auto server = ServerProcess::Start({"--model", "fake", "--fake-fail-prompt", "warm-up"});
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = Connect(**server);
  // Submitted before or after the failure: either refused at once or failed
  // from the queue, never left waiting for its deadline.
  for (int i = 0; i < 3; ++i) {
    grpc::ClientContext ctx;
    ctx.set_deadline(In(std::chrono::seconds(30)));
    JobStream s = Generate(*stub, FakeRequest(1), &ctx);
    EXPECT_EQ(s.status.error_code(), grpc::StatusCode::UNAVAILABLE) << s.status.error_message();
    EXPECT_THAT(s.status.error_message(), HasSubstr("every worker failed its warm-up"));
    EXPECT_THAT(s.status.error_message(), HasSubstr("INTERNAL"));
  }
  auto health = grpc::health::v1::Health::NewStub(
      grpc::CreateChannel((*server)->address(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  grpc::health::v1::HealthCheckResponse response;
  ASSERT_TRUE(health->Check(&ctx, grpc::health::v1::HealthCheckRequest(), &response).ok());
  EXPECT_EQ(response.status(), grpc::health::v1::HealthCheckResponse::NOT_SERVING);
  EXPECT_EQ((*server)->SignalAndWait(SIGTERM), 0);
}

// Cancels each job; OK or not.
void CancelAll(v1::VideoGeneration::Stub& stub, const std::vector<std::string>& job_ids) {
  for (const std::string& id : job_ids) {
    grpc::ClientContext ctx;
    v1::CancelJobRequest cancel;
    cancel.set_job_id(id);
    v1::Job job;
    (void)stub.CancelJob(&ctx, cancel, &job);
  }
}

TEST(ServerHardeningTest, FullQueueRefusesBeforeDecodingTheImage) {
  auto server = ServerProcess::Start({"--model", "fake-i2v", "--max-queue", "1", "--fake-step-ms", "20"});
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = Connect(**server);
  const std::string image = ExampleImage();
  ASSERT_FALSE(image.empty());
  v1::GenerateVideoRequest request = FakeRequest(100);
  request.set_model("fake-i2v");
  request.set_image(image);
  grpc::ClientContext running_ctx;
  auto running = stub->GenerateVideo(&running_ctx, request);
  auto first = ReadUntil(running.get(), [](const v1::JobEvent& e) { return e.has_progress(); });
  ASSERT_FALSE(first.empty());
  grpc::ClientContext queued_ctx;
  auto queued = stub->GenerateVideo(&queued_ctx, request);
  auto accepted = ReadUntil(queued.get(), [](const v1::JobEvent& e) { return e.has_accepted(); });
  ASSERT_EQ(accepted.size(), 1u);

  // Its header probes fine, its pixels do not decode: only decoding can tell.
  v1::GenerateVideoRequest undecodable = request;
  undecodable.set_image(image.substr(0, image.size() / 2));
  undecodable.set_steps(1);
  JobStream refused = Generate(*stub, undecodable);
  EXPECT_EQ(refused.status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << refused.status.error_message();
  EXPECT_THAT(refused.status.error_message(), HasSubstr("depth 1"));

  CancelAll(*stub, {first[0].job_id(), accepted[0].job_id()});
  EXPECT_EQ(ReadAll(running.get()).status.error_code(), grpc::StatusCode::CANCELLED);
  EXPECT_EQ(ReadAll(queued.get()).status.error_code(), grpc::StatusCode::CANCELLED);
  // With room in the queue, the same image is refused by its decoder, naming the field.
  JobStream decoded = Generate(*stub, undecodable);
  EXPECT_EQ(decoded.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << decoded.status.error_message();
  EXPECT_THAT(decoded.status.error_message(), HasSubstr("image"));
  EXPECT_EQ((*server)->SignalAndWait(SIGTERM), 0);
}

// Polls the server's log until it holds `text` or `timeout` passed.
bool LogsShow(const ServerProcess& server, const std::string& text, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (server.Logs().find(text) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));  // poll interval
  }
  return false;
}

TEST(ServerHardeningTest, SecondSigtermEndsTheDrainAtOnceAndTheKeyMayBeRetried) {
  StateDir state;
  ASSERT_FALSE(state.path().empty());
  v1::GenerateVideoRequest request = FakeRequest(100);
  request.set_client_request_id("drain-key");
  std::string job_id;
  {
    // 100 steps of 300 ms: 30 s of work against a 60 s drain.
    auto server = ServerProcess::Start({"--model", "fake", "--fake-step-ms", "300", "--drain-timeout", "60",
                                        "--state-dir", state.path()});
    ASSERT_TRUE(server.ok()) << server.status();
    auto stub = Connect(**server);
    grpc::ClientContext ctx;
    auto running = stub->GenerateVideo(&ctx, request);
    auto seen = ReadUntil(running.get(), [](const v1::JobEvent& e) {
      return e.has_progress() && e.progress().stage() == v1::DENOISING;
    });
    ASSERT_FALSE(seen.empty());
    job_id = seen[0].job_id();
    ASSERT_EQ(kill((*server)->pid(), SIGTERM), 0);
    ASSERT_TRUE(LogsShow(**server, "event=drain_started", std::chrono::seconds(5)));
    ASSERT_EQ(kill((*server)->pid(), SIGTERM), 0);
    JobStream rest = ReadAll(running.get());
    EXPECT_EQ(rest.status.error_code(), grpc::StatusCode::UNAVAILABLE) << rest.status.error_message();
    ASSERT_NE(rest.failed(), nullptr);
    EXPECT_EQ(rest.failed()->code(), static_cast<int>(grpc::StatusCode::UNAVAILABLE));
    EXPECT_THAT(rest.failed()->message(), HasSubstr("drain ended early"));
    EXPECT_EQ((*server)->Wait(), 0);
    EXPECT_THAT((*server)->Logs(), HasSubstr("event=drain_aborted"));
  }
  // Restarted on the same state: the job is recorded as failed UNAVAILABLE, and
  // its key makes a new job.
  auto server = ServerProcess::Start({"--model", "fake", "--state-dir", state.path()});
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = Connect(**server);
  {
    grpc::ClientContext ctx;
    v1::GetJobRequest get;
    get.set_job_id(job_id);
    v1::Job job;
    const grpc::Status s = stub->GetJob(&ctx, get, &job);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(job.state(), v1::FAILED);
    EXPECT_EQ(job.error().code(), static_cast<int>(grpc::StatusCode::UNAVAILABLE));
  }
  JobStream retried = Generate(*stub, request);
  EXPECT_TRUE(retried.status.ok()) << retried.status.error_message();
  EXPECT_NE(retried.job_id(), job_id);
  EXPECT_EQ((*server)->SignalAndWait(SIGTERM), 0);
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
