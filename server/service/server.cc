#include "server/service/server.h"

#include <chrono>
#include <thread>
#include <utility>

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>

#include "absl/strings/str_cat.h"
#include "server/jobs/log.h"
#include "server/service/video_encoding.h"

namespace videogen::service {

namespace {
constexpr char kServiceName[] = "videogen.v1.VideoGeneration";
// Streams get this long beyond the drain timeout to send their last chunks.
constexpr auto kFlushGrace = std::chrono::seconds(10);
}  // namespace

absl::StatusOr<std::unique_ptr<VideoGenServer>> VideoGenServer::Create(ServerOptions options,
                                                                       std::vector<jobs::Device> devices,
                                                                       jobs::JobListener* listener) {
  std::unique_ptr<VideoGenServer> server(new VideoGenServer());
  VideoGenServer* self = server.get();
  auto credentials = auth::MakeServerCredentials(options.tls);
  if (!credentials.ok()) return credentials.status();
  if (!options.auth_token_file.empty()) {
    auto auth = auth::TokenAuthenticator::FromFile(options.auth_token_file);
    if (!auth.ok()) return auth.status();
    server->auth_ = *std::move(auth);
  }
  options.jobs.on_ready = [self] { self->OnWorkersReady(); };
  auto manager = jobs::JobManager::Create(std::move(options.jobs), std::move(devices), MakeVideoEncoder(), listener);
  if (!manager.ok()) return manager.status();
  server->manager_ = *std::move(manager);

  ServiceContext context;
  context.jobs = server->manager_.get();
  context.limits = options.limits;
  context.auth = server->auth_.get();
  server->service_ = std::make_unique<VideoGenerationService>(context);

  grpc::EnableDefaultHealthCheckService(true);
  if (options.reflection) grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.listen, *credentials, &server->port_);
  builder.RegisterService(server->service_.get());
  builder.SetMaxReceiveMessageSize(options.max_request_bytes);
  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr || server->port_ == 0) {
    server->manager_->Shutdown(absl::ZeroDuration());
    return absl::UnavailableError(absl::StrCat("listen: cannot listen on ", options.listen));
  }
  {
    absl::MutexLock lock(&server->mu_);
    server->started_ = true;
    server->UpdateHealthLocked();
  }
  return server;
}

VideoGenServer::~VideoGenServer() { Shutdown(absl::ZeroDuration()); }

void VideoGenServer::UpdateHealthLocked() {
  if (!started_) return;
  serving_ = workers_ready_ && !shutting_down_;
  grpc::HealthCheckServiceInterface* health = server_->GetHealthCheckService();
  if (health == nullptr) return;
  health->SetServingStatus(serving_);
  health->SetServingStatus(kServiceName, serving_);
}

void VideoGenServer::OnWorkersReady() {
  absl::MutexLock lock(&mu_);
  workers_ready_ = true;
  UpdateHealthLocked();
  jobs::LogEvent("serving", {{"port", absl::StrCat(port_)}, {"health", serving_ ? "SERVING" : "NOT_SERVING"}});
}

bool VideoGenServer::serving() const {
  absl::MutexLock lock(&mu_);
  return serving_;
}

void VideoGenServer::Shutdown(absl::Duration drain_timeout) {
  {
    absl::MutexLock lock(&mu_);
    if (shutting_down_) return;
    shutting_down_ = true;
    UpdateHealthLocked();
  }
  if (server_ == nullptr) {
    if (manager_ != nullptr) manager_->Shutdown(drain_timeout);
    return;
  }
  jobs::LogEvent("drain_started", {{"timeout_ms", absl::StrCat(absl::ToInt64Milliseconds(drain_timeout))}});
  // Stops accepting RPCs at once; calls in progress may run until the deadline.
  const auto deadline = std::chrono::system_clock::now() + absl::ToChronoMilliseconds(drain_timeout) + kFlushGrace;
  std::thread stop_rpcs([this, deadline] { server_->Shutdown(deadline); });
  manager_->Shutdown(drain_timeout);
  stop_rpcs.join();
  server_->Wait();
  jobs::LogEvent("drain_finished");
}

}  // namespace videogen::service
