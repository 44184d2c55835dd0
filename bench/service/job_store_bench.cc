// bench_job_store: what the fleet's shared job store (PostgreSQL) costs per
// job against the embedded one (SQLite), side by side in one run.
// In-process VideoGenServers with the FakeVideoGenerator (no model time) and
// a pass-through encoder (a result of --kib KiB), real gRPC over loopback,
// one job at a time:
//   embedded: one server with --state-dir (SQLite, synchronous=FULL);
//   fleet:    two servers on --dsn (PostgreSQL); jobs are submitted to the
//             first and run on whichever replica's idle worker claims them.
// For every job: claim latency (submit -> running, as the server measures
// it: the job's creation to the worker taking it, JobListener::OnJobStarted)
// and the client's submit -> completed time (which, with no model time, is
// the per-job overhead of the serving path and the store).
// Usage: bench_job_store --dsn postgres://... [--jobs N] [--kib K]
// bench/service/job_store_bench.sh starts a PostgreSQL for it.
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "bench/common/bench_start.h"
#include "server/service/server.h"
#include "server/testing/fake_video_generator.h"
#include "videogen/v1/videogen.grpc.pb.h"

namespace {

using Clock = std::chrono::steady_clock;

// Collects the claim latency of every job started on any of the servers.
class ClaimRecorder final : public videogen::jobs::JobListener {
 public:
  void OnJobStarted(const videogen::jobs::Job& job, absl::Duration queued_for) override {
    absl::MutexLock lock(&mu_);
    ms_.push_back(absl::ToDoubleMilliseconds(queued_for));
  }
  std::vector<double> Take() {
    absl::MutexLock lock(&mu_);
    return std::exchange(ms_, {});
  }

 private:
  absl::Mutex mu_;
  std::vector<double> ms_ ABSL_GUARDED_BY(mu_);
};

std::unique_ptr<videogen::service::VideoGenServer> StartServer(const std::string& state_dir, const std::string& dsn,
                                                               const std::string& replica, size_t result_bytes,
                                                               ClaimRecorder* recorder) {
  videogen::service::ServerOptions options;
  options.listen = "127.0.0.1:0";
  options.reflection = false;
  options.jobs.max_queue = 64;
  options.state_dir = state_dir;
  options.job_store = dsn;
  options.replica_id = replica;
  options.encoder = [result_bytes](const videogen::pipeline::GeneratedVideo& video, const videogen::jobs::OutputSpec&,
                                   const videogen::CancelToken&) -> absl::StatusOr<videogen::jobs::JobResult> {
    videogen::jobs::JobResult r;
    r.width = video.width;
    r.height = video.height;
    r.frames = video.frames;
    r.bytes.assign(result_bytes, '\x5a');
    r.sha256 = "0";
    return r;
  };
  std::vector<videogen::jobs::Device> devices;
  devices.push_back({videogen::Device::Cpu(), std::make_unique<videogen::testing::FakeVideoGenerator>(
                                                  videogen::testing::FakeVideoGeneratorOptions{})});
  auto server = videogen::service::VideoGenServer::Create(std::move(options), std::move(devices), recorder);
  if (!server.ok()) {
    std::fprintf(stderr, "bench_job_store: %s\n", server.status().ToString().c_str());
    std::exit(1);
  }
  while (!(*server)->serving()) std::this_thread::yield();
  return *std::move(server);
}

double Percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[static_cast<size_t>(p * static_cast<double>(v.size() - 1))];
}

double Mean(const std::vector<double>& v) {
  double sum = 0;
  for (double x : v) sum += x;
  return sum / static_cast<double>(v.size());
}

void Report(const char* store, const char* what, const std::vector<double>& ms) {
  std::printf("%-9s %-28s n=%zu  mean %7.3f ms  p50 %7.3f ms  p95 %7.3f ms  max %7.3f ms\n", store, what, ms.size(),
              Mean(ms), Percentile(ms, 0.5), Percentile(ms, 0.95), Percentile(ms, 1.0));
}

// Runs `jobs` jobs one at a time through `server`; returns submit -> completed times (ms).
std::vector<double> RunJobs(const videogen::service::VideoGenServer& server, int jobs, const std::string& tag) {
  auto stub = videogen::v1::VideoGeneration::NewStub(
      grpc::CreateChannel("127.0.0.1:" + std::to_string(server.port()), grpc::InsecureChannelCredentials()));
  std::vector<double> ms;
  for (int i = 0; i < jobs; ++i) {
    videogen::v1::GenerateVideoRequest r;
    r.set_model("fake");
    r.set_prompt("bench");
    r.set_steps(1);
    r.set_num_frames(1);
    r.set_width(16);
    r.set_height(16);
    r.set_client_request_id(tag + "-" + std::to_string(i));
    grpc::ClientContext ctx;
    const auto start = Clock::now();
    auto reader = stub->GenerateVideo(&ctx, r);
    videogen::v1::JobEvent e;
    bool completed = false;
    while (reader->Read(&e)) completed = completed || e.has_completed();
    const grpc::Status s = reader->Finish();
    if (!s.ok() || !completed) {
      std::fprintf(stderr, "bench_job_store: job failed: %s\n", s.error_message().c_str());
      std::exit(1);
    }
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
  }
  return ms;
}

}  // namespace

constexpr char kUsage[] =
    "usage: bench_job_store --dsn postgres://... [--jobs N] [--kib K]\n"
    "Claim latency (submit -> running) and submit -> completed per job with no model time, embedded SQLite\n"
    "store vs two servers sharing PostgreSQL (--dsn), N jobs one at a time with K KiB results.\n"
    "Defaults: --jobs 200 --kib 256. bench/service/job_store_bench.sh starts a PostgreSQL for it.\n";

int main(int argc, char** argv) {
  if (videogen::bench::BenchStart(argc, argv, kUsage)) return 0;
  std::string dsn;
  int jobs = 200;
  int kib = 256;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--dsn")) dsn = argv[i + 1];
    if (!std::strcmp(argv[i], "--jobs")) jobs = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--kib")) kib = std::atoi(argv[i + 1]);
  }
  if (dsn.empty() || jobs < 2) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  setenv("GRPC_VERBOSITY", "ERROR", 0);
  const size_t result_bytes = static_cast<size_t>(kib) << 10;
  constexpr int kWarmup = 10;
  ClaimRecorder recorder;
  std::printf("%d jobs one at a time, %d KiB results, no model time (fake generator)\n", jobs, kib);
  {
    char dir[] = "/tmp/videogen_bench_state_XXXXXX";
    if (mkdtemp(dir) == nullptr) return 1;
    {
      auto server = StartServer(dir, "", "", result_bytes, &recorder);
      RunJobs(*server, kWarmup, "warm");
      recorder.Take();
      const std::vector<double> total = RunJobs(*server, jobs, "embedded");
      Report("embedded", "claim (submit -> running)", recorder.Take());
      Report("embedded", "submit -> completed", total);
    }
    std::filesystem::remove_all(dir);
  }
  {
    auto a = StartServer("", dsn, "bench-a", result_bytes, &recorder);
    auto b = StartServer("", dsn, "bench-b", result_bytes, &recorder);
    RunJobs(*a, kWarmup, "warm");
    recorder.Take();
    const std::vector<double> total = RunJobs(*a, jobs, "fleet");
    Report("fleet", "claim (submit -> running)", recorder.Take());
    Report("fleet", "submit -> completed", total);
  }
  return 0;
}
