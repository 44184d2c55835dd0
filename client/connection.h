// The client's connection to a videogen server: channel (plaintext, TLS or
// mutual TLS), bearer token, per-call deadlines, and the standard
// grpc.health.v1 check.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "videogen/v1/videogen.grpc.pb.h"

namespace videogen::client {

struct ConnectionOptions {
  std::string server = "localhost:50051";  // host:port (--server / VIDEOGEN_SERVER)
  std::string token;                        // bearer token; "" = none
  bool tls = false;                         // TLS with the system roots (implied by the files below)
  std::string tls_ca_file;                  // PEM roots to verify the server
  std::string tls_cert_file;                // PEM client certificate (mTLS)
  std::string tls_key_file;                 // PEM client key (mTLS)
  // Deadline of unary calls; for streams, of the whole job when set.
  std::optional<absl::Duration> timeout;
};

// The token from --token-file (first line, whitespace trimmed), else from
// $VIDEOGEN_TOKEN, else "". NotFound naming `token_file` when the file cannot
// be read, InvalidArgument naming it when it holds no token.
absl::StatusOr<std::string> ResolveToken(const std::string& token_file, const char* env_token);

enum class HealthState { kServing, kNotServing, kUnknown };

// Thread-safe after Create().
class Connection {
 public:
  // Errors: InvalidArgument naming the flag (`tls_key` without `tls_cert`),
  // NotFound naming the flag when a PEM file cannot be read.
  static absl::StatusOr<std::unique_ptr<Connection>> Create(const ConnectionOptions& options);

  v1::VideoGeneration::Stub* stub() { return stub_.get(); }

  // Adds the token (no deadline).
  void Prepare(grpc::ClientContext* context) const;
  // Like Prepare() with the unary deadline: --timeout or 30 s.
  void PrepareUnary(grpc::ClientContext* context) const;

  // grpc.health.v1.Health/Check for the whole server (service ""). The RPC's
  // status on failure (UNAVAILABLE when unreachable).
  grpc::Status CheckHealth(HealthState* state) const;
  // Waits (grpc.health.v1.Health/Watch, wait-for-ready) until the server
  // reports SERVING or `timeout` passes. OK with *state = kServing, or the
  // RPC's status (DEADLINE_EXCEEDED on timeout, *state = the last reported).
  grpc::Status WaitUntilServing(absl::Duration timeout, HealthState* state) const;


 private:
  Connection(ConnectionOptions options, std::shared_ptr<grpc::Channel> channel);

  const ConnectionOptions options_;
  const std::shared_ptr<grpc::Channel> channel_;
  const std::unique_ptr<v1::VideoGeneration::Stub> stub_;
};

}  // namespace videogen::client
