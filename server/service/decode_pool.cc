#include "server/service/decode_pool.h"

#include <pthread.h>

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"

namespace videogen::service {

absl::StatusOr<std::unique_ptr<DecodePool>> DecodePool::Create(DecodePoolOptions options) {
  if (options.threads < 1 || options.threads > 64) {
    return absl::InvalidArgumentError(absl::StrCat("decode threads: ", options.threads, " is not in [1, 64]"));
  }
  if (options.max_tasks < options.threads || options.max_tasks > 4096) {
    return absl::InvalidArgumentError(absl::StrCat("decode queue: ", options.max_tasks, " is not in [",
                                                   options.threads, " (the threads), 4096]"));
  }
  std::unique_ptr<DecodePool> pool(new DecodePool(std::move(options)));
  for (int i = 0; i < pool->options_.threads; ++i) {
    pool->threads_.emplace_back([p = pool.get(), i] {
      const std::string name = absl::StrCat("vg-decode-", i);
      pthread_setname_np(pthread_self(), name.c_str());
      p->Loop();
    });
  }
  return pool;
}

DecodePool::DecodePool(DecodePoolOptions options) : options_(std::move(options)) {}

DecodePool::~DecodePool() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  for (std::thread& t : threads_) t.join();
}

absl::Status DecodePool::Run(std::function<void()> task) {
  absl::MutexLock lock(&mu_);
  if (stopping_) return absl::UnavailableError("image decoding: the server is stopping");
  if (admitted_ >= options_.max_tasks) {
    return absl::ResourceExhaustedError(absl::StrCat("image decoding: ", admitted_,
                                                     " requests are being decoded or wait for it, the most this "
                                                     "server takes at once; retry later"));
  }
  ++admitted_;
  waiting_.push_back(std::move(task));
  return absl::OkStatus();
}

int DecodePool::admitted() const {
  absl::MutexLock lock(&mu_);
  return admitted_;
}

void DecodePool::Loop() {
  while (true) {
    std::function<void()> task;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return stopping_ || !waiting_.empty(); };
      mu_.Await(absl::Condition(&ready));
      if (waiting_.empty()) return;  // stopping, nothing left
      task = std::move(waiting_.front());
      waiting_.pop_front();
    }
    if (options_.before_task) options_.before_task();
    task();
    task = nullptr;  // what it captured goes before the task counts as finished
    absl::MutexLock lock(&mu_);
    --admitted_;
  }
}

}  // namespace videogen::service
