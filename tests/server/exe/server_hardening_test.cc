// Issue #15's hardening findings, each reproduced against the real
// videogen-server binary (fake model) on 127.0.0.1.
#include <gmock/gmock.h>
#include <grpcpp/impl/client_unary_call.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "health.grpc.pb.h"
#include "tests/server/exe/test_util.h"
#include "tests/server/support/health_wait.h"
#include "tests/server/support/poll.h"

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

// RawCall on `server` with a 10 s deadline.
grpc::Status RawCall(const ServerProcess& server, const std::string& method, const std::string& bytes,
                     bool server_streaming) {
  return ::videogen::testing::RawCall(server.address(), method, bytes, server_streaming, std::chrono::seconds(10));
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

// Polls the server's log until it holds `text` or `timeout` passed.
bool LogsShow(const ServerProcess& server, const std::string& text, absl::Duration timeout) {
  return PollUntil([&] { return server.Logs().find(text) != std::string::npos; }, timeout);
}

// Opens `fifo` for writing: returns once a decode holds at the server's
// --test-decode-gate (it opened the other end), -1 on failure.
int OpenGate(const std::string& fifo) { return open(fifo.c_str(), O_WRONLY | O_CLOEXEC); }

// Lets the decode held at `gate` (from OpenGate) go on.
void ReleaseGate(int gate) {
  EXPECT_EQ(write(gate, "x", 1), 1);
  close(gate);
}

TEST(ServerHardeningTest, ImagesAreDecodedOffTheRpcThreadsInABoundedPool) {
  StateDir files;
  ASSERT_FALSE(files.path().empty());
  const std::string fifo = files.path() + "/decode-gate";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  auto server = ServerProcess::Start({"--model", "fake-i2v", "--test-decode-gate", fifo, "--decode-threads", "1",
                                      "--decode-queue", "1"});
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = Connect(**server);
  v1::GenerateVideoRequest request = FakeRequest(1);
  request.set_model("fake-i2v");
  request.set_image(ExampleImage());
  ASSERT_FALSE(request.image().empty());
  request.set_cancel_job_with_call(true);

  // The first request's decode is held on the pool's thread once OpenGate returns.
  grpc::ClientContext held_ctx;
  auto held = stub->GenerateVideo(&held_ctx, request);
  const int gate = OpenGate(fifo);
  ASSERT_GE(gate, 0);
  // Meanwhile the RPC threads answer cheap calls...
  {
    grpc::ClientContext ctx;
    v1::ListModelsResponse models;
    const grpc::Status s = stub->ListModels(&ctx, v1::ListModelsRequest(), &models);
    EXPECT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(models.models_size(), 1);
  }
  {
    auto health = grpc::health::v1::Health::NewStub(
        grpc::CreateChannel((*server)->address(), grpc::InsecureChannelCredentials()));
    grpc::ClientContext ctx;
    grpc::health::v1::HealthCheckResponse response;
    EXPECT_TRUE(health->Check(&ctx, grpc::health::v1::HealthCheckRequest(), &response).ok());
  }
  // ...and the pool (one task admitted) refuses a second image at once.
  JobStream refused = Generate(*stub, request);
  EXPECT_EQ(refused.status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << refused.status.error_message();
  EXPECT_THAT(refused.status.error_message(), HasSubstr("image decoding"));

  // Cancelled while its image is decoded: once the server saw the cancel, the
  // decode goes on, its result is dropped and no job is made.
  held_ctx.TryCancel();
  ASSERT_TRUE(LogsShow(**server, "event=rpc_cancelled", absl::Seconds(30)));
  ReleaseGate(gate);
  EXPECT_EQ(ReadAll(held.get()).status.error_code(), grpc::StatusCode::CANCELLED);
  ASSERT_TRUE(LogsShow(**server, "event=decode_dropped", absl::Seconds(30)));
  {
    grpc::ClientContext ctx;
    v1::ListJobsResponse jobs;
    ASSERT_TRUE(stub->ListJobs(&ctx, v1::ListJobsRequest(), &jobs).ok());
    EXPECT_EQ(jobs.jobs_size(), 0);
  }
  // The pool is free again: the same request is decoded and runs.
  std::thread release([&] {
    const int next = OpenGate(fifo);
    if (next >= 0) ReleaseGate(next);
  });
  JobStream done = Generate(*stub, request);
  release.join();
  EXPECT_TRUE(done.status.ok()) << done.status.error_message();
  EXPECT_NE(done.completed(), nullptr);
  EXPECT_EQ((*server)->SignalAndWait(SIGTERM), 0);
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
    ASSERT_TRUE(LogsShow(**server, "event=drain_started", absl::Seconds(5)));
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

// A figure of /proc/PID/status in bytes ("VmRSS", "VmHWM"), or -1.
int64_t ProcStatusBytes(pid_t pid, const std::string& key) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key + ":", 0) != 0) continue;
    int64_t kib = -1;
    std::istringstream(line.substr(key.size() + 1)) >> kib;
    return kib < 0 ? -1 : kib * 1024;
  }
  return -1;
}

// A 4096x4096 solid PNG (~58 KB encoded, 48 MiB decoded), made with ffmpeg; "" on failure.
std::string LargeSolidPng(const StateDir& dir) {
  const std::string path = dir.path() + "/large.png";
  const std::string cmd =
      "ffmpeg -v error -f lavfi -i color=c=red:s=4096x4096 -frames:v 1 -y " + path + " </dev/null";
  if (std::system(cmd.c_str()) != 0) return "";
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(ServerHardeningTest, FinishedJobsKeepNoDecodedInputImage) {
  StateDir files;
  ASSERT_FALSE(files.path().empty());
  const std::string png = LargeSolidPng(files);
  ASSERT_FALSE(png.empty());
  auto server = ServerProcess::Start({"--model", "fake-i2v"});
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = Connect(**server);
  v1::GenerateVideoRequest request = FakeRequest(1);
  request.set_model("fake-i2v");
  request.set_image(png);
  // One job first: the allocator and the decoder reach their steady state.
  JobStream first = Generate(*stub, request);
  ASSERT_TRUE(first.status.ok()) << first.status.error_message();
  const int64_t before = ProcStatusBytes((*server)->pid(), "VmRSS");
  ASSERT_GT(before, 0);
  // Six more finished jobs, each with a 48 MiB decoded image: retained with
  // their images they would add ~288 MiB.
  constexpr int kJobs = 6;
  constexpr int64_t kDecoded = int64_t{4096} * 4096 * 3;
  for (int i = 0; i < kJobs; ++i) {
    JobStream done = Generate(*stub, request);
    ASSERT_TRUE(done.status.ok()) << done.status.error_message();
  }
  const int64_t after = ProcStatusBytes((*server)->pid(), "VmRSS");
  std::printf("RSS %lld -> %lld MiB after %d retained jobs with a 4096x4096 image\n",
              static_cast<long long>(before >> 20), static_cast<long long>(after >> 20), kJobs);
  EXPECT_LT(after - before, 2 * kDecoded) << "RSS grew by " << ((after - before) >> 20) << " MiB";
  EXPECT_EQ((*server)->SignalAndWait(SIGTERM), 0);
}

// Sends GenerateVideo with a `bytes`-byte image and no token from each of
// `clients` threads (each on its own connection) at once; returns the codes.
std::vector<grpc::StatusCode> UnauthenticatedFlood(
    const ServerProcess& server, int clients, size_t bytes,
    std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials()) {
  v1::GenerateVideoRequest request = FakeRequest(1);
  request.set_image(std::string(bytes, 'x'));
  std::vector<grpc::StatusCode> codes(clients, grpc::StatusCode::OK);
  std::vector<std::thread> threads;
  for (int i = 0; i < clients; ++i) {
    threads.emplace_back([&, i] {
      grpc::ChannelArguments args;
      args.SetMaxSendMessageSize(-1);
      args.SetInt("videogen.client", i);  // a connection of its own
      auto stub = v1::VideoGeneration::NewStub(
          grpc::CreateCustomChannel(server.address(), credentials, args));
      grpc::ClientContext ctx;
      ctx.set_deadline(In(std::chrono::seconds(60)));
      codes[i] = Generate(*stub, request, &ctx).status.error_code();
    });
  }
  for (auto& t : threads) t.join();
  return codes;
}

TEST(ServerHardeningTest, UnauthenticatedLargeRequestsHoldBoundedMemory) {
  StateDir files;
  ASSERT_FALSE(files.path().empty());
  const std::string token = files.path() + "/token";
  std::ofstream(token) << "s3cret-token\n";
  auto server = ServerProcess::Start({"--model", "fake", "--auth-token-file", token});
  ASSERT_TRUE(server.ok()) << server.status();
  constexpr int kClients = 8;
  constexpr size_t kRequest = 38u << 20;  // under --max-request-bytes (40 MiB)
  const int64_t before = ProcStatusBytes((*server)->pid(), "VmHWM");
  ASSERT_GT(before, 0);
  // Refused for the token, or by gRPC's memory quota before that.
  for (grpc::StatusCode code : UnauthenticatedFlood(**server, kClients, kRequest)) {
    EXPECT_TRUE(code == grpc::StatusCode::UNAUTHENTICATED || code == grpc::StatusCode::RESOURCE_EXHAUSTED) << code;
  }
  const int64_t after = ProcStatusBytes((*server)->pid(), "VmHWM");
  std::printf("VmHWM %lld -> %lld MiB for %d unauthenticated %zu MiB requests\n",
              static_cast<long long>(before >> 20), static_cast<long long>(after >> 20), kClients, kRequest >> 20);
  // The bound: gRPC's memory quota (4 x --max-request-bytes = 160 MiB) plus
  // two requests' worth of slack. Received whole and parsed before the token
  // was checked, eight took 305-361 MiB (measured); the bytes alone are 304.
  EXPECT_LT(after - before, int64_t{240} << 20) << "peak grew by " << ((after - before) >> 20) << " MiB";
  // The server still serves a client with the token.
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", "Bearer s3cret-token");
  JobStream ok = Generate(*Connect(**server), FakeRequest(1), &ctx);
  EXPECT_TRUE(ok.status.ok()) << ok.status.error_message();
  EXPECT_EQ((*server)->SignalAndWait(SIGTERM), 0);
}

// With TLS the token is checked from the call's headers (an
// AuthMetadataProcessor), before the message is read: eight unauthenticated
// 38 MiB requests are refused without the server buffering their bodies.
TEST(ServerHardeningTest, WithTlsUnauthenticatedRequestsAreRefusedBeforeTheirBody) {
  StateDir files;
  ASSERT_FALSE(files.path().empty());
  Certificates certs;
  ASSERT_TRUE(certs.ok());
  const std::string token = files.path() + "/token";
  std::ofstream(token) << "s3cret-token\n";
  auto server = ServerProcess::Start({"--model", "fake", "--auth-token-file", token, "--tls-cert",
                                      certs.path("server.pem"), "--tls-key", certs.path("server.key")});
  ASSERT_TRUE(server.ok()) << server.status();
  grpc::SslCredentialsOptions trusting;
  trusting.pem_root_certs = certs.read("ca.pem");
  constexpr int kClients = 8;
  constexpr size_t kRequest = 38u << 20;
  const int64_t before = ProcStatusBytes((*server)->pid(), "VmHWM");
  ASSERT_GT(before, 0);
  for (grpc::StatusCode code : UnauthenticatedFlood(**server, kClients, kRequest, grpc::SslCredentials(trusting))) {
    EXPECT_EQ(code, grpc::StatusCode::UNAUTHENTICATED);
  }
  const int64_t after = ProcStatusBytes((*server)->pid(), "VmHWM");
  std::printf("TLS: VmHWM %lld -> %lld MiB for %d unauthenticated %zu MiB requests\n",
              static_cast<long long>(before >> 20), static_cast<long long>(after >> 20), kClients, kRequest >> 20);
  // Less than one request's bytes in all (HTTP/2 flow control windows, TLS
  // records); received whole, eight would be 304 MiB.
  EXPECT_LT(after - before, int64_t{32} << 20) << "peak grew by " << ((after - before) >> 20) << " MiB";
  // Health needs no token; a client with the token is served.
  auto health =
      grpc::health::v1::Health::NewStub(grpc::CreateChannel((*server)->address(), grpc::SslCredentials(trusting)));
  grpc::ClientContext health_ctx;
  grpc::health::v1::HealthCheckRequest health_request;
  grpc::health::v1::HealthCheckResponse health_response;
  EXPECT_TRUE(health->Check(&health_ctx, health_request, &health_response).ok());
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", "Bearer s3cret-token");
  auto stub = v1::VideoGeneration::NewStub(grpc::CreateChannel((*server)->address(), grpc::SslCredentials(trusting)));
  JobStream ok = Generate(*stub, FakeRequest(1), &ctx);
  EXPECT_TRUE(ok.status.ok()) << ok.status.error_message();
  EXPECT_EQ((*server)->SignalAndWait(SIGTERM), 0);
}

// A loopback TCP connection to `port`, with a 10 s receive timeout; -1 on failure.
int ConnectTcp(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  timeval timeout{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

bool SendAll(int fd, const std::string& bytes) {
  return write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size());
}

TEST(ServerHardeningTest, HalfSentMetricsRequestsDoNotBlockScrapes) {
  auto server = ServerProcess::Start({"--model", "fake"});
  ASSERT_TRUE(server.ok()) << server.status();
  // Four clients that send part of a request and then nothing.
  std::vector<int> held;
  for (int i = 0; i < 4; ++i) {
    const int fd = ConnectTcp((*server)->metrics_port());
    ASSERT_GE(fd, 0);
    ASSERT_TRUE(SendAll(fd, "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n"));
    held.push_back(fd);
  }
  // A whole scrape is still answered (the receive timeout fails it otherwise).
  const int fd = ConnectTcp((*server)->metrics_port());
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(SendAll(fd, "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n"));
  std::string response;
  char chunk[4096];
  ssize_t n;
  while ((n = read(fd, chunk, sizeof(chunk))) > 0) response.append(chunk, static_cast<size_t>(n));
  const int read_errno = n < 0 ? errno : 0;
  close(fd);
  EXPECT_EQ(read_errno, 0) << "no answer while " << held.size() << " requests were half-sent";
  EXPECT_THAT(response, HasSubstr("200 OK"));
  EXPECT_THAT(response, HasSubstr("videogen_"));
  for (int h : held) close(h);
  EXPECT_EQ((*server)->SignalAndWait(SIGTERM), 0);
}

}  // namespace
}  // namespace videogen::testing
