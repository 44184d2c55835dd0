// videogen.v1.VideoGeneration on the gRPC callback API. The streaming RPCs
// get their own reactors (GenerateVideoReactor, WatchJobReactor); the unary
// ones answer at once with the call's default reactor (they only read job
// state, never wait). Every RPC checks the bearer token first.
#pragma once

#include "server/service/service_context.h"
#include "videogen/v1/videogen.grpc.pb.h"

namespace videogen::service {

// Thread-safe. `context` members must outlive the service.
class VideoGenerationService final : public v1::VideoGeneration::CallbackService {
 public:
  explicit VideoGenerationService(ServiceContext context) : context_(context) {}

  grpc::ServerWriteReactor<v1::JobEvent>* GenerateVideo(grpc::CallbackServerContext* call,
                                                        const v1::GenerateVideoRequest* request) override;
  grpc::ServerWriteReactor<v1::JobEvent>* WatchJob(grpc::CallbackServerContext* call,
                                                   const v1::WatchJobRequest* request) override;
  grpc::ServerUnaryReactor* GetJob(grpc::CallbackServerContext* call, const v1::GetJobRequest* request,
                                   v1::Job* response) override;
  grpc::ServerUnaryReactor* CancelJob(grpc::CallbackServerContext* call, const v1::CancelJobRequest* request,
                                      v1::Job* response) override;
  grpc::ServerUnaryReactor* ListJobs(grpc::CallbackServerContext* call, const v1::ListJobsRequest* request,
                                     v1::ListJobsResponse* response) override;
  grpc::ServerUnaryReactor* ListModels(grpc::CallbackServerContext* call, const v1::ListModelsRequest* request,
                                       v1::ListModelsResponse* response) override;

 private:
  const ServiceContext context_;
};

}  // namespace videogen::service
