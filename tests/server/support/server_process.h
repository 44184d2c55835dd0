// Test support: runs the real videogen-server binary as a child process on
// 127.0.0.1:0 and reads the bound ports from its stdout
// ("videogen-server: listening on HOST:PORT", "... metrics on HOST:PORT").
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace videogen::testing {

// Path of build/bin/videogen-server (from VIDEOGEN_BINARY_DIR).
std::string ServerBinaryPath();

class ServerProcess {
 public:
  // Starts the binary with `args` plus --listen/--metrics-listen on
  // 127.0.0.1:0 unless `args` name them, and waits (up to 60 s) for both ports to be printed. Unless
  // `args` name --state-dir, the server gets a fresh temporary state
  // directory of its own (removed with this object).
  // Errors: Internal when it cannot start or exits early (with its stderr).
  static absl::StatusOr<std::unique_ptr<ServerProcess>> Start(const std::vector<std::string>& args);
  // Kills the process (SIGKILL) if it still runs.
  ~ServerProcess();

  int port() const { return port_; }
  int metrics_port() const { return metrics_port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  pid_t pid() const { return pid_; }
  // Sends `signal` and waits for the exit; returns the exit status (128+n when killed by signal n).
  int SignalAndWait(int signal);
  // Waits for the exit without signalling.
  int Wait();
  // What the server wrote to stderr so far (its structured logs).
  std::string Logs() const;

 private:
  ServerProcess() = default;
  pid_t pid_ = -1;
  int port_ = 0;
  int metrics_port_ = 0;
  std::string log_path_;
  std::string own_state_dir_;  // made by Start(); removed by the destructor
  bool exited_ = false;
};

// GET http://127.0.0.1:port/path; returns the body. Internal on errors.
absl::StatusOr<std::string> HttpGet(int port, const std::string& path);

}  // namespace videogen::testing
