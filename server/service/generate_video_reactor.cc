#include "server/service/generate_video_reactor.h"

#include <chrono>

#include "absl/random/random.h"
#include "server/log/log.h"
#include "server/service/convert.h"
#include "server/service/request_validation.h"

namespace videogen::service {

namespace {

std::optional<CancelToken::Clock::time_point> JobDeadline(const grpc::CallbackServerContext& call) {
  const auto deadline = call.deadline();
  if (deadline >= std::chrono::system_clock::time_point::max() - std::chrono::hours(24 * 365)) return std::nullopt;
  return CancelToken::Clock::now() +
         std::chrono::duration_cast<CancelToken::Clock::duration>(deadline - std::chrono::system_clock::now());
}

uint64_t RandomSeed() {
  thread_local absl::BitGen gen;
  return absl::Uniform<uint64_t>(gen, 0, uint64_t{1} << 53);
}

}  // namespace

GenerateVideoReactor::GenerateVideoReactor(const ServiceContext& context, grpc::CallbackServerContext* call,
                                           const ParsedRequest<v1::GenerateVideoRequest>& parsed)
    : JobEventStreamReactor(context.streams) {
  if (absl::Status s = context.Authenticate(*call); !s.ok()) {
    Reject(s);
    return;
  }
  if (!parsed.Parse().ok()) {
    Reject(parsed.Parse());
    return;
  }
  const v1::GenerateVideoRequest& request = parsed.message();
  if (absl::Status s = ValidateRequest(request, context.limits); !s.ok()) {
    logging::LogEvent("rpc_rejected", {{"rpc", "GenerateVideo"}, {"error", s.ToString()}});
    {
      Reject(s);
      return;
    }
  }
  // Refuse what the queue cannot take before decoding images. A request with
  // a client_request_id may attach to its earlier job whatever the queue holds.
  if (request.client_request_id().empty()) {
    if (absl::Status s = context.jobs->CheckCapacity(); !s.ok()) {
      logging::LogEvent("rpc_rejected", {{"rpc", "GenerateVideo"}, {"error", s.ToString()}});
      Reject(s);
      return;
    }
  }
  const uint64_t seed = RandomSeed();
  const std::optional<CancelToken::Clock::time_point> deadline = JobDeadline(*call);
  if (request.image().empty() && request.last_frame().empty()) {
    DecodeAndSubmit(context, request, seed, deadline);
    return;
  }
  // The call (and so this reactor and `request`) lives until Finish, which
  // only the task calls from now on.
  absl::Status handed = context.decode_pool->Run(
      [this, &context, &request, seed, deadline] { DecodeAndSubmit(context, request, seed, deadline); });
  if (!handed.ok()) {
    logging::LogEvent("rpc_rejected", {{"rpc", "GenerateVideo"}, {"error", handed.ToString()}});
    Reject(handed);
  }
}

void GenerateVideoReactor::DecodeAndSubmit(const ServiceContext& context, const v1::GenerateVideoRequest& request,
                                           uint64_t seed, std::optional<CancelToken::Clock::time_point> deadline) {
  if (CallCancelled()) {
    logging::LogEvent("decode_dropped", {{"rpc", "GenerateVideo"}, {"reason", "call cancelled"}});
    Reject(absl::CancelledError("call cancelled before its images were decoded"));
    return;
  }
  auto spec = ToJobSpec(request, context.limits, seed, deadline);
  if (!spec.ok()) {
    logging::LogEvent("rpc_rejected", {{"rpc", "GenerateVideo"}, {"error", spec.status().ToString()}});
    Reject(spec.status());
    return;
  }
  // Cancelled while decoding: the decoded images go with `spec`, no job.
  if (CallCancelled()) {
    logging::LogEvent("decode_dropped", {{"rpc", "GenerateVideo"}, {"reason", "call cancelled"}});
    Reject(absl::CancelledError("call cancelled while its images were decoded"));
    return;
  }
  auto submitted = context.jobs->Submit(*std::move(spec));
  if (!submitted.ok()) {
    logging::LogEvent("rpc_rejected", {{"rpc", "GenerateVideo"}, {"error", submitted.status().ToString()}});
    Reject(submitted.status());
    return;
  }
  std::shared_ptr<jobs::Job> job = submitted->job;
  std::function<void()> on_cancel;
  if (request.cancel_job_with_call()) {
    jobs::JobManager* manager = context.jobs;
    on_cancel = [manager, id = job->id()] { (void)manager->Cancel(id); };
  }
  // A cancellation from here on reaches the job through Attach.
  Attach(job, JobEventCursor(job->id(), /*send_accepted=*/true, /*from_offset=*/0), std::move(on_cancel));
}

}  // namespace videogen::service
