#include "server/metrics/server_metrics.h"

#include "absl/strings/ascii.h"

namespace videogen::metrics {

namespace {

prometheus::Family<prometheus::Gauge>& GaugeFamily(prometheus::Registry& r, const char* name, const char* help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(r);
}

prometheus::Histogram& MakeHistogram(prometheus::Registry& r, const char* name, const char* help,
                                     prometheus::Histogram::BucketBoundaries buckets) {
  return prometheus::BuildHistogram().Name(name).Help(help).Register(r).Add({}, std::move(buckets));
}

constexpr jobs::WorkerState kAllWorkerStates[] = {jobs::WorkerState::kWarming, jobs::WorkerState::kIdle,
                                                  jobs::WorkerState::kBusy, jobs::WorkerState::kFailed,
                                                  jobs::WorkerState::kStopped};

}  // namespace

std::string OutcomeLabel(const absl::Status& status) {
  if (status.ok()) return "succeeded";
  return absl::AsciiStrToLower(absl::StatusCodeToString(status.code()));
}

ServerMetrics::ServerMetrics(prometheus::Registry& r)
    : device_used_(GaugeFamily(r, "videogen_device_memory_used_bytes",
                               "Memory in use on the device (CUDA: driver view; cpu: process RSS)")),
      device_total_(
          GaugeFamily(r, "videogen_device_memory_total_bytes", "Total memory of the device (cpu: physical memory)")),
      device_peak_(GaugeFamily(r, "videogen_device_memory_peak_bytes",
                               "Peak memory in use on the device (CUDA: allocator peak; cpu: peak RSS)")),
      resident_(GaugeFamily(r, "videogen_model_resident_bytes", "Bytes of resident model weights")),
      resident_now_(GaugeFamily(r, "videogen_resident_bytes",
                                "Bytes of model weights resident now, per component, device and dtype (offload "
                                "moves and streamed blocks included)")),
      planned_peak_(GaugeFamily(r, "videogen_planned_peak_bytes", "Peak bytes predicted by the memory plan")),
      queue_depth_(GaugeFamily(r, "videogen_queue_depth", "Jobs waiting in the queue").Add({})),
      jobs_running_(GaugeFamily(r, "videogen_jobs_running", "Jobs being generated").Add({})),
      jobs_total_(prometheus::BuildCounter().Name("videogen_jobs_total").Help("Jobs finished, by outcome").Register(r)),
      queue_seconds_(MakeHistogram(r, "videogen_job_queue_seconds", "Time jobs waited in the queue",
                                   {0.005, 0.05, 0.25, 1, 5, 15, 60, 300, 900, 3600})),
      duration_seconds_(MakeHistogram(r, "videogen_job_duration_seconds", "Time from start to end of a job",
                                      {0.1, 0.5, 1, 5, 15, 60, 180, 600, 1800, 3600, 7200})),
      denoise_step_seconds_(MakeHistogram(r, "videogen_denoise_step_seconds", "Time of one denoising step",
                                          {0.001, 0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 120})),
      video_bytes_(prometheus::BuildCounter()
                       .Name("videogen_video_bytes_total")
                       .Help("Bytes of encoded video produced")
                       .Register(r)
                       .Add({})),
      workers_(GaugeFamily(r, "videogen_workers", "Workers by state")) {
  for (jobs::WorkerState s : kAllWorkerStates) workers_.Add({{"state", jobs::WorkerStateName(s)}}).Set(0);
}

void ServerMetrics::SetModel(const pipeline::ModelDescription& model) {
  std::map<std::tuple<std::string, std::string, std::string>, double> resident;
  for (const auto& g : model.resident) {
    resident[{ComponentName(g.component), StorageDTypeName(g.dtype), DeviceName(g.device)}] +=
        static_cast<double>(g.bytes);
  }
  // Per-request adapters: fp32 tensors on the host, one series for all of them.
  for (const auto& a : model.adapters) resident[{"lora", "fp32", "cpu"}] += static_cast<double>(a.bytes);
  for (const auto& [key, bytes] : resident) {
    resident_
        .Add({{"model", model.id},
              {"component", std::get<0>(key)},
              {"dtype", std::get<1>(key)},
              {"device", std::get<2>(key)}})
        .Set(bytes);
  }
  for (const auto& [device, bytes] : model.plan.predicted_peak) {
    planned_peak_.Add({{"model", model.id}, {"device", DeviceName(device)}}).Set(static_cast<double>(bytes));
  }
}

void ServerMetrics::UpdateDeviceMemory(const std::vector<pipeline::DeviceMemoryStats>& devices) {
  for (const auto& d : devices) {
    const std::string device = DeviceName(d.device);
    device_used_.Add({{"device", device}}).Set(static_cast<double>(d.used));
    device_total_.Add({{"device", device}}).Set(static_cast<double>(d.total));
    device_peak_.Add({{"device", device}}).Set(static_cast<double>(d.peak));
  }
}

void ServerMetrics::UpdateResidentNow(const std::string& model, const std::vector<pipeline::ResidentGroup>& groups) {
  std::map<std::vector<std::string>, double> now;
  for (const pipeline::ResidentGroup& g : groups) {
    now[{model, ComponentName(g.component), DeviceName(g.device), StorageDTypeName(g.dtype)}] +=
        static_cast<double>(g.bytes);
  }
  absl::MutexLock lock(&mu_);
  for (auto& [labels, gauge] : resident_now_series_) {
    if (now.count(labels) == 0) gauge->Set(0);
  }
  for (const auto& [labels, bytes] : now) {
    prometheus::Gauge*& gauge = resident_now_series_[labels];
    if (gauge == nullptr) {
      gauge = &resident_now_.Add(
          {{"model", labels[0]}, {"component", labels[1]}, {"device", labels[2]}, {"dtype", labels[3]}});
    }
    gauge->Set(bytes);
  }
}

void ServerMetrics::OnQueueDepth(size_t depth) { queue_depth_.Set(static_cast<double>(depth)); }

void ServerMetrics::OnJobStarted(const jobs::Job&, absl::Duration queued_for) {
  jobs_running_.Increment();
  queue_seconds_.Observe(absl::ToDoubleSeconds(queued_for));
}

void ServerMetrics::OnDenoiseStep(const jobs::Job&, absl::Duration duration) {
  denoise_step_seconds_.Observe(absl::ToDoubleSeconds(duration));
}

void ServerMetrics::OnJobFinished(const jobs::Job& job, const absl::Status& outcome, std::optional<absl::Duration> ran,
                                  size_t video_bytes) {
  if (ran) {
    jobs_running_.Decrement();
    duration_seconds_.Observe(absl::ToDoubleSeconds(*ran));
  }
  jobs_total_.Add({{"model", job.spec().model}, {"outcome", OutcomeLabel(outcome)}}).Increment();
  video_bytes_.Increment(static_cast<double>(video_bytes));
}

void ServerMetrics::OnWorkerState(const Device& device, jobs::WorkerState state) {
  absl::MutexLock lock(&mu_);
  worker_states_[device] = state;
  std::map<jobs::WorkerState, int> counts;
  for (const auto& [d, s] : worker_states_) ++counts[s];
  for (jobs::WorkerState s : kAllWorkerStates) {
    workers_.Add({{"state", jobs::WorkerStateName(s)}}).Set(counts[s]);
  }
}

}  // namespace videogen::metrics
