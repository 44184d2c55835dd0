// The ResultEncoder the server gives its workers: engine/media's in-memory
// encoder plus the SHA-256 of the file. Runs on worker threads.
#pragma once

#include "server/jobs/worker_pool.h"

namespace videogen::service {

// Thread-safe (reentrant). Errors as media::EncodeVideo.
jobs::ResultEncoder MakeVideoEncoder();

}  // namespace videogen::service
