#include "server/metrics/server_metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>

#include "absl/time/clock.h"

namespace videogen::metrics {
namespace {

using ::testing::HasSubstr;

std::string Scrape(prometheus::Registry& registry) {
  return prometheus::TextSerializer().Serialize(registry.Collect());
}

TEST(ServerMetricsTest, JobEventsMoveTheMetrics) {
  prometheus::Registry registry;
  ServerMetrics metrics(registry);
  jobs::JobSpec spec;
  spec.model = "fake";
  jobs::Job job("job-1", spec, absl::Now());

  metrics.OnQueueDepth(3);
  metrics.OnJobStarted(job, absl::Milliseconds(20));
  metrics.OnDenoiseStep(job, absl::Milliseconds(30));
  std::string text = Scrape(registry);
  EXPECT_THAT(text, HasSubstr("videogen_queue_depth 3"));
  EXPECT_THAT(text, HasSubstr("videogen_jobs_running 1"));
  EXPECT_THAT(text, HasSubstr("videogen_denoise_step_seconds_count 1"));
  EXPECT_THAT(text, HasSubstr("videogen_job_queue_seconds_count 1"));

  metrics.OnJobFinished(job, absl::OkStatus(), absl::Seconds(2), 1234);
  metrics.OnJobFinished(job, absl::DeadlineExceededError("late"), std::nullopt, 0);
  text = Scrape(registry);
  EXPECT_THAT(text, HasSubstr("videogen_jobs_running 0"));
  EXPECT_THAT(text, HasSubstr("videogen_jobs_total{model=\"fake\",outcome=\"succeeded\"} 1"));
  EXPECT_THAT(text, HasSubstr("videogen_jobs_total{model=\"fake\",outcome=\"deadline_exceeded\"} 1"));
  EXPECT_THAT(text, HasSubstr("videogen_video_bytes_total 1234"));
  EXPECT_THAT(text, HasSubstr("videogen_job_duration_seconds_count 1"));
}

TEST(ServerMetricsTest, DevicesModelsAndWorkers) {
  prometheus::Registry registry;
  ServerMetrics metrics(registry);
  pipeline::ModelDescription model;
  model.id = "m";
  model.resident = {{Component::kDit, Precision::kBf16, Device::Cuda(0), 100},
                    {Component::kDit, Precision::kBf16, Device::Cuda(0), 50},
                    {Component::kT5, Precision::kFp32, Device::Cpu(), 7},
                    {Component::kDit, Precision::kFp8, Device::Cuda(0), 3}};
  model.plan.predicted_peak[Device::Cuda(0)] = 999;
  model.adapters = {{"style", 40}, {"detail", 2}};
  metrics.SetModel(model);
  metrics.UpdateDeviceMemory({{Device::Cuda(0), 10, 80, 20}});
  metrics.OnWorkerState(Device::Cuda(0), jobs::WorkerState::kWarming);
  metrics.OnWorkerState(Device::Cuda(1), jobs::WorkerState::kBusy);
  metrics.OnWorkerState(Device::Cuda(0), jobs::WorkerState::kIdle);
  const std::string text = Scrape(registry);
  EXPECT_THAT(
      text,
      HasSubstr("videogen_model_resident_bytes{component=\"dit\",device=\"cuda:0\",dtype=\"bf16\",model=\"m\"} 150"));
  EXPECT_THAT(
      text,
      HasSubstr("videogen_model_resident_bytes{component=\"dit\",device=\"cuda:0\",dtype=\"fp8_e4m3fn\",model=\"m\"} 3"));
  EXPECT_THAT(
      text,
      HasSubstr("videogen_model_resident_bytes{component=\"lora\",device=\"cpu\",dtype=\"fp32\",model=\"m\"} 42"));
  EXPECT_THAT(text, HasSubstr("videogen_planned_peak_bytes{device=\"cuda:0\",model=\"m\"} 999"));
  EXPECT_THAT(text, HasSubstr("videogen_device_memory_used_bytes{device=\"cuda:0\"} 10"));
  EXPECT_THAT(text, HasSubstr("videogen_device_memory_total_bytes{device=\"cuda:0\"} 80"));
  EXPECT_THAT(text, HasSubstr("videogen_device_memory_peak_bytes{device=\"cuda:0\"} 20"));
  EXPECT_THAT(text, HasSubstr("videogen_workers{state=\"idle\"} 1"));
  EXPECT_THAT(text, HasSubstr("videogen_workers{state=\"busy\"} 1"));
  EXPECT_THAT(text, HasSubstr("videogen_workers{state=\"warming\"} 0"));
}

}  // namespace
}  // namespace videogen::metrics
