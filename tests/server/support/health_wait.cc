#include "tests/server/support/health_wait.h"

#include <grpcpp/grpcpp.h>

#include <chrono>

#include "absl/strings/str_cat.h"
#include "health.grpc.pb.h"

namespace videogen::testing {

absl::Status WaitUntilServing(const std::string& address, absl::Duration timeout) {
  auto health = grpc::health::v1::Health::NewStub(grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + absl::ToChronoMilliseconds(timeout));
  auto watch = health->Watch(&ctx, grpc::health::v1::HealthCheckRequest());
  grpc::health::v1::HealthCheckResponse update;
  while (watch->Read(&update)) {
    if (update.status() == grpc::health::v1::HealthCheckResponse::SERVING) return absl::OkStatus();
  }
  const grpc::Status end = watch->Finish();
  if (end.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
    return absl::DeadlineExceededError(absl::StrCat(address, " did not report SERVING within ", absl::FormatDuration(timeout)));
  }
  return absl::UnavailableError(absl::StrCat("health watch of ", address, " ended: ", end.error_message()));
}

}  // namespace videogen::testing
