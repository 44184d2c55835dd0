#include "server/service/video_generation_service.h"

#include <algorithm>

#include "server/service/convert.h"
#include "server/service/generate_video_reactor.h"
#include "server/service/watch_job_reactor.h"

namespace videogen::service {

namespace {

constexpr uint32_t kDefaultListLimit = 50;
constexpr uint32_t kMaxListLimit = 1000;

grpc::ServerUnaryReactor* Answer(grpc::CallbackServerContext* call, const absl::Status& status) {
  grpc::ServerUnaryReactor* reactor = call->DefaultReactor();
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

ModelState CurrentModelState(const jobs::JobManager& manager) {
  if (manager.ready()) return ModelState::kReady;
  for (const auto& [device, worker] : manager.WorkerStates()) {
    if (worker == jobs::WorkerState::kFailed) return ModelState::kFailed;
  }
  return ModelState::kWarming;
}

}  // namespace

grpc::ServerWriteReactor<v1::JobEvent>* VideoGenerationService::GenerateVideo(grpc::CallbackServerContext* call,
                                                                              const v1::GenerateVideoRequest* request) {
  return new GenerateVideoReactor(context_, call, *request);
}

grpc::ServerWriteReactor<v1::JobEvent>* VideoGenerationService::WatchJob(grpc::CallbackServerContext* call,
                                                                         const v1::WatchJobRequest* request) {
  return new WatchJobReactor(context_, call, *request);
}

grpc::ServerUnaryReactor* VideoGenerationService::GetJob(grpc::CallbackServerContext* call,
                                                         const v1::GetJobRequest* request, v1::Job* response) {
  if (absl::Status s = context_.Authenticate(*call); !s.ok()) return Answer(call, s);
  auto job = context_.jobs->Find(request->job_id());
  if (!job.ok()) return Answer(call, job.status());
  ToProto(**job, response);
  return Answer(call, absl::OkStatus());
}

grpc::ServerUnaryReactor* VideoGenerationService::CancelJob(grpc::CallbackServerContext* call,
                                                            const v1::CancelJobRequest* request, v1::Job* response) {
  if (absl::Status s = context_.Authenticate(*call); !s.ok()) return Answer(call, s);
  auto job = context_.jobs->Cancel(request->job_id());
  if (!job.ok()) return Answer(call, job.status());
  ToProto(**job, response);
  return Answer(call, absl::OkStatus());
}

grpc::ServerUnaryReactor* VideoGenerationService::ListJobs(grpc::CallbackServerContext* call,
                                                           const v1::ListJobsRequest* request,
                                                           v1::ListJobsResponse* response) {
  if (absl::Status s = context_.Authenticate(*call); !s.ok()) return Answer(call, s);
  const uint32_t limit = request->limit() == 0 ? kDefaultListLimit : std::min(request->limit(), kMaxListLimit);
  for (const auto& job : context_.jobs->List(limit)) ToProto(*job, response->add_jobs());
  return Answer(call, absl::OkStatus());
}

grpc::ServerUnaryReactor* VideoGenerationService::ListModels(grpc::CallbackServerContext* call,
                                                             const v1::ListModelsRequest*,
                                                             v1::ListModelsResponse* response) {
  if (absl::Status s = context_.Authenticate(*call); !s.ok()) return Answer(call, s);
  ToProto(context_.jobs->model(), CurrentModelState(*context_.jobs), response->add_models());
  return Answer(call, absl::OkStatus());
}

}  // namespace videogen::service
