#include "client/progress.h"

#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "absl/strings/str_split.h"

namespace videogen::client {
namespace {

v1::JobEvent Accepted(const std::string& id, uint32_t position) {
  v1::JobEvent e;
  e.set_job_id(id);
  e.mutable_accepted()->set_job_id(id);
  e.mutable_accepted()->set_queue_position(position);
  return e;
}

v1::JobEvent Queued(uint32_t position) {
  v1::JobEvent e;
  e.set_job_id("j1");
  e.mutable_queued()->set_position(position);
  return e;
}

v1::JobEvent Progress(v1::Stage stage, uint32_t step, uint32_t total, int elapsed_s, int eta_s) {
  v1::JobEvent e;
  e.set_job_id("j1");
  auto* p = e.mutable_progress();
  p->set_stage(stage);
  p->set_step(step);
  p->set_total_steps(total);
  p->mutable_elapsed()->set_seconds(elapsed_s);
  p->mutable_eta()->set_seconds(eta_s);
  return e;
}

v1::JobEvent Chunk(uint64_t offset, const std::string& data) {
  v1::JobEvent e;
  e.set_job_id("j1");
  e.mutable_video_chunk()->set_offset(offset);
  e.mutable_video_chunk()->set_data(data);
  return e;
}

v1::Completed MakeCompleted() {
  v1::Completed c;
  c.set_container("mp4");
  c.set_codec("h264");
  c.set_width(64);
  c.set_height(48);
  c.set_frames(9);
  c.set_fps(16);
  c.set_bytes(3);
  c.set_sha256("abc");
  c.set_seed(42);
  auto* t = c.add_timings();
  t->set_stage(v1::DENOISING);
  t->mutable_duration()->set_seconds(2);
  return c;
}

std::vector<std::string> Lines(const std::string& text) {
  return absl::StrSplit(text, '\n', absl::SkipEmpty());
}

TEST(ProgressModeTest, Choice) {
  EXPECT_EQ(ChooseProgressMode(true, true, true, false, false), ProgressMode::kJson);
  EXPECT_EQ(ChooseProgressMode(false, true, true, false, false), ProgressMode::kQuiet);
  EXPECT_EQ(ChooseProgressMode(false, false, true, false, false), ProgressMode::kBar);
  EXPECT_EQ(ChooseProgressMode(false, false, false, false, false), ProgressMode::kLines);
  EXPECT_EQ(ChooseProgressMode(false, false, true, true, false), ProgressMode::kLines);
  EXPECT_EQ(ChooseProgressMode(false, false, true, false, true), ProgressMode::kLines);
}

TEST(FormatTest, ClockBytesStages) {
  EXPECT_EQ(FormatClock(absl::Seconds(0)), "0:00");
  EXPECT_EQ(FormatClock(absl::Seconds(65.9)), "1:05");
  EXPECT_EQ(FormatClock(absl::Seconds(3 * 3600 + 2 * 60 + 1)), "3:02:01");
  EXPECT_EQ(FormatClock(absl::Seconds(-5)), "0:00");
  EXPECT_EQ(FormatBytes(812), "812 B");
  EXPECT_EQ(FormatBytes(1536), "1.5 KiB");
  EXPECT_EQ(FormatBytes(3 * 1024 * 1024), "3.0 MiB");
  EXPECT_EQ(StageLabel(v1::VAE_DECODING), "VAE decoding");
}

TEST(ProgressPrinterTest, LinesModeOneLinePerChange) {
  std::ostringstream progress, out;
  ProgressPrinter printer(ProgressMode::kLines, &progress, &out);
  printer.OnEvent(Accepted("j1", 2));
  printer.OnEvent(Queued(2));  // no change: no line
  printer.OnEvent(Queued(1));
  printer.OnEvent(Progress(v1::DENOISING, 1, 4, 5, 15));
  printer.OnEvent(Progress(v1::DENOISING, 1, 4, 6, 14));  // same step: no line
  printer.OnEvent(Progress(v1::DENOISING, 2, 4, 10, 10));
  printer.OnEvent(Progress(v1::DENOISING, 3, 4, 11, 0));  // no estimate: no ETA
  printer.OnEvent(Chunk(0, "ab"));
  printer.OnEvent(Chunk(2, "c"));  // only the first chunk is announced
  EXPECT_EQ(Lines(progress.str()), (std::vector<std::string>{
                                       "[job j1] accepted, queue position 2",
                                       "[job j1] queued, position 1",
                                       "[job j1] denoising 1/4 elapsed 0:05 ETA 0:15",
                                       "[job j1] denoising 2/4 elapsed 0:10 ETA 0:10",
                                       "[job j1] denoising 3/4 elapsed 0:11",
                                       "[job j1] receiving video",
                                   }));
  EXPECT_EQ(out.str(), "");
  EXPECT_EQ(progress.str().find('\r'), std::string::npos);
}

TEST(ProgressPrinterTest, QuietModeMilestonesOnly) {
  std::ostringstream progress, out;
  ProgressPrinter printer(ProgressMode::kQuiet, &progress, &out);
  printer.OnEvent(Accepted("j1", 0));
  printer.OnEvent(Progress(v1::TEXT_ENCODING, 1, 1, 0, 0));
  printer.OnEvent(Progress(v1::DENOISING, 1, 4, 1, 3));
  printer.OnEvent(Progress(v1::DENOISING, 2, 4, 2, 2));
  printer.OnEvent(Progress(v1::VAE_DECODING, 1, 2, 3, 0));
  EXPECT_EQ(Lines(progress.str()), (std::vector<std::string>{
                                       "[job j1] accepted",
                                       "[job j1] text encoding elapsed 0:00",
                                       "[job j1] denoising elapsed 0:01",
                                       "[job j1] VAE decoding elapsed 0:03",
                                   }));
}

TEST(ProgressPrinterTest, BarRedrawsInPlaceWithStepElapsedEtaAndQueuePosition) {
  std::ostringstream progress, out;
  ProgressPrinter printer(ProgressMode::kBar, &progress, &out);
  printer.OnEvent(Accepted("j1", 3));
  printer.OnEvent(Queued(3));
  std::string s = progress.str();
  EXPECT_NE(s.find("\rqueued: position 3"), std::string::npos) << s;
  printer.OnEvent(Progress(v1::DENOISING, 6, 24, 65, 195));
  s = progress.str();
  const std::string bar = "denoising      [######------------------] 6/24  elapsed 1:05  ETA 3:15";
  EXPECT_NE(s.find("\r" + bar), std::string::npos) << s;
  // The bar stays on one line: no newline after it until a line is printed.
  EXPECT_EQ(s.back(), '5');
  // A re-attach message clears the bar, prints a line, and redraws the bar.
  printer.OnReattach(1, 5, 100, "UNAVAILABLE: gone");
  s = progress.str();
  EXPECT_NE(s.find("re-attaching (attempt 1/5) from byte 100\n\r" + bar), std::string::npos) << s;
  // Completion clears the bar; the result goes to `out`.
  v1::JobEvent done;
  done.set_job_id("j1");
  *done.mutable_completed() = MakeCompleted();
  printer.OnEvent(done);
  ResultSummary summary;
  summary.job_id = "j1";
  summary.path = "out.mp4";
  summary.completed = MakeCompleted();
  summary.wall_time = absl::Seconds(3);
  printer.OnResult(summary);
  EXPECT_EQ(out.str().substr(0, 13), "wrote out.mp4");
  EXPECT_NE(out.str().find("seed     42"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("sha256   abc (verified)"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("denoising 2.00s"), std::string::npos) << out.str();
}

TEST(ProgressPrinterTest, JsonModeOneObjectPerEvent) {
  std::ostringstream progress, out;
  ProgressPrinter printer(ProgressMode::kJson, &progress, &out);
  printer.OnEvent(Accepted("j1", 1));
  printer.OnEvent(Progress(v1::DENOISING, 2, 4, 1, 1));
  printer.OnEvent(Chunk(0, "abc"));
  printer.OnReattach(1, 5, 3, "UNAVAILABLE: x");
  v1::JobEvent done;
  done.set_job_id("j1");
  *done.mutable_completed() = MakeCompleted();
  printer.OnEvent(done);
  ResultSummary summary;
  summary.job_id = "j1";
  summary.path = "out.mp4";
  summary.completed = MakeCompleted();
  printer.OnResult(summary);
  printer.OnError(4, "boom");
  const std::vector<std::string> lines = Lines(out.str());
  ASSERT_EQ(lines.size(), 7u) << out.str();
  std::vector<nlohmann::json> j;
  for (const auto& l : lines) j.push_back(nlohmann::json::parse(l));
  EXPECT_EQ(j[0]["type"], "accepted");
  EXPECT_EQ(j[0]["job_id"], "j1");
  EXPECT_EQ(j[0]["queue_position"], 1);
  EXPECT_EQ(j[1]["type"], "progress");
  EXPECT_EQ(j[1]["stage"], "denoising");
  EXPECT_EQ(j[1]["step"], 2);
  EXPECT_EQ(j[1]["total_steps"], 4);
  EXPECT_EQ(j[2]["type"], "video_chunk");
  EXPECT_EQ(j[2]["bytes"], 3);
  EXPECT_FALSE(j[2].contains("data"));
  EXPECT_EQ(j[3]["type"], "reattach");
  EXPECT_EQ(j[3]["from_offset"], 3);
  EXPECT_EQ(j[4]["type"], "completed");
  EXPECT_EQ(j[4]["sha256"], "abc");
  EXPECT_EQ(j[4]["timings_s"]["denoising"], 2.0);
  EXPECT_EQ(j[5]["type"], "result");
  EXPECT_EQ(j[5]["path"], "out.mp4");
  EXPECT_EQ(j[5]["seed"], 42);
  EXPECT_DOUBLE_EQ(j[5]["duration_s"].get<double>(), 9.0 / 16.0);
  EXPECT_EQ(j[6]["type"], "error");
  EXPECT_EQ(j[6]["exit_code"], 4);
  // Progress is not mixed into stdout; the error still gets its stderr line.
  EXPECT_EQ(progress.str(), "videogen: error: boom\n");
}

}  // namespace
}  // namespace videogen::client
