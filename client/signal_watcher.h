// Delivers SIGINT/SIGTERM to a callback on a dedicated thread (sigwait), so
// that the reaction (e.g. sending CancelJob) runs as ordinary code rather
// than inside an async-signal handler.
#pragma once

#include <pthread.h>

#include <atomic>
#include <functional>
#include <thread>

namespace videogen::client {

class SignalWatcher {
 public:
  // Blocks SIGINT, SIGTERM and the watcher's wake-up signal in the calling
  // thread. Call it in main() before any other thread exists, so that every
  // thread inherits the mask and the signals reach only the watcher.
  static void BlockSignals();

  // Starts the watching thread; `on_signal(signo)` runs on it, one call at a
  // time, for each SIGINT/SIGTERM. It must not block for long.
  explicit SignalWatcher(std::function<void(int)> on_signal);
  // Stops and joins the thread.
  ~SignalWatcher();
  SignalWatcher(const SignalWatcher&) = delete;
  SignalWatcher& operator=(const SignalWatcher&) = delete;

 private:
  void Loop();

  const std::function<void(int)> on_signal_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace videogen::client
