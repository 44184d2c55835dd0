#include "server/auth/token_metadata_processor.h"

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/string_view.h"

namespace videogen::auth {
namespace {

absl::string_view View(const grpc::string_ref& s) { return absl::string_view(s.data(), s.size()); }

}  // namespace

grpc::Status TokenMetadataProcessor::Process(const InputMetadata& auth_metadata, grpc::AuthContext* /*context*/,
                                             OutputMetadata* /*consumed_auth_metadata*/,
                                             OutputMetadata* /*response_metadata*/) {
  const auto path = auth_metadata.find(":path");
  // Without a path (not seen with gRPC 1.51) the service still checks the token.
  if (path == auth_metadata.end()) return grpc::Status::OK;
  const absl::string_view method = View(path->second);
  if (absl::StartsWith(method, "/grpc.health.v1.Health/") || absl::StartsWith(method, "/grpc.reflection.")) {
    return grpc::Status::OK;
  }
  const auto header = auth_metadata.find("authorization");
  const absl::Status status = auth_->CheckHeader(header == auth_metadata.end() ? "" : View(header->second));
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, std::string(status.message()));
}

}  // namespace videogen::auth
