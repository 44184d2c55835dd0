// bench_seed_request MODEL_DIR OUT.mp4 [--steps N]: the seed case's request
// without the server's warm-up: loads MODEL_DIR on the CPU with the server's
// defaults (WanGenerator, default budgets: the planner fits it into this
// machine by itself), prints the plan and admitted limits, then runs the
// smallest i2v request (1 frame, 1/8 of the default size per side, N steps,
// default 1) through the real DiT, T5, CLIP and VAE, writes the video and
// prints load time, request time and peak RSS (VmHWM) against the plan.
// Exits 1 when loading or the request fails, or VmHWM > planned peak + 1 GiB.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>

#include "bench/common/bench_start.h"
#include "engine/common/host_memory.h"
#include "engine/media/video_encoder.h"
#include "engine/pipeline/wan_generator.h"

namespace {

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}
double Gib(uint64_t b) { return static_cast<double>(b) / (1ull << 30); }

}  // namespace

int main(int argc, char** argv) {
  using namespace videogen;
  if (bench::BenchStart(argc, argv, "bench_seed_request MODEL_DIR OUT.mp4 [--steps N]")) return 0;
  if (argc < 3) {
    std::fprintf(stderr, "usage: bench_seed_request MODEL_DIR OUT.mp4 [--steps N]\n");
    return 2;
  }
  const int steps = argc >= 5 && std::string(argv[3]) == "--steps" ? std::stoi(argv[4]) : 1;
  const auto t0 = std::chrono::steady_clock::now();
  pipeline::ModelLoadOptions options;
  options.model_dir = argv[1];
  auto gen = pipeline::WanGenerator::Create(options);
  if (!gen.ok()) {
    std::fprintf(stderr, "load: %s\n", gen.status().ToString().c_str());
    return 1;
  }
  const double load_s = Seconds(t0);
  const pipeline::ModelDescription& d = (*gen)->description();
  const uint64_t planned = d.plan.predicted_peak.at(Device::Cpu());
  std::printf("loaded in %.1f s; VmHWM %.2f GiB\n%sadmitted: %d frames at %dx%d, max_area %lld at %d frames\n",
              load_s, Gib(ProcessPeakRssBytes()), d.plan.summary.c_str(), d.admitted.max_frames, d.defaults.width,
              d.defaults.height, static_cast<long long>(d.admitted.max_area), d.defaults.num_frames);
  pipeline::GenerationRequest r;
  r.prompt = "a lighthouse at dusk";
  const int w = d.defaults.width, h = d.defaults.height;
  r.image = pipeline::RgbImage{w, h, std::vector<uint8_t>(static_cast<size_t>(w) * h * 3)};
  for (size_t i = 0; i < r.image->rgb.size(); ++i) r.image->rgb[i] = static_cast<uint8_t>(i * 7 % 251);
  r.max_area = int64_t{(w / 8 + 8) / 16 * 16} * ((h / 8 + 8) / 16 * 16);
  r.num_frames = 1;
  r.steps = steps;
  r.seed = 1;
  const auto t1 = std::chrono::steady_clock::now();
  CancelToken cancel;
  auto video = (*gen)->Generate(r, nullptr, cancel);
  if (!video.ok()) {
    std::fprintf(stderr, "request: %s\n", video.status().ToString().c_str());
    return 1;
  }
  const double request_s = Seconds(t1);
  media::VideoEncodeOptions encode;
  encode.fps = video->fps;
  auto mp4 = media::EncodeVideo(video->rgb.data(), video->rgb.size(), video->frames, video->width, video->height,
                                encode);
  if (!mp4.ok()) {
    std::fprintf(stderr, "encode: %s\n", mp4.status().ToString().c_str());
    return 1;
  }
  std::ofstream(argv[2], std::ios::binary) << mp4->bytes;
  const uint64_t hwm = ProcessPeakRssBytes();
  std::printf("request (max_area %lld, 1 frame, %d steps): %.1f s -> %dx%d, %d frames\n",
              static_cast<long long>(*r.max_area), steps, request_s, video->width, video->height, video->frames);
  std::printf("VmHWM %.2f GiB, planned host peak %.2f GiB (+1 GiB allowed)\n", Gib(hwm), Gib(planned));
  return hwm <= planned + (1ull << 30) ? 0 : 1;
}
