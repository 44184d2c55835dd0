// What the RPC handlers share: the job manager, the request limits and the
// authenticator. Owned by VideoGenServer; everything outlives the RPCs.
#pragma once

#include "absl/status/status.h"
#include "server/auth/token_authenticator.h"
#include "server/jobs/job_manager.h"
#include "server/service/active_streams.h"
#include "server/service/decode_pool.h"
#include "server/service/request_limits.h"

namespace grpc {
class ServerContextBase;
}

namespace videogen::service {

struct ServiceContext {
  jobs::JobManager* jobs = nullptr;  // required
  RequestLimits limits;
  const auth::TokenAuthenticator* auth = nullptr;  // null: no authentication
  ActiveStreams* streams = nullptr;                // required
  DecodePool* decode_pool = nullptr;               // required: GenerateVideo decodes images there

  // OK, or Unauthenticated when a token is required and missing or wrong.
  absl::Status Authenticate(const grpc::ServerContextBase& call) const {
    return auth == nullptr ? absl::OkStatus() : auth->Check(call);
  }
};

}  // namespace videogen::service
