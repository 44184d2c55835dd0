// bench_service: the serving path without a model. An in-process
// VideoGenServer with the FakeVideoGenerator and a pass-through encoder, a real
// gRPC client over loopback.
//   1. accept -> first-event latency: time from starting GenerateVideo to
//      receiving `accepted` (the job is validated, queued and announced).
//   2. stream throughput: MB/s of a large result (--mib) streamed as 1 MiB
//      video_chunk events, from the first chunk to `completed`.
// Usage: bench_service [--calls N] [--mib M] [--runs R]
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "bench/common/bench_start.h"
#include "server/service/server.h"
#include "server/testing/fake_video_generator.h"
#include "videogen/v1/videogen.grpc.pb.h"

namespace {

using Clock = std::chrono::steady_clock;
using videogen::v1::JobEvent;

std::unique_ptr<videogen::service::VideoGenServer> StartServer(size_t result_bytes) {
  videogen::service::ServerOptions options;
  options.listen = "127.0.0.1:0";
  options.jobs.max_queue = 1024;
  options.jobs.retention.max_bytes = 2 * result_bytes + (64u << 20);
  // Pass-through "encoder": a result of `result_bytes` without encoding work.
  options.encoder = [result_bytes](const videogen::pipeline::GeneratedVideo& video, const videogen::jobs::OutputSpec&,
                                   const videogen::CancelToken&) -> absl::StatusOr<videogen::jobs::JobResult> {
    videogen::jobs::JobResult r;
    r.width = video.width;
    r.height = video.height;
    r.frames = video.frames;
    r.bytes.assign(result_bytes, '\x5a');
    return r;
  };
  videogen::testing::FakeVideoGeneratorOptions fake;
  std::vector<videogen::jobs::Device> devices;
  devices.push_back({videogen::Device::Cpu(), std::make_unique<videogen::testing::FakeVideoGenerator>(fake)});
  auto server = videogen::service::VideoGenServer::Create(std::move(options), std::move(devices), nullptr);
  if (!server.ok()) {
    std::fprintf(stderr, "bench_service: %s\n", server.status().ToString().c_str());
    std::exit(1);
  }
  while (!(*server)->serving()) std::this_thread::yield();
  return *std::move(server);
}

videogen::v1::GenerateVideoRequest Request() {
  videogen::v1::GenerateVideoRequest r;
  r.set_model("fake");
  r.set_prompt("bench");
  r.set_steps(1);
  r.set_num_frames(1);
  r.set_width(16);
  r.set_height(16);
  return r;
}

double Percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[static_cast<size_t>(p * static_cast<double>(v.size() - 1))];
}

}  // namespace

constexpr char kUsage[] =
    "usage: bench_service [--calls N] [--mib M] [--runs R]\n"
    "The serving path without a model (fake generator, real gRPC over loopback): accept -> first-event\n"
    "latency over N calls, and MB/s of an M MiB result streamed as 1 MiB chunks, R runs.\n"
    "Defaults: --calls 200 --mib 256 --runs 3.\n";

int main(int argc, char** argv) {
  if (videogen::bench::BenchStart(argc, argv, kUsage)) return 0;
  int calls = 200;
  int mib = 256;
  int runs = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--calls")) calls = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--mib")) mib = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--runs")) runs = std::atoi(argv[i + 1]);
  }
  setenv("GRPC_VERBOSITY", "ERROR", 0);

  {  // 1. accept -> first event
    auto server = StartServer(1024);
    auto stub = videogen::v1::VideoGeneration::NewStub(
        grpc::CreateChannel("127.0.0.1:" + std::to_string(server->port()), grpc::InsecureChannelCredentials()));
    std::vector<double> ms;
    for (int i = 0; i < calls + 10; ++i) {
      grpc::ClientContext ctx;
      const auto start = Clock::now();
      auto reader = stub->GenerateVideo(&ctx, Request());
      JobEvent e;
      if (!reader->Read(&e) || !e.has_accepted()) {
        std::fprintf(stderr, "bench_service: no accepted event\n");
        return 1;
      }
      const double elapsed = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
      if (i >= 10) ms.push_back(elapsed);  // the first calls warm the channel
      while (reader->Read(&e)) {
      }
      reader->Finish();
    }
    double mean = 0;
    for (double v : ms) mean += v;
    mean /= static_cast<double>(ms.size());
    std::printf("accept->first event over loopback, %d calls: mean %.3f ms, p50 %.3f ms, p95 %.3f ms, max %.3f ms\n",
                calls, mean, Percentile(ms, 0.5), Percentile(ms, 0.95), Percentile(ms, 1.0));
  }
  {  // 2. throughput of a large result
    const size_t bytes = static_cast<size_t>(mib) << 20;
    auto server = StartServer(bytes);
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(-1);
    auto stub = videogen::v1::VideoGeneration::NewStub(grpc::CreateCustomChannel(
        "127.0.0.1:" + std::to_string(server->port()), grpc::InsecureChannelCredentials(), args));
    std::vector<double> mbps;
    for (int run = 0; run < runs; ++run) {
      grpc::ClientContext ctx;
      auto reader = stub->GenerateVideo(&ctx, Request());
      JobEvent e;
      size_t received = 0;
      Clock::time_point first{};
      bool completed = false;
      while (reader->Read(&e)) {
        if (e.has_video_chunk()) {
          if (received == 0) first = Clock::now();
          received += e.video_chunk().data().size();
        }
        if (e.has_completed()) completed = true;
      }
      const auto end = Clock::now();
      if (!reader->Finish().ok() || !completed || received != bytes) {
        std::fprintf(stderr, "bench_service: stream failed (%zu of %zu bytes)\n", received, bytes);
        return 1;
      }
      const double seconds = std::chrono::duration<double>(end - first).count();
      mbps.push_back(static_cast<double>(bytes) / 1e6 / seconds);
      std::printf("stream %d MiB in 1 MiB chunks: %.3f s, %.0f MB/s\n", mib, seconds, mbps.back());
    }
    std::printf("stream throughput over loopback: median %.0f MB/s over %d runs\n", Percentile(mbps, 0.5), runs);
  }
  return 0;
}
