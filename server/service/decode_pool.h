// The service's own threads for the per-request work too heavy for a gRPC
// reactor thread: decoding a GenerateVideo request's images (up to
// RequestLimits' 4096x4096, tens of MiB decoded) and submitting the job
// (the job store's write). A reactor validates the cheap fields, checks the
// queue's capacity, hands the rest over with Run() and returns; the task
// continues the call (its first write or its error) when it is done.
//
// Bounded twice: `threads` decode at once (so at most that many decoded
// images exist before their jobs are queued), and at most `max_tasks` are
// admitted (running or waiting); beyond that Run() refuses with
// ResourceExhausted and the caller answers the call with it. Admitted tasks
// do not count against the job queue's capacity: a task whose job finds the
// queue full after decoding is refused by JobManager::Submit.
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace videogen::service {

struct DecodePoolOptions {
  int threads = 2;    // tasks running at once, >= 1
  int max_tasks = 8;  // tasks admitted (running + waiting), >= threads
  // Test only: runs on the pool's thread before each task (e.g. to hold a
  // decode until a test has observed it); empty in production.
  std::function<void()> before_task;
};

// Thread-safe. Owns its threads ("vg-decode-N").
class DecodePool {
 public:
  // InvalidArgument for counts out of range.
  static absl::StatusOr<std::unique_ptr<DecodePool>> Create(DecodePoolOptions options);
  // Refuses new tasks, runs every admitted one to its end, joins the threads.
  ~DecodePool();

  // Takes `task` over and runs it once on a pool thread. ResourceExhausted
  // (the task is destroyed without running) when max_tasks are admitted;
  // Unavailable once the pool is being destroyed. The task must not throw.
  absl::Status Run(std::function<void()> task);

  // Tasks admitted and not yet finished.
  int admitted() const;

 private:
  explicit DecodePool(DecodePoolOptions options);
  void Loop();

  // Constant after construction.
  const DecodePoolOptions options_;
  std::vector<std::thread> threads_;

  mutable absl::Mutex mu_;
  std::deque<std::function<void()>> waiting_ ABSL_GUARDED_BY(mu_);
  int admitted_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace videogen::service
