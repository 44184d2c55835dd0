// VideoGenServer: the job manager, the VideoGeneration service, the standard
// health service and server reflection on one gRPC server.
//
// Health ("" and "videogen.v1.VideoGeneration"): NOT_SERVING until every
// worker has warmed up, SERVING after, NOT_SERVING again once Shutdown starts.
// Shutdown order: health NOT_SERVING -> stop accepting jobs (GenerateVideo
// answers UNAVAILABLE; health, GetJob and WatchJob still answer) -> fail
// queued jobs with UNAVAILABLE -> let running jobs finish within the drain
// timeout (then cancel them) -> job streams deliver their last events (up to
// a flush grace) -> the gRPC server stops, cancelling what remains (e.g.
// health watches).
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/auth/server_credentials.h"
#include "server/auth/token_authenticator.h"
#include "server/jobs/job_manager.h"
#include "server/service/decode_pool.h"
#include "server/service/request_limits.h"
#include "server/service/video_generation_service.h"

namespace videogen::service {

struct ServerOptions {
  std::string listen = "127.0.0.1:50051";  // HOST:PORT; port 0 picks a free one; loopback unless told
  auth::TlsOptions tls;                  // empty cert: plaintext
  std::string auth_token_file;           // empty: no authentication
  RequestLimits limits;
  int max_request_bytes = 40 << 20;  // largest accepted request message
  // Memory gRPC's transport may hold for all connections together, incoming
  // messages included (grpc::ResourceQuota): what clients, authenticated or
  // not, can make the server buffer. 0: 4 x max_request_bytes.
  size_t grpc_memory_bytes = 0;
  bool reflection = true;
  jobs::JobManagerOptions jobs;  // on_ready is taken over by the server
  // Where jobs, results and idempotency keys persist (jobs::SqliteJobStore);
  // a server restarted on the same directory resumes them. Empty: kept in
  // memory only (lost with the process).
  std::string state_dir;
  // With a state_dir: a job that was running each of this many times the
  // server died fails with INTERNAL instead of running again (with a
  // job_store: each of this many times its server died).
  int max_job_crashes = 3;
  // A PostgreSQL DSN (postgres://...): the jobs, their queue and results are
  // shared with every server on the same database (jobs::PostgresJobStore)
  // and state_dir is not used. Empty: state_dir decides.
  std::string job_store;
  // With a job_store: this server's id in the fleet (default
  // HOSTNAME-PID-RANDOM) and the lease a worker holds on a claimed job.
  std::string replica_id;
  absl::Duration job_lease = absl::Seconds(30);
  // Threads that decode GenerateVideo's images and submit the jobs, off
  // gRPC's threads (DecodePool; before_task is a test hook).
  DecodePoolOptions decode;
  // How workers encode frames; unset: MakeVideoEncoder() (engine/media + sha256).
  // Benchmarks and tests may substitute a cheaper one.
  jobs::ResultEncoder encoder;
};

// Thread-safe.
class VideoGenServer {
 public:
  // Starts the workers and the server. `listener` (nullable) must outlive it.
  // Errors: InvalidArgument for bad options, NotFound / PermissionDenied for
  // files that cannot be read, Unavailable when the address cannot be bound,
  // errors of JobManager::Create, jobs::SqliteJobStore::Open (e.g.
  // FailedPrecondition when another server holds state_dir) and
  // jobs::PostgresJobStore::Open (Unavailable when the database cannot be
  // reached).
  static absl::StatusOr<std::unique_ptr<VideoGenServer>> Create(ServerOptions options,
                                                                std::vector<jobs::Device> devices,
                                                                jobs::JobListener* listener);
  // Shutdown(absl::ZeroDuration()) unless already shut down.
  ~VideoGenServer();

  int port() const { return port_; }
  jobs::JobManager& jobs() { return *manager_; }
  bool serving() const;

  // See the file comment. Idempotent; blocks until the server stopped.
  void Shutdown(absl::Duration drain_timeout);

 private:
  VideoGenServer() = default;
  void OnWorkersReady();
  void UpdateHealthLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  std::unique_ptr<jobs::JobManager> manager_;
  std::unique_ptr<auth::TokenAuthenticator> auth_;
  ActiveStreams streams_;
  // Destroyed (its tasks finished) after the gRPC server, before the jobs.
  std::unique_ptr<DecodePool> decode_pool_;
  std::unique_ptr<VideoGenerationService> service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;

  mutable absl::Mutex mu_;
  bool workers_ready_ ABSL_GUARDED_BY(mu_) = false;
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  bool shutting_down_ ABSL_GUARDED_BY(mu_) = false;
  bool serving_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace videogen::service
