// The `videogen` CLI's exit codes, and how RPC statuses and job outcomes map
// onto them. The codes are part of the CLI's contract (scripts test them):
//
//   0  ok
//   1  other error: local I/O (cannot read the image, cannot write the output),
//      integrity check failed (size or sha256 of the received video), or an
//      unexpected server error (INTERNAL, UNKNOWN, UNIMPLEMENTED, DATA_LOSS, ...)
//   2  usage or invalid argument (bad flag, or the server's INVALID_ARGUMENT /
//      OUT_OF_RANGE / NOT_FOUND / FAILED_PRECONDITION; the message is shown as is)
//   3  unavailable: the server is unreachable, not serving, overloaded
//      (RESOURCE_EXHAUSTED at submission) or the --timeout passed
//   4  the job failed on the server
//   5  cancelled (Ctrl-C cancelled the job, or it was cancelled by someone else)
//   6  authentication or permission denied (UNAUTHENTICATED, PERMISSION_DENIED)
//   130 a second Ctrl-C: exited at once without waiting for the cancellation
#pragma once

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace videogen::client {

enum class ExitCode : int {
  kOk = 0,
  kError = 1,
  kUsage = 2,
  kUnavailable = 3,
  kJobFailed = 4,
  kCancelled = 5,
  kAuth = 6,
  kInterrupted = 130,
};

inline int ToInt(ExitCode code) { return static_cast<int>(code); }

// Exit code for an RPC that ended with `code` (the call itself failed: the job
// may never have been created).
ExitCode ExitCodeForRpc(grpc::StatusCode code);

// Exit code for a job that ended with a `Failed` event carrying `code` (a
// google.rpc.Code value): CANCELLED -> kCancelled; argument errors -> kUsage;
// auth errors -> kAuth; UNAVAILABLE (the server drained) -> kUnavailable;
// anything else (the job ran and failed, OOM included) -> kJobFailed.
ExitCode ExitCodeForJobFailure(int code);

// Exit code for a local error (absl::Status from the client's own code):
// InvalidArgument -> kUsage; Unavailable/DeadlineExceeded -> kUnavailable;
// Cancelled -> kCancelled; Unauthenticated/PermissionDenied -> kAuth; else kError.
ExitCode ExitCodeForLocal(const absl::Status& status);

// "INVALID_ARGUMENT", "UNAVAILABLE", ... for a gRPC / google.rpc code value.
const char* StatusCodeName(int code);

}  // namespace videogen::client
