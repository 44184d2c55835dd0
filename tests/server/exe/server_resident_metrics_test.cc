// videogen_resident_bytes through the real videogen-server binary with the
// embedded tiny i2v model (issue #10): the series come from the residency
// account at each scrape. Resident components are > 0; with a --host-memory
// where the plan streams T5 from its checkpoint (host-only
// encoders-after-use), T5's series exists once a request has encoded and
// is back at 0 afterwards.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "engine/memory/model_headers.h"
#include "engine/memory/planner.h"
#include "engine/pipeline/tiny_model.h"
#include "tests/server/exe/test_util.h"

namespace videogen::testing {
namespace {

// Sum of the videogen_resident_bytes samples per component label; a
// component without any sample is absent.
std::map<std::string, double> ResidentBytes(const std::string& page) {
  std::map<std::string, double> out;
  constexpr absl::string_view kName = "videogen_resident_bytes{";
  for (absl::string_view line : absl::StrSplit(page, '\n')) {
    if (line.substr(0, kName.size()) != kName) continue;
    const size_t c = line.find("component=\"");
    const size_t space = line.rfind(' ');
    if (c == absl::string_view::npos || space == absl::string_view::npos) continue;
    const size_t start = c + 11;
    const std::string component(line.substr(start, line.find('"', start) - start));
    double v = 0;
    if (absl::SimpleAtod(line.substr(space + 1), &v)) out[component] += v;
  }
  return out;
}

TEST(ServerResidentMetricsTest, ResidentBytesFollowTheAccountAndAStreamedT5ReturnsToZero) {
  const std::string cache =
      (std::filesystem::temp_directory_path() / ("vg_resident_" + std::to_string(::getpid()))).string();
  pipeline::TinyModelOptions tiny;
  tiny.type = pipeline::ModelType::kI2V;
  auto dir = pipeline::EnsureTinyModel(cache, tiny);
  ASSERT_TRUE(dir.ok()) << dir.status();

  // The host budget of the plan that streams T5 (the default request).
  auto headers = memory::ReadModelHeaders(*dir);
  ASSERT_TRUE(headers.ok()) << headers.status();
  // The server plans for the model's default request (videogen.json "defaults").
  std::ifstream config(*dir + "/videogen.json");
  const nlohmann::json defaults = nlohmann::json::parse(config, nullptr, /*allow_exceptions=*/false)["defaults"];
  ASSERT_TRUE(defaults.is_object()) << *dir << "/videogen.json has no defaults";
  memory::RequestShape shape;
  shape.width = defaults.value("width", 0);
  shape.height = defaults.value("height", 0);
  shape.frames = defaults.value("num_frames", 0);
  auto resident_plan = memory::MakePlan(*headers, shape, memory::Budgets{0, uint64_t{1} << 40});
  ASSERT_TRUE(resident_plan.ok()) << resident_plan.status();
  memory::Plan candidate = *resident_plan;
  candidate.offload = OffloadMode::kEncodersAfterUse;
  auto streamed_plan = memory::EvaluateRequest(*headers, candidate, shape);
  ASSERT_TRUE(streamed_plan.ok()) << streamed_plan.status();
  ASSERT_LT(streamed_plan->peak_host, resident_plan->peak_host);

  for (const bool streamed : {false, true}) {
    SCOPED_TRACE(streamed ? "T5 streamed" : "all resident");
    std::vector<std::string> args = {"--model-dir", *dir};
    if (streamed) {
      args.push_back("--host-memory");
      args.push_back(std::to_string(streamed_plan->peak_host));
    }
    auto server = ServerProcess::Start(args);
    ASSERT_TRUE(server.ok()) << server.status();
    auto stub = Connect(**server);
    v1::GenerateVideoRequest request;
    request.set_model(std::filesystem::path(*dir).filename().string());
    request.set_prompt("a lighthouse at dusk");
    request.set_image(ExampleImage());
    request.set_steps(2);
    request.set_num_frames(5);
    request.set_seed(3);
    JobStream s = Generate(*stub, request);
    ASSERT_TRUE(s.status.ok()) << s.status.error_message();
    ASSERT_NE(s.completed(), nullptr);

    auto page = HttpGet((*server)->metrics_port(), "/metrics");
    ASSERT_TRUE(page.ok()) << page.status();
    const std::map<std::string, double> bytes = ResidentBytes(*page);
    for (const char* component : {"dit", "clip", "vae"}) {
      ASSERT_EQ(bytes.count(component), 1u) << component << "\n" << *page;
      EXPECT_GT(bytes.at(component), 0) << component;
    }
    ASSERT_EQ(bytes.count("t5"), 1u) << *page;
    if (streamed) {
      EXPECT_EQ(bytes.at("t5"), 0) << "the streamed T5 holds nothing once encoding is over";
    } else {
      EXPECT_GT(bytes.at("t5"), 0);
    }
    EXPECT_EQ((*server)->SignalAndWait(SIGTERM), 0);
  }
  std::filesystem::remove_all(cache);
}

}  // namespace
}  // namespace videogen::testing
