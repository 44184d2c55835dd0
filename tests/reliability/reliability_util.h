// Helpers of the reliability suite (tests/reliability), on top of the server
// test support (tests/server/exe/test_util.h: ServerProcess, Connect,
// FakeRequest, StateDir, Generate/Watch).
#pragma once

#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/client_unary_call.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "tests/server/exe/test_util.h"

namespace videogen::testing {

// A stub on a channel of its own (its own TCP connection: gRPC shares a
// connection between channels only when their arguments are equal).
inline std::unique_ptr<v1::VideoGeneration::Stub> ConnectOwn(const std::string& address, int channel_tag) {
  grpc::ChannelArguments args;
  args.SetInt("videogen.test.channel", channel_tag);
  return v1::VideoGeneration::NewStub(
      grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args));
}

// A GenerateVideo or WatchJob call left open after reading up to an event.
struct OpenCall {
  grpc::ClientContext context;
  std::unique_ptr<grpc::ClientReader<v1::JobEvent>> reader;
  std::vector<v1::JobEvent> seen;
  std::string job_id;

  // Cancels the call on the client side and collects its status.
  grpc::Status Abandon() {
    context.TryCancel();
    return reader->Finish();
  }
};

// Starts GenerateVideo and reads until `stop(event)` (or the end).
template <typename Pred>
std::unique_ptr<OpenCall> StartGenerate(v1::VideoGeneration::Stub& stub, const v1::GenerateVideoRequest& request,
                                        Pred stop) {
  auto call = std::make_unique<OpenCall>();
  call->context.set_deadline(In(std::chrono::seconds(120)));
  call->reader = stub.GenerateVideo(&call->context, request);
  call->seen = ReadUntil(call->reader.get(), stop);
  if (!call->seen.empty()) call->job_id = call->seen.front().job_id();
  return call;
}

// Starts WatchJob and reads until `stop(event)` (or the end).
template <typename Pred>
std::unique_ptr<OpenCall> StartWatch(v1::VideoGeneration::Stub& stub, const std::string& job_id, Pred stop) {
  auto call = std::make_unique<OpenCall>();
  call->context.set_deadline(In(std::chrono::seconds(120)));
  v1::WatchJobRequest request;
  request.set_job_id(job_id);
  call->reader = stub.WatchJob(&call->context, request);
  call->seen = ReadUntil(call->reader.get(), stop);
  call->job_id = job_id;
  return call;
}

inline bool IsDenoising(const v1::JobEvent& e) {
  return e.has_progress() && e.progress().stage() == v1::DENOISING;
}

// A field of /proc/PID/status in bytes ("VmRSS", "VmHWM"); -1 when unreadable.
inline int64_t ProcStatusBytes(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.compare(0, field.size() + 1, field + ":") != 0) continue;
    std::vector<absl::string_view> parts = absl::StrSplit(line, ' ', absl::SkipEmpty());
    int64_t kb = 0;
    if (parts.size() >= 2 && absl::SimpleAtoi(parts[1], &kb)) return kb * 1024;
  }
  return -1;
}

}  // namespace videogen::testing
