#include "tests/client/tcp_proxy.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include <gtest/gtest.h>

namespace videogen::testing {
namespace {

int ConnectLoopback(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return -1;
  }
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

// Copies what is readable from `from` to `to`. False when `from` ended or failed.
bool Pump(int from, int to) {
  char buf[65536];
  const ssize_t n = read(from, buf, sizeof(buf));
  if (n <= 0) return n < 0 && (errno == EINTR || errno == EAGAIN);
  ssize_t done = 0;
  while (done < n) {
    const ssize_t w = write(to, buf + done, static_cast<size_t>(n - done));
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    done += w;
  }
  return true;
}

}  // namespace

TcpProxy::TcpProxy(int target_port) : target_port_(target_port) {
  listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = 0;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || listen(listen_fd_, 16) != 0 ||
      getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ADD_FAILURE() << "proxy: cannot listen: " << strerror(errno);
  }
  port_ = ntohs(addr.sin_port);
  if (pipe2(wake_, O_CLOEXEC | O_NONBLOCK) != 0) ADD_FAILURE() << "proxy: pipe failed";
  thread_ = std::thread([this] { Loop(); });
}

TcpProxy::~TcpProxy() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  Wake();
  thread_.join();
  absl::MutexLock lock(&mu_);
  for (const Pair& p : pairs_) {
    close(p.client);
    close(p.upstream);
  }
  close(listen_fd_);
  close(wake_[0]);
  close(wake_[1]);
}

void TcpProxy::Wake() {
  const char c = 1;
  if (write(wake_[1], &c, 1) < 0) {
    // The pipe is full: the loop is already due to wake.
  }
}

int TcpProxy::CutAll() {
  absl::MutexLock lock(&mu_);
  cut_requested_ = true;
  cut_count_ = -1;
  Wake();
  mu_.Await(absl::Condition(
      +[](int* count) { return *count >= 0; }, &cut_count_));
  return cut_count_;
}

void TcpProxy::Freeze() {
  absl::MutexLock lock(&mu_);
  frozen_ = true;
  Wake();
}

int TcpProxy::accepted() const {
  absl::MutexLock lock(&mu_);
  return accepted_;
}

void TcpProxy::Loop() {
  while (true) {
    std::vector<pollfd> fds;
    std::vector<Pair> pairs;
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
      if (cut_requested_) {
        for (const Pair& p : pairs_) {
          shutdown(p.client, SHUT_RDWR);
          shutdown(p.upstream, SHUT_RDWR);
          close(p.client);
          close(p.upstream);
        }
        cut_count_ = static_cast<int>(pairs_.size());
        pairs_.clear();
        cut_requested_ = false;
      }
      if (!frozen_) pairs = pairs_;
    }
    fds.push_back({wake_[0], POLLIN, 0});
    fds.push_back({listen_fd_, POLLIN, 0});
    for (const Pair& p : pairs) {
      fds.push_back({p.client, POLLIN, 0});
      fds.push_back({p.upstream, POLLIN, 0});
    }
    if (poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[0].revents) {
      char drain[64];
      while (read(wake_[0], drain, sizeof(drain)) > 0) {
      }
    }
    if (fds[1].revents & POLLIN) {
      const int client = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (client >= 0) {
        const int upstream = ConnectLoopback(target_port_);
        absl::MutexLock lock(&mu_);
        ++accepted_;
        if (upstream < 0) {
          close(client);
        } else {
          const int one = 1;
          setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
          pairs_.push_back({client, upstream});
        }
      }
    }
    std::vector<int> dead;  // indexes into `pairs`
    for (size_t i = 0; i < pairs.size(); ++i) {
      const pollfd& c = fds[2 + 2 * i];
      const pollfd& u = fds[3 + 2 * i];
      bool alive = true;
      if (c.revents) alive = Pump(pairs[i].client, pairs[i].upstream);
      if (alive && u.revents) alive = Pump(pairs[i].upstream, pairs[i].client);
      if (!alive) dead.push_back(static_cast<int>(i));
    }
    if (!dead.empty()) {
      absl::MutexLock lock(&mu_);
      for (int i : dead) {
        const Pair p = pairs[i];
        for (size_t j = 0; j < pairs_.size(); ++j) {
          if (pairs_[j].client == p.client) {
            close(p.client);
            close(p.upstream);
            pairs_.erase(pairs_.begin() + static_cast<long>(j));
            break;
          }
        }
      }
    }
  }
}

}  // namespace videogen::testing
