// Test support: a child process with its stdout and stderr captured by a
// reader thread, so tests can wait for a given line (no sleeps) and the child
// never blocks on a full pipe.
#pragma once

#include <sys/types.h>

#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace videogen::testing {

struct ProcessResult {
  int exit_code = -1;  // -1 when killed by a signal
  int term_signal = 0;
  std::string out;
  std::string err;
};

// Thread-compatible: one test thread drives it; the reader thread is internal.
class Subprocess {
 public:
  // Starts `argv` with exactly `env` as its environment (plus PATH). Aborts
  // the test (ADD_FAILURE + exit code -1 from Wait) when spawning fails.
  Subprocess(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env);
  // Kills (SIGKILL) and reaps the child if Wait() was not called.
  ~Subprocess();
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  pid_t pid() const { return pid_; }
  void Signal(int signo);

  // Blocks until `pred(stdout, stderr)` holds or the child's output ends or
  // `timeout` passes (a safety net; tests are synchronised by the output).
  // Returns whether the predicate held.
  bool WaitFor(const std::function<bool(const std::string& out, const std::string& err)>& pred,
               absl::Duration timeout = absl::Seconds(60));
  bool WaitForStdout(const std::string& needle, absl::Duration timeout = absl::Seconds(60));
  bool WaitForStderr(const std::string& needle, absl::Duration timeout = absl::Seconds(60));

  std::string out() const;
  std::string err() const;

  // Waits for the child to exit and its output to end.
  ProcessResult Wait();

 private:
  void ReadLoop(int out_fd, int err_fd);

  pid_t pid_ = -1;
  bool waited_ = false;
  ProcessResult result_;
  std::thread reader_;

  mutable absl::Mutex mu_;
  std::string out_ ABSL_GUARDED_BY(mu_);
  std::string err_ ABSL_GUARDED_BY(mu_);
  bool eof_ ABSL_GUARDED_BY(mu_) = false;
};

// Runs to completion.
ProcessResult RunProcess(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env = {});

}  // namespace videogen::testing
