// JobRunner against an in-process fake VideoGeneration service whose streams
// the test scripts exactly (cut a stream after a chunk, refuse re-attaches,
// wait for CancelJob), so that re-attach offsets, bounded retries and
// cancellation are checked deterministically.
#include "client/job_runner.h"

#include <unistd.h>

#include <fstream>
#include <functional>
#include <sstream>
#include <thread>
#include <vector>

#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "videogen/v1/videogen.grpc.pb.h"

namespace videogen::client {
namespace {

using GenerateFn = std::function<grpc::Status(const v1::GenerateVideoRequest&, grpc::ServerWriter<v1::JobEvent>*)>;
using WatchFn = std::function<grpc::Status(const v1::WatchJobRequest&, grpc::ServerWriter<v1::JobEvent>*)>;
using CancelFn = std::function<grpc::Status(const v1::CancelJobRequest&)>;

class FakeService final : public v1::VideoGeneration::Service {
 public:
  GenerateFn generate;
  WatchFn watch;
  CancelFn cancel = [](const v1::CancelJobRequest&) { return grpc::Status::OK; };

  grpc::Status GenerateVideo(grpc::ServerContext*, const v1::GenerateVideoRequest* request,
                             grpc::ServerWriter<v1::JobEvent>* writer) override {
    return generate(*request, writer);
  }
  grpc::Status WatchJob(grpc::ServerContext*, const v1::WatchJobRequest* request,
                        grpc::ServerWriter<v1::JobEvent>* writer) override {
    {
      absl::MutexLock lock(&mu);
      watch_offsets.push_back(request->from_offset());
    }
    return watch(*request, writer);
  }
  grpc::Status CancelJob(grpc::ServerContext*, const v1::CancelJobRequest* request, v1::Job* job) override {
    {
      absl::MutexLock lock(&mu);
      cancelled_ids.push_back(request->job_id());
    }
    job->set_job_id(request->job_id());
    return cancel(*request);
  }

  absl::Mutex mu;
  std::vector<uint64_t> watch_offsets ABSL_GUARDED_BY(mu);
  std::vector<std::string> cancelled_ids ABSL_GUARDED_BY(mu);
};

v1::JobEvent AcceptedEvent(const std::string& id) {
  v1::JobEvent e;
  e.set_job_id(id);
  e.mutable_accepted()->set_job_id(id);
  return e;
}

v1::JobEvent ChunkEvent(uint64_t offset, const std::string& data) {
  v1::JobEvent e;
  e.set_job_id("j1");
  e.mutable_video_chunk()->set_offset(offset);
  e.mutable_video_chunk()->set_data(data);
  return e;
}

v1::JobEvent CompletedEvent(const std::string& video) {
  v1::JobEvent e;
  e.set_job_id("j1");
  e.mutable_completed()->set_bytes(video.size());
  e.mutable_completed()->set_sha256(Sha256Hex(video));
  e.mutable_completed()->set_seed(7);
  return e;
}

v1::JobEvent FailedEvent(grpc::StatusCode code, const std::string& message) {
  v1::JobEvent e;
  e.set_job_id("j1");
  e.mutable_failed()->set_code(code);
  e.mutable_failed()->set_message(message);
  return e;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class JobRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ConnectionOptions options;
    options.server = absl::StrCat("127.0.0.1:", port);
    auto connection = Connection::Create(options);
    ASSERT_TRUE(connection.ok()) << connection.status();
    connection_ = std::move(connection).value();
    output_ = ::testing::TempDir() + "/job_runner_test_" + std::to_string(getpid()) + ".mp4";
    unlink(output_.c_str());
    VideoAssemblerOptions assembler_options;
    assembler_options.output_path = output_;
    auto assembler = VideoAssembler::Create(assembler_options);
    ASSERT_TRUE(assembler.ok()) << assembler.status();
    assembler_ = std::move(assembler).value();
    printer_ = std::make_unique<ProgressPrinter>(ProgressMode::kJson, &progress_, &events_);
    options_.max_reattach_attempts = 3;
    options_.initial_backoff = absl::Milliseconds(1);
    options_.max_backoff = absl::Milliseconds(4);
  }
  void TearDown() override {
    release_.Notify();
    if (server_) server_->Shutdown(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    unlink(output_.c_str());
  }

  JobOutcome Generate() {
    JobRunner runner(connection_.get(), printer_.get(), assembler_.get(), options_);
    v1::GenerateVideoRequest request;
    request.set_prompt("p");
    return runner.Generate(request);
  }

  std::vector<uint64_t> WatchOffsets() {
    absl::MutexLock lock(&service_.mu);
    return service_.watch_offsets;
  }

  FakeService service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<Connection> connection_;
  std::string output_;
  std::unique_ptr<VideoAssembler> assembler_;
  std::ostringstream progress_, events_;
  std::unique_ptr<ProgressPrinter> printer_;
  JobRunnerOptions options_;
  absl::Notification release_;  // lets blocked handlers return at teardown
};

TEST_F(JobRunnerTest, ReattachesFromTheLastReceivedOffset) {
  const std::string video = "0123456789abcdef";
  service_.generate = [&](const v1::GenerateVideoRequest&, grpc::ServerWriter<v1::JobEvent>* w) {
    w->Write(AcceptedEvent("j1"));
    w->Write(ChunkEvent(0, video.substr(0, 6)));
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, "stream cut");
  };
  int watch_calls = 0;
  service_.watch = [&](const v1::WatchJobRequest& r, grpc::ServerWriter<v1::JobEvent>* w) {
    EXPECT_EQ(r.job_id(), "j1");
    if (++watch_calls == 1) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "still down");
    // Resend from a little earlier than asked: the client must skip the overlap.
    w->Write(ChunkEvent(4, video.substr(4, 6)));
    w->Write(ChunkEvent(10, video.substr(10)));
    w->Write(CompletedEvent(video));
    return grpc::Status::OK;
  };
  const JobOutcome outcome = Generate();
  EXPECT_EQ(outcome.exit_code, ExitCode::kOk) << outcome.error;
  EXPECT_EQ(outcome.job_id, "j1");
  EXPECT_EQ(outcome.reattach_attempts, 2);
  EXPECT_EQ(WatchOffsets(), (std::vector<uint64_t>{6, 6}));
  EXPECT_EQ(ReadAll(output_), video);
  EXPECT_NE(events_.str().find("\"type\":\"reattach\""), std::string::npos) << events_.str();
}

TEST_F(JobRunnerTest, GivesUpAfterBoundedAttempts) {
  service_.generate = [&](const v1::GenerateVideoRequest&, grpc::ServerWriter<v1::JobEvent>* w) {
    w->Write(AcceptedEvent("j1"));
    w->Write(ChunkEvent(0, "abc"));
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, "cut");
  };
  service_.watch = [&](const v1::WatchJobRequest&, grpc::ServerWriter<v1::JobEvent>*) {
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, "down");
  };
  const std::string temp = assembler_->temp_path();
  const JobOutcome outcome = Generate();
  EXPECT_EQ(outcome.exit_code, ExitCode::kUnavailable);
  EXPECT_NE(outcome.error.find("after 3 attempts"), std::string::npos) << outcome.error;
  EXPECT_EQ(WatchOffsets(), (std::vector<uint64_t>{3, 3, 3}));
  EXPECT_NE(access(temp.c_str(), F_OK), 0) << "temporary file removed";
  EXPECT_NE(access(output_.c_str(), F_OK), 0);
}

TEST_F(JobRunnerTest, AnEventResetsTheAttemptCounter) {
  // Each re-attach delivers one more byte and breaks again: 5 re-attaches in
  // all with max 3 in a row must still succeed.
  const std::string video = "abcdef";
  service_.generate = [&](const v1::GenerateVideoRequest&, grpc::ServerWriter<v1::JobEvent>* w) {
    w->Write(AcceptedEvent("j1"));
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, "cut");
  };
  service_.watch = [&](const v1::WatchJobRequest& r, grpc::ServerWriter<v1::JobEvent>* w) {
    const uint64_t at = r.from_offset();
    if (at + 1 < video.size()) {
      w->Write(ChunkEvent(at, video.substr(at, 1)));
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, "cut again");
    }
    w->Write(ChunkEvent(at, video.substr(at)));
    w->Write(CompletedEvent(video));
    return grpc::Status::OK;
  };
  const JobOutcome outcome = Generate();
  EXPECT_EQ(outcome.exit_code, ExitCode::kOk) << outcome.error;
  EXPECT_EQ(WatchOffsets(), (std::vector<uint64_t>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(ReadAll(output_), video);
}

TEST_F(JobRunnerTest, NoRetryBeforeTheJobIsAccepted) {
  service_.generate = [&](const v1::GenerateVideoRequest&, grpc::ServerWriter<v1::JobEvent>*) {
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, "draining");
  };
  service_.watch = [&](const v1::WatchJobRequest&, grpc::ServerWriter<v1::JobEvent>*) {
    ADD_FAILURE() << "no WatchJob without a job id";
    return grpc::Status::OK;
  };
  const JobOutcome outcome = Generate();
  EXPECT_EQ(outcome.exit_code, ExitCode::kUnavailable);
  EXPECT_EQ(outcome.job_id, "");
}

TEST_F(JobRunnerTest, InvalidArgumentIsShownAsIs) {
  service_.generate = [&](const v1::GenerateVideoRequest&, grpc::ServerWriter<v1::JobEvent>*) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "num_frames: 10 is not 4n+1");
  };
  const JobOutcome outcome = Generate();
  EXPECT_EQ(outcome.exit_code, ExitCode::kUsage);
  EXPECT_EQ(outcome.error, "INVALID_ARGUMENT: num_frames: 10 is not 4n+1");
}

TEST_F(JobRunnerTest, FailedEventIsAJobFailure) {
  service_.generate = [&](const v1::GenerateVideoRequest&, grpc::ServerWriter<v1::JobEvent>* w) {
    w->Write(AcceptedEvent("j1"));
    w->Write(FailedEvent(grpc::StatusCode::RESOURCE_EXHAUSTED, "out of memory on cuda:0"));
    return grpc::Status::OK;
  };
  const JobOutcome outcome = Generate();
  EXPECT_EQ(outcome.exit_code, ExitCode::kJobFailed);
  EXPECT_EQ(outcome.error, "RESOURCE_EXHAUSTED: out of memory on cuda:0");
  EXPECT_NE(access(output_.c_str(), F_OK), 0);
}

TEST_F(JobRunnerTest, ChecksumMismatchKeepsNoFile) {
  service_.generate = [&](const v1::GenerateVideoRequest&, grpc::ServerWriter<v1::JobEvent>* w) {
    w->Write(AcceptedEvent("j1"));
    w->Write(ChunkEvent(0, "abc"));
    w->Write(CompletedEvent("abd"));
    return grpc::Status::OK;
  };
  const JobOutcome outcome = Generate();
  EXPECT_EQ(outcome.exit_code, ExitCode::kError);
  EXPECT_EQ(outcome.error.substr(0, 7), "sha256:") << outcome.error;
  EXPECT_NE(access(output_.c_str(), F_OK), 0);
}

TEST_F(JobRunnerTest, GapInChunksIsAnError) {
  service_.generate = [&](const v1::GenerateVideoRequest&, grpc::ServerWriter<v1::JobEvent>* w) {
    w->Write(AcceptedEvent("j1"));
    w->Write(ChunkEvent(5, "abc"));
    return grpc::Status::OK;
  };
  const JobOutcome outcome = Generate();
  EXPECT_EQ(outcome.exit_code, ExitCode::kError);
  EXPECT_NE(outcome.error.find("gap"), std::string::npos) << outcome.error;
}

TEST_F(JobRunnerTest, CancelSendsCancelJobAndEndsCancelled) {
  absl::Notification cancel_received, accepted_written;
  service_.cancel = [&](const v1::CancelJobRequest&) {
    cancel_received.Notify();
    return grpc::Status::OK;
  };
  service_.generate = [&](const v1::GenerateVideoRequest&, grpc::ServerWriter<v1::JobEvent>* w) {
    w->Write(AcceptedEvent("j1"));
    accepted_written.Notify();
    cancel_received.WaitForNotification();
    w->Write(FailedEvent(grpc::StatusCode::CANCELLED, "cancelled during denoising"));
    return grpc::Status::OK;
  };
  JobRunner runner(connection_.get(), printer_.get(), assembler_.get(), options_);
  JobOutcome outcome;
  std::thread run([&] {
    v1::GenerateVideoRequest request;
    request.set_prompt("p");
    outcome = runner.Generate(request);
  });
  accepted_written.WaitForNotification();
  EXPECT_TRUE(runner.RequestCancel());
  EXPECT_FALSE(runner.RequestCancel()) << "a second request reports that cancelling already started";
  run.join();
  EXPECT_EQ(outcome.exit_code, ExitCode::kCancelled) << outcome.error;
  {
    absl::MutexLock lock(&service_.mu);
    EXPECT_EQ(service_.cancelled_ids, (std::vector<std::string>{"j1"}));
  }
  EXPECT_NE(events_.str().find("\"type\":\"cancel_requested\""), std::string::npos);
}

TEST_F(JobRunnerTest, CancelBeforeAcceptedIsSentOnceTheIdIsKnown) {
  absl::Notification cancel_received;
  service_.cancel = [&](const v1::CancelJobRequest&) {
    cancel_received.Notify();
    return grpc::Status::OK;
  };
  service_.generate = [&](const v1::GenerateVideoRequest&, grpc::ServerWriter<v1::JobEvent>* w) {
    w->Write(AcceptedEvent("j1"));
    cancel_received.WaitForNotification();
    w->Write(FailedEvent(grpc::StatusCode::CANCELLED, "cancelled while queued"));
    return grpc::Status::OK;
  };
  JobRunner runner(connection_.get(), printer_.get(), assembler_.get(), options_);
  EXPECT_TRUE(runner.RequestCancel());
  v1::GenerateVideoRequest request;
  request.set_prompt("p");
  const JobOutcome outcome = runner.Generate(request);
  EXPECT_EQ(outcome.exit_code, ExitCode::kCancelled) << outcome.error;
}

TEST_F(JobRunnerTest, CancelThatCannotReachTheServerAbandonsTheCall) {
  absl::Notification accepted_written;
  service_.cancel = [&](const v1::CancelJobRequest&) {
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, "cannot cancel now");
  };
  service_.generate = [&](const v1::GenerateVideoRequest&, grpc::ServerWriter<v1::JobEvent>* w) {
    w->Write(AcceptedEvent("j1"));
    accepted_written.Notify();
    release_.WaitForNotification();
    return grpc::Status::OK;
  };
  JobRunner runner(connection_.get(), printer_.get(), assembler_.get(), options_);
  JobOutcome outcome;
  std::thread run([&] {
    v1::GenerateVideoRequest request;
    request.set_prompt("p");
    outcome = runner.Generate(request);
  });
  accepted_written.WaitForNotification();
  EXPECT_TRUE(runner.RequestCancel());
  run.join();
  EXPECT_EQ(outcome.exit_code, ExitCode::kCancelled);
  EXPECT_NE(outcome.error.find("may still be running"), std::string::npos) << outcome.error;
  EXPECT_NE(outcome.error.find("cannot cancel now"), std::string::npos) << outcome.error;
}

TEST_F(JobRunnerTest, WatchFollowsAnExistingJobFromTheStart) {
  service_.watch = [&](const v1::WatchJobRequest& r, grpc::ServerWriter<v1::JobEvent>* w) {
    EXPECT_EQ(r.job_id(), "j9");
    w->Write(ChunkEvent(0, "xyz"));
    w->Write(CompletedEvent("xyz"));
    return grpc::Status::OK;
  };
  JobRunner runner(connection_.get(), printer_.get(), assembler_.get(), options_);
  const JobOutcome outcome = runner.Watch("j9");
  EXPECT_EQ(outcome.exit_code, ExitCode::kOk) << outcome.error;
  EXPECT_EQ(outcome.job_id, "j9");
  EXPECT_EQ(WatchOffsets(), (std::vector<uint64_t>{0}));
  EXPECT_EQ(ReadAll(output_), "xyz");
}

TEST_F(JobRunnerTest, WatchOfAnUnreachableJobIsNotRetried) {
  service_.watch = [&](const v1::WatchJobRequest&, grpc::ServerWriter<v1::JobEvent>*) {
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, "draining");
  };
  JobRunner runner(connection_.get(), printer_.get(), assembler_.get(), options_);
  const JobOutcome outcome = runner.Watch("j1");
  EXPECT_EQ(outcome.exit_code, ExitCode::kUnavailable);
  EXPECT_EQ(outcome.reattach_attempts, 0);
  EXPECT_EQ(WatchOffsets(), (std::vector<uint64_t>{0}));
}

TEST_F(JobRunnerTest, WatchOfAnUnknownJobIsAUsageError) {
  service_.watch = [&](const v1::WatchJobRequest&, grpc::ServerWriter<v1::JobEvent>*) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND, "job_id: no job \"nope\"");
  };
  JobRunner runner(connection_.get(), printer_.get(), assembler_.get(), options_);
  const JobOutcome outcome = runner.Watch("nope");
  EXPECT_EQ(outcome.exit_code, ExitCode::kUsage);
  EXPECT_NE(outcome.error.find("job_id"), std::string::npos);
}

}  // namespace
}  // namespace videogen::client
