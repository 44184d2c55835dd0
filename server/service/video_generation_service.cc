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

// The generated code's method indexes: the order of the rpcs in videogen.proto.
enum MethodIndex : int { kGenerateVideo, kWatchJob, kGetJob, kCancelJob, kListJobs, kListModels };

template <typename Request, typename Response>
grpc::internal::MethodHandler* StreamingHandler(
    std::function<grpc::ServerWriteReactor<Response>*(grpc::CallbackServerContext*, const ParsedRequest<Request>*)>
        handler) {
  return new grpc::internal::CallbackServerStreamingHandler<ParsedRequest<Request>, Response>(std::move(handler));
}

template <typename Request, typename Response>
grpc::internal::MethodHandler* UnaryHandler(
    std::function<grpc::ServerUnaryReactor*(grpc::CallbackServerContext*, const ParsedRequest<Request>*, Response*)>
        handler) {
  return new grpc::internal::CallbackUnaryHandler<ParsedRequest<Request>, Response>(std::move(handler));
}

}  // namespace

VideoGenerationService::VideoGenerationService(ServiceContext context) : context_(context) {
  using grpc::CallbackServerContext;
  MarkMethodCallback(kGenerateVideo,
                     StreamingHandler<v1::GenerateVideoRequest, v1::JobEvent>(
                         [this](CallbackServerContext* call, const ParsedRequest<v1::GenerateVideoRequest>* r) {
                           return GenerateVideo(call, r);
                         }));
  MarkMethodCallback(kWatchJob, StreamingHandler<v1::WatchJobRequest, v1::JobEvent>(
                                    [this](CallbackServerContext* call, const ParsedRequest<v1::WatchJobRequest>* r) {
                                      return WatchJob(call, r);
                                    }));
  MarkMethodCallback(kGetJob, UnaryHandler<v1::GetJobRequest, v1::Job>(
                                  [this](CallbackServerContext* call, const ParsedRequest<v1::GetJobRequest>* r,
                                         v1::Job* out) { return GetJob(call, r, out); }));
  MarkMethodCallback(kCancelJob, UnaryHandler<v1::CancelJobRequest, v1::Job>(
                                     [this](CallbackServerContext* call, const ParsedRequest<v1::CancelJobRequest>* r,
                                            v1::Job* out) { return CancelJob(call, r, out); }));
  MarkMethodCallback(kListJobs, UnaryHandler<v1::ListJobsRequest, v1::ListJobsResponse>(
                                    [this](CallbackServerContext* call, const ParsedRequest<v1::ListJobsRequest>* r,
                                           v1::ListJobsResponse* out) { return ListJobs(call, r, out); }));
  MarkMethodCallback(kListModels,
                     UnaryHandler<v1::ListModelsRequest, v1::ListModelsResponse>(
                         [this](CallbackServerContext* call, const ParsedRequest<v1::ListModelsRequest>* r,
                                v1::ListModelsResponse* out) { return ListModels(call, r, out); }));
}

grpc::ServerWriteReactor<v1::JobEvent>* VideoGenerationService::GenerateVideo(
    grpc::CallbackServerContext* call, const ParsedRequest<v1::GenerateVideoRequest>* request) {
  return new GenerateVideoReactor(context_, call, *request);
}

grpc::ServerWriteReactor<v1::JobEvent>* VideoGenerationService::WatchJob(
    grpc::CallbackServerContext* call, const ParsedRequest<v1::WatchJobRequest>* request) {
  return new WatchJobReactor(context_, call, *request);
}

grpc::ServerUnaryReactor* VideoGenerationService::GetJob(grpc::CallbackServerContext* call,
                                                         const ParsedRequest<v1::GetJobRequest>* parsed, v1::Job* response) {
  if (absl::Status s = context_.Authenticate(*call); !s.ok()) return Answer(call, s);
  if (!parsed->Parse().ok()) return Answer(call, parsed->Parse());
  const v1::GetJobRequest* request = &parsed->message();
  auto job = context_.jobs->Find(request->job_id());
  if (!job.ok()) return Answer(call, job.status());
  ToProto(**job, response);
  return Answer(call, absl::OkStatus());
}

grpc::ServerUnaryReactor* VideoGenerationService::CancelJob(grpc::CallbackServerContext* call,
                                                            const ParsedRequest<v1::CancelJobRequest>* parsed, v1::Job* response) {
  if (absl::Status s = context_.Authenticate(*call); !s.ok()) return Answer(call, s);
  if (!parsed->Parse().ok()) return Answer(call, parsed->Parse());
  const v1::CancelJobRequest* request = &parsed->message();
  auto job = context_.jobs->Cancel(request->job_id());
  if (!job.ok()) return Answer(call, job.status());
  ToProto(**job, response);
  return Answer(call, absl::OkStatus());
}

grpc::ServerUnaryReactor* VideoGenerationService::ListJobs(grpc::CallbackServerContext* call,
                                                           const ParsedRequest<v1::ListJobsRequest>* parsed,
                                                           v1::ListJobsResponse* response) {
  if (absl::Status s = context_.Authenticate(*call); !s.ok()) return Answer(call, s);
  if (!parsed->Parse().ok()) return Answer(call, parsed->Parse());
  const v1::ListJobsRequest* request = &parsed->message();
  const uint32_t limit = request->limit() == 0 ? kDefaultListLimit : std::min(request->limit(), kMaxListLimit);
  for (const auto& job : context_.jobs->List(limit)) ToProto(*job, response->add_jobs());
  return Answer(call, absl::OkStatus());
}

grpc::ServerUnaryReactor* VideoGenerationService::ListModels(grpc::CallbackServerContext* call,
                                                             const ParsedRequest<v1::ListModelsRequest>* parsed,
                                                             v1::ListModelsResponse* response) {
  if (absl::Status s = context_.Authenticate(*call); !s.ok()) return Answer(call, s);
  if (!parsed->Parse().ok()) return Answer(call, parsed->Parse());
  ToProto(context_.jobs->model(), CurrentModelState(*context_.jobs), response->add_models());
  return Answer(call, absl::OkStatus());
}

}  // namespace videogen::service
