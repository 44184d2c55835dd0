#include "client/signal_watcher.h"

#include <signal.h>

namespace videogen::client {
namespace {

constexpr int kWakeSignal = SIGUSR2;

sigset_t WatchedSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, kWakeSignal);
  return set;
}

}  // namespace

void SignalWatcher::BlockSignals() {
  const sigset_t set = WatchedSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

SignalWatcher::SignalWatcher(std::function<void(int)> on_signal)
    : on_signal_(std::move(on_signal)), thread_([this] { Loop(); }) {}

SignalWatcher::~SignalWatcher() {
  stopping_.store(true);
  pthread_kill(thread_.native_handle(), kWakeSignal);
  thread_.join();
}

void SignalWatcher::Loop() {
  const sigset_t set = WatchedSignals();
  while (true) {
    int signo = 0;
    if (sigwait(&set, &signo) != 0) continue;
    if (stopping_.load()) return;
    if (signo == SIGINT || signo == SIGTERM) on_signal_(signo);
  }
}

}  // namespace videogen::client
