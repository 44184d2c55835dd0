#include "server/testing/fake_video_generator.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "engine/pipeline/api/request_rules.h"

namespace videogen::testing {

namespace {

uint64_t Hash(const std::string& s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

void Report(pipeline::ProgressSink* sink, pipeline::Stage stage, int step, int total) {
  if (sink != nullptr) sink->OnProgress(pipeline::ProgressUpdate{stage, step, total});
}

uint64_t ReadStatusKb(const char* key) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) == 0) {
      std::istringstream fields(line.substr(std::string(key).size()));
      uint64_t kb = 0;
      fields >> kb;
      return kb * 1024;
    }
  }
  return 0;
}

}  // namespace

pipeline::DeviceMemoryStats ProcessMemoryStats(Device device) {
  pipeline::DeviceMemoryStats s;
  s.device = device;
  s.used = ReadStatusKb("VmRSS:");
  s.peak = ReadStatusKb("VmHWM:");
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page_size = sysconf(_SC_PAGE_SIZE);
  if (pages > 0 && page_size > 0) s.total = static_cast<uint64_t>(pages) * static_cast<uint64_t>(page_size);
  return s;
}

FakeVideoGenerator::FakeVideoGenerator(FakeVideoGeneratorOptions options)
    : options_(std::move(options)), weights_(options_.resident_bytes, 1) {
  description_.id = options_.id;
  description_.type = options_.type;
  description_.variant = "fake";
  description_.description = "Deterministic test generator (no model; for tests only)";
  description_.defaults = options_.defaults;
  description_.resident.push_back(
      pipeline::ResidentGroup{Component::kDit, Precision::kFp32, options_.device, weights_.size()});
  description_.plan.offload_mode = OffloadMode::kNone;
  const uint64_t frame_bytes = static_cast<uint64_t>(options_.defaults.width) * options_.defaults.height * 3 *
                               static_cast<uint64_t>(options_.defaults.num_frames);
  description_.plan.predicted_peak[options_.device] = weights_.size() + frame_bytes;
  description_.plan.summary = absl::StrCat("fake model: ", weights_.size(), " resident bytes on ", DeviceName(options_.device));
}

absl::Status FakeVideoGenerator::Validate(const pipeline::GenerationRequest& r) const {
  return pipeline::CheckRequestRules(r, options_.type);
}

std::vector<uint8_t> FakeVideoGenerator::MakeFrames(int frames, int width, int height, uint64_t seed,
                                                    const std::string& prompt) {
  const uint64_t h = Hash(prompt) ^ seed;
  std::vector<uint8_t> rgb(static_cast<size_t>(frames) * width * height * 3);
  size_t i = 0;
  for (int f = 0; f < frames; ++f) {
    for (int y = 0; y < height; ++y) {
      for (int x = 0; x < width; ++x) {
        rgb[i++] = static_cast<uint8_t>(x * 4 + f * 8 + (h & 0xff));
        rgb[i++] = static_cast<uint8_t>(y * 4 + ((h >> 8) & 0xff));
        rgb[i++] = static_cast<uint8_t>(((x / 8 + y / 8 + f) % 2) * 160 + ((h >> 16) & 0x3f));
      }
    }
  }
  return rgb;
}

absl::StatusOr<pipeline::GeneratedVideo> FakeVideoGenerator::Generate(const pipeline::GenerationRequest& r,
                                                                      pipeline::ProgressSink* progress,
                                                                      const CancelToken& cancel) {
  generate_calls_.fetch_add(1);
  absl::Status failure;
  int failure_step = 0;
  {
    absl::MutexLock lock(&mu_);
    requests_.push_back(r);
    // Kept without pixels: a fake must not hold what the server released
    // (assigning a new vector frees the copy; clear() would keep its capacity).
    if (requests_.back().image) requests_.back().image->rgb = std::vector<uint8_t>();
    if (requests_.back().last_image) requests_.back().last_image->rgb = std::vector<uint8_t>();
    failure = failure_;
    failure_step = failure_step_;
  }
  if (!options_.fail_prompt.empty() && r.prompt == options_.fail_prompt) {
    failure = absl::InternalError("injected failure (--fake-fail-prompt)");
    failure_step = 0;
  }
  if (absl::Status s = Validate(r); !s.ok()) return s;
  const pipeline::GenerationDefaults& d = options_.defaults;
  int width = r.width.value_or(d.width);
  int height = r.height.value_or(d.height);
  if (r.image && !(r.width && r.height)) {
    const double area = static_cast<double>(r.max_area.value_or(d.max_area));
    const double aspect = static_cast<double>(r.image->height) / r.image->width;
    height = std::max(16, static_cast<int>(std::lround(std::sqrt(area * aspect) / 16.0)) * 16);
    width = std::max(16, static_cast<int>(std::lround(std::sqrt(area / aspect) / 16.0)) * 16);
  }
  const int frames = r.num_frames.value_or(d.num_frames);
  const int steps = r.steps.value_or(d.steps);

  Report(progress, pipeline::Stage::kTextEncoding, 0, 1);
  if (absl::Status s = cancel.Check("text encoding"); !s.ok()) return s;
  Report(progress, pipeline::Stage::kTextEncoding, 1, 1);
  if (r.image) {
    Report(progress, pipeline::Stage::kImageEncoding, 0, 1);
    Report(progress, pipeline::Stage::kImageEncoding, 1, 1);
  }
  Report(progress, pipeline::Stage::kDenoising, 0, steps);
  for (int step = 0; step < steps; ++step) {
    if (absl::Status s = cancel.Check("denoising"); !s.ok()) return s;
    if (!failure.ok() && step == failure_step) return failure;
    if (options_.before_step) options_.before_step(step);
    if (options_.step_time > absl::ZeroDuration()) absl::SleepFor(options_.step_time);
    Report(progress, pipeline::Stage::kDenoising, step + 1, steps);
  }
  const int chunks = (frames - 1) / 4 + 1;
  Report(progress, pipeline::Stage::kVaeDecoding, 0, chunks);
  for (int c = 0; c < chunks; ++c) {
    if (absl::Status s = cancel.Check("VAE decoding"); !s.ok()) return s;
    Report(progress, pipeline::Stage::kVaeDecoding, c + 1, chunks);
  }
  pipeline::GeneratedVideo video;
  video.width = width;
  video.height = height;
  video.frames = frames;
  video.fps = d.fps;
  video.seed = r.seed;
  video.rgb = MakeFrames(frames, width, height, r.seed, r.prompt);
  return video;
}

std::vector<pipeline::DeviceMemoryStats> FakeVideoGenerator::DeviceMemory() const {
  return {ProcessMemoryStats(options_.device)};
}

void FakeVideoGenerator::SetFailure(absl::Status status, int at_step) {
  absl::MutexLock lock(&mu_);
  failure_ = std::move(status);
  failure_step_ = at_step;
}

std::vector<pipeline::GenerationRequest> FakeVideoGenerator::requests() const {
  absl::MutexLock lock(&mu_);
  return requests_;
}

}  // namespace videogen::testing
