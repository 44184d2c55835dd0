// Test support: a loopback TCP proxy in front of a server, whose open
// connections the test can cut at a moment it chooses (to drop a gRPC stream
// mid-job); connections made afterwards are forwarded normally.
#pragma once

#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace videogen::testing {

// Thread-safe. Owns one thread (poll loop), joined by the destructor.
class TcpProxy {
 public:
  // Listens on 127.0.0.1:0 and forwards to 127.0.0.1:`target_port`.
  explicit TcpProxy(int target_port);
  ~TcpProxy();
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  int port() const { return port_; }
  // Closes every connection open now (both sides). Returns how many were cut.
  int CutAll();
  // Stops forwarding in both directions (bytes wait in the sockets): the
  // peers see a silent network, not a closed one. New connections are still
  // accepted but not served.
  void Freeze();
  // Connections accepted so far.
  int accepted() const;

 private:
  struct Pair {
    int client = -1;
    int upstream = -1;
  };
  void Loop();
  void Wake();

  const int target_port_;
  int listen_fd_ = -1;
  int port_ = 0;
  int wake_[2] = {-1, -1};
  std::thread thread_;

  mutable absl::Mutex mu_;
  std::vector<Pair> pairs_ ABSL_GUARDED_BY(mu_);
  bool cut_requested_ ABSL_GUARDED_BY(mu_) = false;
  int cut_count_ ABSL_GUARDED_BY(mu_) = -1;  // result of the last cut, -1 while pending
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool frozen_ ABSL_GUARDED_BY(mu_) = false;
  int accepted_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace videogen::testing
