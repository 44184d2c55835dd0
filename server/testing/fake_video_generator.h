// FakeVideoGenerator: a deterministic VideoGenerator for tests and for
// `videogen-server --model fake` (a test-only model). It produces frames from
// the seed and the prompt, reports every stage and step, honours the cancel
// token between denoising steps and VAE chunks, and can be told to spend a
// given time per step or to fail with a given status. No weights, no LibTorch.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "engine/pipeline/api/generator.h"

namespace videogen::testing {

struct FakeVideoGeneratorOptions {
  std::string id = "fake";
  pipeline::ModelType type = pipeline::ModelType::kT2V;
  Device device = Device::Cpu();
  // Small defaults so that tests are fast.
  pipeline::GenerationDefaults defaults = [] {
    pipeline::GenerationDefaults d;
    d.width = 64;
    d.height = 48;
    d.max_area = 64 * 48;
    d.num_frames = 9;
    d.steps = 4;
    d.fps = 16.0;
    d.negative_prompt = "blurry";
    return d;
  }();
  // Simulated compute per denoising step.
  absl::Duration step_time = absl::ZeroDuration();
  // Simulated load: bytes of "weights" held (and reported as resident).
  size_t resident_bytes = size_t{1} << 20;
  // Test hook: called on the generating thread before each denoising step
  // (0-based), after the cancel check; may block to pace a test.
  std::function<void(int step)> before_step;
  // Test hook: requests whose prompt equals this (non-empty) string fail with
  // INTERNAL at the first denoising step (the server's --fake-fail-prompt).
  std::string fail_prompt;
};

// Thread safety as VideoGenerator; the counters and SetFailure() are thread-safe.
class FakeVideoGenerator final : public pipeline::VideoGenerator {
 public:
  explicit FakeVideoGenerator(FakeVideoGeneratorOptions options);

  const pipeline::ModelDescription& description() const override { return description_; }
  absl::Status Validate(const pipeline::GenerationRequest& request) const override;
  absl::StatusOr<pipeline::GeneratedVideo> Generate(const pipeline::GenerationRequest& request,
                                                    pipeline::ProgressSink* progress,
                                                    const CancelToken& cancel) override;
  std::vector<pipeline::DeviceMemoryStats> DeviceMemory() const override;
  void ReleaseCachedMemory() override { release_calls_.fetch_add(1); }

  // From the next Generate() on, fail with `status` when reaching denoising
  // step `at_step` (OK status: stop failing). E.g. ResourceExhausted for OOM.
  void SetFailure(absl::Status status, int at_step = 0);

  int generate_calls() const { return generate_calls_.load(); }
  int release_calls() const { return release_calls_.load(); }
  // Requests Generate() received, in order (warm-up included), their images
  // without pixels (width and height kept).
  std::vector<pipeline::GenerationRequest> requests() const;

  // The frames Generate() produces for a request of this size and seed.
  static std::vector<uint8_t> MakeFrames(int frames, int width, int height, uint64_t seed, const std::string& prompt);

 private:
  const FakeVideoGeneratorOptions options_;
  const std::vector<uint8_t> weights_;
  pipeline::ModelDescription description_;
  std::atomic<int> generate_calls_{0};
  std::atomic<int> release_calls_{0};

  mutable absl::Mutex mu_;
  absl::Status failure_ ABSL_GUARDED_BY(mu_);
  int failure_step_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<pipeline::GenerationRequest> requests_ ABSL_GUARDED_BY(mu_);
};

// Process memory on Linux: used = resident set size, peak = VmHWM,
// total = physical memory. Zeros when /proc is unreadable.
pipeline::DeviceMemoryStats ProcessMemoryStats(Device device);

}  // namespace videogen::testing
