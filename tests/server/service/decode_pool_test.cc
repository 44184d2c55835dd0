#include "server/service/decode_pool.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <memory>

#include "absl/synchronization/notification.h"

namespace videogen::service {
namespace {

using ::testing::HasSubstr;

TEST(DecodePoolTest, RefusesCountsOutOfRange) {
  DecodePoolOptions options;
  options.threads = 0;
  EXPECT_EQ(DecodePool::Create(options).status().code(), absl::StatusCode::kInvalidArgument);
  options.threads = 2;
  options.max_tasks = 1;
  auto refused = DecodePool::Create(options);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(refused.status().message(), HasSubstr("decode queue"));
}

TEST(DecodePoolTest, AdmitsAtMostMaxTasksAndRunsThemAll) {
  absl::Notification started, release;
  DecodePoolOptions options;
  options.threads = 1;
  options.max_tasks = 3;
  auto pool = DecodePool::Create(options);
  ASSERT_TRUE(pool.ok()) << pool.status();
  std::atomic<int> ran{0};
  ASSERT_TRUE((*pool)->Run([&] {
    started.Notify();
    release.WaitForNotification();
    ++ran;
  }).ok());
  started.WaitForNotification();  // the one thread is busy
  EXPECT_TRUE((*pool)->Run([&] { ++ran; }).ok());
  EXPECT_TRUE((*pool)->Run([&] { ++ran; }).ok());
  EXPECT_EQ((*pool)->admitted(), 3);
  bool refused_ran = false;
  const absl::Status full = (*pool)->Run([&] { refused_ran = true; });
  EXPECT_EQ(full.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(full.message(), HasSubstr("image decoding: 3 requests"));
  release.Notify();
  pool->reset();  // runs what was admitted, then joins
  EXPECT_EQ(ran.load(), 3);
  EXPECT_FALSE(refused_ran);
}

TEST(DecodePoolTest, BeforeTaskRunsOnThePoolThreadBeforeEachTask) {
  std::atomic<int> before{0};
  DecodePoolOptions options;
  options.threads = 2;
  options.max_tasks = 4;
  options.before_task = [&] { ++before; };
  auto pool = DecodePool::Create(options);
  ASSERT_TRUE(pool.ok()) << pool.status();
  std::atomic<int> seen_before{0};
  absl::Notification done;
  ASSERT_TRUE((*pool)->Run([&] {
    seen_before = before.load();
    done.Notify();
  }).ok());
  done.WaitForNotification();
  EXPECT_EQ(seen_before.load(), 1);
}

}  // namespace
}  // namespace videogen::service
