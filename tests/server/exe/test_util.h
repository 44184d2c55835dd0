// Helpers shared by the videogen-server binary tests.
#pragma once

#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/client_unary_call.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "tests/server/support/job_stream.h"
#include "tests/server/support/server_process.h"
#include "videogen/v1/videogen.grpc.pb.h"

namespace videogen::testing {

inline std::unique_ptr<v1::VideoGeneration::Stub> Connect(const ServerProcess& server) {
  return v1::VideoGeneration::NewStub(grpc::CreateChannel(server.address(), grpc::InsecureChannelCredentials()));
}

inline v1::GenerateVideoRequest FakeRequest(uint32_t steps = 3) {
  v1::GenerateVideoRequest r;
  r.set_model("fake");
  r.set_prompt("a cat on a skateboard");
  r.set_steps(steps);
  return r;
}

// A temporary state directory, removed at the end of the test.
class StateDir {
 public:
  StateDir() {
    char dir[] = "/tmp/videogen_state_XXXXXX";
    if (mkdtemp(dir) != nullptr) path_ = dir;
  }
  ~StateDir() {
    std::error_code ignored;
    if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline std::chrono::system_clock::time_point In(std::chrono::milliseconds d) {
  return std::chrono::system_clock::now() + d;
}

// The job `job_id` as GetJob returns it (30 s deadline); a failed call is a
// test failure (and an empty Job).
inline v1::Job GetJob(v1::VideoGeneration::Stub& stub, const std::string& job_id) {
  grpc::ClientContext ctx;
  ctx.set_deadline(In(std::chrono::seconds(30)));
  v1::GetJobRequest request;
  request.set_job_id(job_id);
  v1::Job job;
  const grpc::Status s = stub.GetJob(&ctx, request, &job);
  EXPECT_TRUE(s.ok()) << s.error_message();
  return job;
}

// Sends `bytes` as the whole request message of `method` (raw bytes, as a
// client with another protobuf library, or none, could), reads a server
// stream to its end, and returns the call's status.
inline grpc::Status RawCall(const std::string& address, const std::string& method, const std::string& bytes,
                            bool server_streaming, std::chrono::milliseconds deadline = std::chrono::seconds(30)) {
  auto channel = grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  grpc::Slice slice(bytes);
  grpc::ByteBuffer request(&slice, 1);
  grpc::ClientContext ctx;
  ctx.set_deadline(In(deadline));
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

// The value of one sample line of a /metrics page ("name{labels} value"), or -1.
inline double MetricValue(const std::string& page, const std::string& sample) {
  for (absl::string_view line : absl::StrSplit(page, '\n')) {
    if (line.size() > sample.size() && line.substr(0, sample.size()) == sample && line[sample.size()] == ' ') {
      double v = -1;
      if (absl::SimpleAtod(line.substr(sample.size() + 1), &v)) return v;
    }
  }
  return -1;
}

// The bytes of scripts/assets/example.png (tests run from the source root); "" when unreadable.
inline std::string ExampleImage() {
  std::ifstream in("scripts/assets/example.png", std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// ffprobe's view of a video file: codec_name, width, height, nb_read_frames, r_frame_rate.
inline std::map<std::string, std::string> Probe(const std::string& bytes) {
  char path[] = "/tmp/videogen_probe_XXXXXX";
  const int fd = mkstemp(path);
  std::map<std::string, std::string> out;
  if (fd < 0) return out;
  FILE* f = fdopen(fd, "wb");
  fwrite(bytes.data(), 1, bytes.size(), f);
  fclose(f);
  const std::string cmd = std::string(
                              "ffprobe -v error -count_frames -select_streams v:0 -show_entries "
                              "stream=codec_name,width,height,nb_read_frames,r_frame_rate -of default=nw=1 ") +
                          path;
  FILE* p = popen(cmd.c_str(), "r");
  char line[256];
  while (p != nullptr && fgets(line, sizeof(line), p) != nullptr) {
    std::string s(line);
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
    const size_t eq = s.find('=');
    if (eq != std::string::npos) out[s.substr(0, eq)] = s.substr(eq + 1);
  }
  if (p != nullptr) pclose(p);
  unlink(path);
  return out;
}

// The whole file at `path` ("" when it cannot be read).
inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Certificates made with the openssl CLI in a temporary directory.
class Certificates {
 public:
  Certificates() {
    char dir[] = "/tmp/videogen_certs_XXXXXX";
    dir_ = mkdtemp(dir);
    const std::string ec = " -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes ";
    const std::string script =
        "cd " + dir_ + " && exec >/dev/null 2>&1 && " + "openssl req -x509" + ec +
        "-keyout ca.key -out ca.pem -days 1 -subj /CN=videogen-test-ca && " + "openssl req" + ec +
        "-keyout server.key -out server.csr -subj /CN=localhost && " +
        "printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > san.ext && " +
        "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 1 "
        "-extfile san.ext && " +
        "openssl req" + ec + "-keyout client.key -out client.csr -subj /CN=client && " +
        "openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out client.pem -days 1 && " +
        "openssl req -x509" + ec + "-keyout rogue.key -out rogue.pem -days 1 -subj /CN=rogue";
    ok_ = std::system(script.c_str()) == 0;
  }
  ~Certificates() { std::system(("rm -rf " + dir_).c_str()); }
  bool ok() const { return ok_; }
  std::string path(const std::string& name) const { return dir_ + "/" + name; }
  std::string read(const std::string& name) const { return ReadFile(path(name)); }

 private:
  std::string dir_;
  bool ok_ = false;
};

}  // namespace videogen::testing
