#include "server/service/server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/impl/server_builder_option.h>
#include <grpcpp/impl/server_builder_plugin.h>
#include <grpcpp/resource_quota.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/common/status_macros.h"
#include "server/auth/token_metadata_processor.h"
#include "server/jobs/postgres_job_store.h"
#include "server/jobs/sqlite_job_store.h"
#include "server/log/log.h"
#include "server/service/convert.h"
#include "server/service/video_encoding.h"

namespace videogen::service {

namespace {

// Reflection registers itself once libgrpc++_reflection is linked; this
// option takes its plugin out of the builder when reflection is off.
class WithoutReflection final : public grpc::ServerBuilderOption {
 public:
  void UpdateArguments(grpc::ChannelArguments*) override {}
  void UpdatePlugins(std::vector<std::unique_ptr<grpc::ServerBuilderPlugin>>* plugins) override {
    plugins->erase(std::remove_if(plugins->begin(), plugins->end(),
                                  [](const auto& p) { return p->name() == "proto_server_reflection"; }),
                   plugins->end());
  }
};

constexpr char kServiceName[] = "videogen.v1.VideoGeneration";
// Job streams get this long after the drain to send their last chunks.
constexpr absl::Duration kFlushGrace = absl::Seconds(30);
}  // namespace

absl::StatusOr<std::unique_ptr<VideoGenServer>> VideoGenServer::Create(ServerOptions options,
                                                                       std::vector<jobs::Device> devices,
                                                                       jobs::JobListener* listener) {
  std::unique_ptr<VideoGenServer> server(new VideoGenServer());
  VideoGenServer* self = server.get();
  ASSIGN_OR_RETURN(std::shared_ptr<grpc::ServerCredentials> credentials, auth::MakeServerCredentials(options.tls));
  ASSIGN_OR_RETURN(server->decode_pool_, DecodePool::Create(std::move(options.decode)));
  if (!options.auth_token_file.empty()) {
    ASSIGN_OR_RETURN(server->auth_, auth::TokenAuthenticator::FromFile(options.auth_token_file));
    // With TLS the token is checked from the headers, before the message is read.
    if (!options.tls.cert_file.empty()) {
      credentials->SetAuthMetadataProcessor(std::make_shared<auth::TokenMetadataProcessor>(server->auth_.get()));
    }
  }
  options.jobs.on_ready = [self] { self->OnWorkersReady(); };
  jobs::ResultEncoder encoder = options.encoder ? options.encoder : MakeVideoEncoder();
  std::unique_ptr<jobs::JobStore> store;
  jobs::SpecDecoder decode_spec = [limits = options.limits](const std::string& persisted,
                                                            std::optional<CancelToken::Clock::time_point> deadline) {
    return FromPersistedRequest(persisted, limits, deadline);
  };
  if (!options.job_store.empty()) {
    jobs::PostgresJobStoreOptions store_options;
    store_options.dsn = options.job_store;
    store_options.replica_id = options.replica_id;
    store_options.retention = options.jobs.retention;
    store_options.max_queue = options.jobs.max_queue;
    store_options.lease = options.job_lease;
    store_options.max_crashes = options.max_job_crashes;
    store_options.clock = options.jobs.clock;
    store_options.decode_spec = std::move(decode_spec);
    ASSIGN_OR_RETURN(store, jobs::PostgresJobStore::Open(std::move(store_options)));
  } else if (!options.state_dir.empty()) {
    jobs::SqliteJobStoreOptions store_options;
    store_options.state_dir = options.state_dir;
    store_options.retention = options.jobs.retention;
    store_options.max_crashes = options.max_job_crashes;
    store_options.clock = options.jobs.clock;
    store_options.decode_spec = std::move(decode_spec);
    ASSIGN_OR_RETURN(store, jobs::SqliteJobStore::Open(std::move(store_options)));
  }
  ASSIGN_OR_RETURN(server->manager_, jobs::JobManager::Create(std::move(options.jobs), std::move(devices),
                                                              std::move(encoder), listener, std::move(store)));

  ServiceContext context;
  context.jobs = server->manager_.get();
  context.limits = options.limits;
  context.auth = server->auth_.get();
  context.streams = &server->streams_;
  context.decode_pool = server->decode_pool_.get();
  server->service_ = std::make_unique<VideoGenerationService>(context);

  grpc::EnableDefaultHealthCheckService(true);
  if (options.reflection) grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  if (!options.reflection) builder.SetOption(std::make_unique<WithoutReflection>());
  builder.AddListeningPort(options.listen, credentials, &server->port_);
  builder.RegisterService(server->service_.get());
  builder.SetMaxReceiveMessageSize(options.max_request_bytes);
  grpc::ResourceQuota quota("videogen-server");
  quota.Resize(options.grpc_memory_bytes != 0 ? options.grpc_memory_bytes
                                              : size_t{4} * static_cast<size_t>(options.max_request_bytes));
  builder.SetResourceQuota(quota);
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
  const bool serving = workers_ready_ && !shutting_down_;
  grpc::HealthCheckServiceInterface* health = server_->GetHealthCheckService();
  if (health != nullptr) {
    health->SetServingStatus(serving);
    health->SetServingStatus(kServiceName, serving);
  }
  if (serving != serving_) logging::LogEvent("health", {{"status", serving ? "SERVING" : "NOT_SERVING"}});
  serving_ = serving;
}

void VideoGenServer::OnWorkersReady() {
  absl::MutexLock lock(&mu_);
  workers_ready_ = true;
  UpdateHealthLocked();
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
  logging::LogEvent("drain_started", {{"timeout_ms", absl::StrCat(absl::ToInt64Milliseconds(drain_timeout))}});
  manager_->Shutdown(drain_timeout);
  if (!streams_.WaitIdle(kFlushGrace)) logging::LogEvent("flush_timeout");
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  server_->Wait();
  logging::LogEvent("drain_finished");
}

}  // namespace videogen::service
