// Prometheus metrics of the server, built once on an injected registry (all
// families and fixed-label handles resolved at construction). Receives job
// events as a jobs::JobListener and device/model figures from the generators.
//
// Names: videogen_device_memory_{used,total,peak}_bytes{device},
// videogen_model_resident_bytes{model,component,dtype,device} (as loaded),
// videogen_resident_bytes{model,component,device,dtype} (now, from the
// residency account: offload moves and streamed T5 blocks included),
// videogen_planned_peak_bytes{model,device}, videogen_queue_depth,
// videogen_jobs_running, videogen_jobs_total{model,outcome},
// videogen_job_queue_seconds, videogen_job_duration_seconds,
// videogen_denoise_step_seconds (histograms), videogen_video_bytes_total,
// videogen_workers{state}.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <map>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "engine/pipeline/api/generator.h"
#include "server/jobs/job_listener.h"

namespace videogen::metrics {

// The `outcome` label of videogen_jobs_total: "succeeded" for OK, otherwise
// the lowercase status code ("cancelled", "deadline_exceeded", ...).
std::string OutcomeLabel(const absl::Status& status);

// Thread-safe. `registry` must outlive this object.
class ServerMetrics final : public jobs::JobListener {
 public:
  explicit ServerMetrics(prometheus::Registry& registry);

  // Publishes the model's resident bytes and planned peaks.
  void SetModel(const pipeline::ModelDescription& model);
  // Publishes current device memory figures (called before each scrape).
  void UpdateDeviceMemory(const std::vector<pipeline::DeviceMemoryStats>& devices);
  // Publishes the weights resident now (VideoGenerator::ResidentNow of every
  // worker, called before each scrape): bytes summed per component, device
  // and dtype; a series published before and absent now is set to 0.
  void UpdateResidentNow(const std::string& model, const std::vector<pipeline::ResidentGroup>& groups);

  // jobs::JobListener
  void OnQueueDepth(size_t depth) override;
  void OnJobStarted(const jobs::Job& job, absl::Duration queued_for) override;
  void OnDenoiseStep(const jobs::Job& job, absl::Duration duration) override;
  void OnJobFinished(const jobs::Job& job, const absl::Status& outcome, std::optional<absl::Duration> ran,
                     size_t video_bytes) override;
  void OnWorkerState(const Device& device, jobs::WorkerState state) override;

 private:
  // Constant after construction (prometheus handles are themselves thread-safe).
  prometheus::Family<prometheus::Gauge>& device_used_;
  prometheus::Family<prometheus::Gauge>& device_total_;
  prometheus::Family<prometheus::Gauge>& device_peak_;
  prometheus::Family<prometheus::Gauge>& resident_;
  prometheus::Family<prometheus::Gauge>& resident_now_;
  prometheus::Family<prometheus::Gauge>& planned_peak_;
  prometheus::Gauge& queue_depth_;
  prometheus::Gauge& jobs_running_;
  prometheus::Family<prometheus::Counter>& jobs_total_;
  prometheus::Histogram& queue_seconds_;
  prometheus::Histogram& duration_seconds_;
  prometheus::Histogram& denoise_step_seconds_;
  prometheus::Counter& video_bytes_;
  prometheus::Family<prometheus::Gauge>& workers_;

  absl::Mutex mu_;
  std::map<Device, jobs::WorkerState> worker_states_ ABSL_GUARDED_BY(mu_);
  // videogen_resident_bytes series published so far (model, component, device, dtype).
  std::map<std::vector<std::string>, prometheus::Gauge*> resident_now_series_ ABSL_GUARDED_BY(mu_);
};

}  // namespace videogen::metrics
