// videogen.v1.VideoGeneration on the gRPC callback API. The streaming RPCs
// get their own reactors (GenerateVideoReactor, WatchJobReactor); the unary
// ones answer at once with the call's default reactor (they only read job
// state, never wait). Every RPC checks the bearer token first, then that its
// request parsed (InvalidArgument naming the problem: ParsedRequest).
#pragma once

#include "server/service/parsed_request.h"
#include "server/service/service_context.h"
#include "videogen/v1/videogen.grpc.pb.h"

namespace videogen::service {

// Thread-safe. `context` members must outlive the service.
class VideoGenerationService final : public v1::VideoGeneration::CallbackService {
 public:
  // Registers the handlers below in place of the generated ones.
  explicit VideoGenerationService(ServiceContext context);

  grpc::ServerWriteReactor<v1::JobEvent>* GenerateVideo(grpc::CallbackServerContext* call,
                                                        const ParsedRequest<v1::GenerateVideoRequest>* request);
  grpc::ServerWriteReactor<v1::JobEvent>* WatchJob(grpc::CallbackServerContext* call,
                                                   const ParsedRequest<v1::WatchJobRequest>* request);
  grpc::ServerUnaryReactor* GetJob(grpc::CallbackServerContext* call, const ParsedRequest<v1::GetJobRequest>* request,
                                   v1::Job* response);
  grpc::ServerUnaryReactor* CancelJob(grpc::CallbackServerContext* call,
                                      const ParsedRequest<v1::CancelJobRequest>* request, v1::Job* response);
  grpc::ServerUnaryReactor* ListJobs(grpc::CallbackServerContext* call,
                                     const ParsedRequest<v1::ListJobsRequest>* request,
                                     v1::ListJobsResponse* response);
  grpc::ServerUnaryReactor* ListModels(grpc::CallbackServerContext* call,
                                       const ParsedRequest<v1::ListModelsRequest>* request,
                                       v1::ListModelsResponse* response);

 private:
  const ServiceContext context_;
};

}  // namespace videogen::service
