// The bearer-token check inside gRPC's server auth filter: a call without the
// token is refused (UNAUTHENTICATED) from its headers, before its request
// message is read, so an unauthenticated client cannot make the server buffer
// request bodies. gRPC 1.51 runs an AuthMetadataProcessor for secure (TLS)
// server credentials only; plaintext servers still check the token in the
// service, after the message arrived (bounded by --grpc-memory-bytes).
#pragma once

#include <grpcpp/security/auth_metadata_processor.h>

#include "server/auth/token_authenticator.h"

namespace videogen::auth {

// Thread-safe (immutable); `auth` is not owned and must outlive the server.
// Calls to gRPC health and reflection need no token (as in the service).
class TokenMetadataProcessor final : public grpc::AuthMetadataProcessor {
 public:
  explicit TokenMetadataProcessor(const TokenAuthenticator* auth) : auth_(auth) {}

  // Constant-time and non-blocking: runs on gRPC's thread.
  bool IsBlocking() const override { return false; }
  grpc::Status Process(const InputMetadata& auth_metadata, grpc::AuthContext* context,
                       OutputMetadata* consumed_auth_metadata, OutputMetadata* response_metadata) override;

 private:
  const TokenAuthenticator* const auth_;
};

}  // namespace videogen::auth
