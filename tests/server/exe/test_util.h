// Helpers shared by the videogen-server binary tests.
#pragma once

#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <chrono>
#include <cstdio>
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

}  // namespace videogen::testing
