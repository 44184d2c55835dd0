#include "server/log/log.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <regex>
#include <string>

namespace videogen::logging {
namespace {

// Runs `log` with stderr redirected into a pipe and returns what it wrote.
template <typename F>
std::string CaptureStderr(F log) {
  int fds[2];
  EXPECT_EQ(pipe(fds), 0);
  const int saved = dup(STDERR_FILENO);
  dup2(fds[1], STDERR_FILENO);
  log();
  dup2(saved, STDERR_FILENO);
  close(saved);
  close(fds[1]);
  std::string text;
  char buffer[4096];
  for (ssize_t n; (n = read(fds[0], buffer, sizeof(buffer))) > 0;) text.append(buffer, static_cast<size_t>(n));
  close(fds[0]);
  return text;
}

TEST(LogEventTest, WritesOneLogfmtLineWithTimestampEventAndFieldsInOrder) {
  const std::string line =
      CaptureStderr([] { LogEvent("job_queued", {{"job_id", "job-1"}, {"model", "fake"}, {"priority", "0"}}); });
  EXPECT_TRUE(std::regex_match(
      line, std::regex(R"(ts=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z event=job_queued job_id=job-1 model=fake priority=0\n)")))
      << line;
}

TEST(LogEventTest, WithoutFieldsWritesTheEventOnly) {
  const std::string line = CaptureStderr([] { LogEvent("stopped"); });
  EXPECT_THAT(line, ::testing::EndsWith(" event=stopped\n"));
}

TEST(LogEventTest, QuotesAndEscapesValuesThatNeedIt) {
  const std::string line = CaptureStderr([] {
    LogEvent("job_rejected", {{"error", "INVALID_ARGUMENT: a \"b\"=c"}, {"empty", ""}, {"multi", "x\ny\\z"}});
  });
  EXPECT_THAT(line, ::testing::EndsWith(
                        " event=job_rejected error=\"INVALID_ARGUMENT: a \\\"b\\\"=c\" empty=\"\" multi=\"x\\ny\\\\z\"\n"));
}

}  // namespace
}  // namespace videogen::logging
