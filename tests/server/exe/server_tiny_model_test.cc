// The real videogen-server binary with the embedded tiny Wan2.1 model
// (`--model tiny` is i2v, `tiny-t2v` is t2v): the acceptance path with real
// LibTorch generation on the CPU.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "server/service/sha256.h"
#include "tests/server/exe/test_util.h"

namespace videogen::testing {
namespace {

using ::testing::HasSubstr;

std::vector<v1::Stage> StagesInOrder(const JobStream& s) {
  std::vector<v1::Stage> stages;
  for (const auto& e : s.events) {
    if (e.has_progress() && (stages.empty() || stages.back() != e.progress().stage())) {
      stages.push_back(e.progress().stage());
    }
  }
  return stages;
}

TEST(ServerTinyModelTest, ImageToVideoStreamsEveryStageThenTheVideo) {
  auto server = ServerProcess::Start({"--model", "tiny"});
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = Connect(**server);
  const std::string image = ExampleImage();
  ASSERT_FALSE(image.empty());

  v1::GenerateVideoRequest request;
  request.set_model("tiny");
  request.set_prompt("a lighthouse at dusk");
  request.set_image(image);
  request.set_steps(3);
  request.set_num_frames(5);
  request.set_seed(11);
  JobStream s = Generate(*stub, request);
  ASSERT_TRUE(s.status.ok()) << s.status.error_message();
  EXPECT_TRUE(s.events.front().has_accepted());
  EXPECT_THAT(StagesInOrder(s), ::testing::ElementsAre(v1::TEXT_ENCODING, v1::IMAGE_ENCODING, v1::DENOISING,
                                                       v1::VAE_DECODING, v1::VIDEO_ENCODING));
  const v1::Completed* done = s.completed();
  ASSERT_NE(done, nullptr);
  EXPECT_EQ(done->sha256(), service::Sha256Hex(s.video));
  EXPECT_EQ(done->seed(), 11u);
  auto probe = Probe(s.video);
  EXPECT_EQ(probe["codec_name"], "h264");
  EXPECT_EQ(probe["nb_read_frames"], "5");
  EXPECT_EQ(probe["width"], std::to_string(done->width()));
  EXPECT_EQ(probe["height"], std::to_string(done->height()));
  EXPECT_EQ(probe["r_frame_rate"], "16/1");

  // i2v without an image, and a corrupt image, are INVALID_ARGUMENT naming `image`.
  request.clear_image();
  JobStream missing = Generate(*stub, request);
  EXPECT_EQ(missing.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(missing.status.error_message(), HasSubstr("image:"));
  request.set_image(image.substr(0, image.size() / 2));
  JobStream corrupt = Generate(*stub, request);
  EXPECT_EQ(corrupt.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(corrupt.status.error_message(), HasSubstr("image:"));
  EXPECT_EQ((*server)->SignalAndWait(SIGTERM), 0);
}

// CancelJob while the job is in `stage` (tiny i2v, 256x256, 33 frames: the
// VAE encode and decode run 9 chunks each); returns the stream's end and
// prints how long it took after the cancel (measured, not asserted).
JobStream CancelDuring(v1::VideoGeneration::Stub& stub, v1::Stage stage) {
  v1::GenerateVideoRequest request;
  request.set_model("tiny");
  request.set_prompt("a lighthouse at dusk");
  request.set_image(ExampleImage());
  request.set_max_area(256 * 256);
  request.set_num_frames(33);
  request.set_steps(4);
  grpc::ClientContext ctx;
  ctx.set_deadline(In(std::chrono::seconds(300)));
  auto reader = stub.GenerateVideo(&ctx, request);
  auto seen = ReadUntil(reader.get(), [stage](const v1::JobEvent& e) {
    return e.has_progress() && e.progress().stage() == stage;
  });
  if (seen.empty()) return ReadAll(reader.get());
  grpc::ClientContext cancel_ctx;
  v1::CancelJobRequest cancel;
  cancel.set_job_id(seen[0].job_id());
  v1::Job job;
  const auto cancelled_at = std::chrono::steady_clock::now();
  EXPECT_TRUE(stub.CancelJob(&cancel_ctx, cancel, &job).ok());
  JobStream rest = ReadAll(reader.get());
  std::printf("cancel during %s: the stream ended %.3f s after CancelJob\n", v1::Stage_Name(stage).c_str(),
              std::chrono::duration<double>(std::chrono::steady_clock::now() - cancelled_at).count());
  return rest;
}

TEST(ServerTinyModelTest, ImageToVideoCancelIsHonouredInEveryLongStage) {
  auto server = ServerProcess::Start({"--model", "tiny"});
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = Connect(**server);
  ASSERT_FALSE(ExampleImage().empty());
  const std::vector<std::pair<v1::Stage, std::vector<std::string>>> cases = {
      // Between chunks ("during VAE encode") or inside the encoders, before a
      // block ("VAE encode: cancelled during VAE residual block", CLIP's).
      {v1::IMAGE_ENCODING,
       {"during image encoding", "during VAE encode", "VAE encode: cancelled during", "CLIP visual: cancelled during"}},
      {v1::DENOISING, {"during denoising"}},
      {v1::VAE_DECODING, {"during VAE decode", "VAE decode: cancelled during"}},
  };
  for (const auto& [stage, where] : cases) {
    JobStream s = CancelDuring(*stub, stage);
    EXPECT_EQ(s.status.error_code(), grpc::StatusCode::CANCELLED) << v1::Stage_Name(stage) << ": "
                                                                    << s.status.error_message();
    ASSERT_NE(s.failed(), nullptr) << v1::Stage_Name(stage);
    // Stopped in that stage, not after it.
    const std::string& message = s.failed()->message();
    EXPECT_TRUE(std::any_of(where.begin(), where.end(),
                            [&](const std::string& w) { return message.find(w) != std::string::npos; }))
        << v1::Stage_Name(stage) << ": " << message;
  }
  EXPECT_EQ((*server)->SignalAndWait(SIGTERM), 0);
}

TEST(ServerTinyModelTest, TextToVideoCancelEndsWithinOneStep) {
  auto server = ServerProcess::Start({"--model", "tiny-t2v"});
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = Connect(**server);
  v1::GenerateVideoRequest request;
  request.set_model("tiny-t2v");
  request.set_prompt("waves");
  request.set_steps(60);
  request.set_num_frames(5);
  grpc::ClientContext ctx;
  ctx.set_deadline(In(std::chrono::seconds(120)));
  auto reader = stub->GenerateVideo(&ctx, request);
  auto seen = ReadUntil(reader.get(), [](const v1::JobEvent& e) {
    return e.has_progress() && e.progress().stage() == v1::DENOISING && e.progress().step() >= 2;
  });
  ASSERT_FALSE(seen.empty());
  grpc::ClientContext cancel_ctx;
  v1::CancelJobRequest cancel;
  cancel.set_job_id(seen[0].job_id());
  v1::Job at_cancel;
  ASSERT_TRUE(stub->CancelJob(&cancel_ctx, cancel, &at_cancel).ok());
  JobStream rest = ReadAll(reader.get());
  EXPECT_EQ(rest.status.error_code(), grpc::StatusCode::CANCELLED);
  uint32_t last = at_cancel.progress().step();
  for (const auto& e : rest.events) {
    if (e.has_progress() && e.progress().stage() == v1::DENOISING) last = e.progress().step();
  }
  EXPECT_LE(last, at_cancel.progress().step() + 1);

  v1::GenerateVideoRequest with_image = request;
  with_image.set_steps(1);
  with_image.set_image(ExampleImage());
  JobStream rejected = Generate(*stub, with_image);
  EXPECT_EQ(rejected.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(rejected.status.error_message(), HasSubstr("image:"));
}

// tiny-flf2v: the first and last frame through RPC give an 81-frame video;
// the last frame is required and the frame count is fixed, each refused
// naming its field.
TEST(ServerTinyModelTest, FirstLastFrameToVideoTakesBothFrames) {
  auto server = ServerProcess::Start({"--model", "tiny-flf2v"});
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = Connect(**server);
  const std::string image = ExampleImage();
  ASSERT_FALSE(image.empty());
  v1::GenerateVideoRequest request;
  request.set_model("tiny-flf2v");
  request.set_prompt("a boat crosses the river");
  request.set_image(image);
  request.set_last_frame(image);
  request.set_steps(2);
  request.set_seed(4);
  JobStream s = Generate(*stub, request);
  ASSERT_TRUE(s.status.ok()) << s.status.error_message();
  ASSERT_NE(s.completed(), nullptr);
  EXPECT_EQ(s.completed()->frames(), 81u);
  auto probe = Probe(s.video);
  EXPECT_EQ(probe["nb_read_frames"], "81");

  v1::GenerateVideoRequest no_last = request;
  no_last.clear_last_frame();
  JobStream missing = Generate(*stub, no_last);
  EXPECT_EQ(missing.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(missing.status.error_message(), HasSubstr("last_frame:"));
  v1::GenerateVideoRequest short_video = request;
  short_video.set_num_frames(17);
  JobStream wrong = Generate(*stub, short_video);
  EXPECT_EQ(wrong.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(wrong.status.error_message(), HasSubstr("num_frames:"));
  v1::GenerateVideoRequest corrupt = request;
  corrupt.set_last_frame(image.substr(0, image.size() / 2));
  JobStream bad = Generate(*stub, corrupt);
  EXPECT_EQ(bad.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(bad.status.error_message(), HasSubstr("last_frame:"));
}

struct F32Tensor {
  std::string name;
  std::vector<int64_t> shape;
  float value = 0;  // every element
};

// An F32 safetensors file of constant tensors (the LoRAs below), written by hand.
void WriteF32Safetensors(const std::string& path, const std::vector<F32Tensor>& tensors) {
  nlohmann::json header;
  std::vector<float> data;
  for (const F32Tensor& t : tensors) {
    int64_t n = 1;
    for (int64_t d : t.shape) n *= d;
    header[t.name] = {{"dtype", "F32"}, {"shape", t.shape}, {"data_offsets", {data.size() * 4, (data.size() + n) * 4}}};
    data.insert(data.end(), static_cast<size_t>(n), t.value);
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  const uint64_t n = text.size();
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(&n), 8);
  out << text;
  out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size() * 4));
}

// The tiny t2v model's config.json (in the cache once a server has started it).
nlohmann::json TinyT2VConfig() {
  const char* cache = std::getenv("VIDEOGEN_CACHE_DIR");
  std::ifstream config(std::string(cache != nullptr ? cache : "") + "/tiny-t2v-2025/config.json");
  return config.good() ? nlohmann::json::parse(config) : nlohmann::json::object();
}

// One 32x32 frame of the tiny t2v model in 2 steps (seed 5), naming `adapters`.
v1::GenerateVideoRequest SmallT2VRequest(const std::vector<v1::AdapterUse>& adapters = {}) {
  v1::GenerateVideoRequest request;
  request.set_model("tiny-t2v");
  request.set_prompt("waves");
  request.set_steps(2);
  request.set_num_frames(1);
  request.set_width(32);
  request.set_height(32);
  request.set_seed(5);
  for (const v1::AdapterUse& a : adapters) *request.add_adapters() = a;
  return request;
}

// The sha256 of SmallT2VRequest() on a tiny t2v server started with `extra`
// flags ("" and a test failure when it fails).
std::string TinyT2VVideo(const std::vector<std::string>& extra) {
  std::vector<std::string> args = {"--model", "tiny-t2v"};
  args.insert(args.end(), extra.begin(), extra.end());
  auto server = ServerProcess::Start(args);
  EXPECT_TRUE(server.ok()) << server.status();
  if (!server.ok()) return "";
  auto stub = Connect(**server);
  JobStream s = Generate(*stub, SmallT2VRequest());
  EXPECT_TRUE(s.status.ok()) << s.status.error_message();
  return s.completed() != nullptr ? s.completed()->sha256() : "";
}

// --lora PATH[:STRENGTH] merges the adapter into the DiT at load: strength 0
// serves the base model's video, strength 1 another one; a LoRA that does not
// fit the model stops the server, naming the key.
TEST(ServerTinyModelTest, LoraMergedAtLoadChangesTheVideoByItsStrength) {
  const std::string base = TinyT2VVideo({});
  ASSERT_FALSE(base.empty());
  // The tiny model is in the cache now: read its head's width for a `diff_b`
  // on the DiT's output projection (out_dim x patch 1x2x2 features).
  const char* cache = std::getenv("VIDEOGEN_CACHE_DIR");
  ASSERT_NE(cache, nullptr);
  const nlohmann::json config = TinyT2VConfig();
  ASSERT_TRUE(config.contains("out_dim")) << config.dump();
  const int64_t head = config.value("out_dim", 16) * 4;
  const std::string lora = std::string(cache) + "/server_test_lora.safetensors";
  WriteF32Safetensors(lora, {{"diffusion_model.head.head.diff_b", {head}, 0.5f}});

  EXPECT_EQ(TinyT2VVideo({"--lora", lora + ":0"}), base);
  const std::string merged = TinyT2VVideo({"--lora", lora + ":1"});
  EXPECT_FALSE(merged.empty());
  EXPECT_NE(merged, base);

  const std::string bad = std::string(cache) + "/server_test_bad_lora.safetensors";
  WriteF32Safetensors(bad, {{"diffusion_model.blocks.0.norm9.diff", {head}, 0.5f}});
  auto refused = ServerProcess::Start({"--model", "tiny-t2v", "--lora", bad});
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.status().message(), HasSubstr("diffusion_model.blocks.0.norm9.diff"));
}

// --adapter NAME=PATH loads a LoRA that requests select by name: strength 0
// is the base video, 1 another one, and the same server serves both; an
// unknown name is INVALID_ARGUMENT naming `adapters`.
TEST(ServerTinyModelTest, PerRequestAdaptersShareOneServer) {
  const std::string base = TinyT2VVideo({});
  ASSERT_FALSE(base.empty());
  const nlohmann::json config = TinyT2VConfig();
  const int64_t dim = config.value("dim", 0);
  ASSERT_GT(dim, 0) << config.dump();
  const std::string lora = std::string(std::getenv("VIDEOGEN_CACHE_DIR")) + "/server_test_adapter.safetensors";
  WriteF32Safetensors(lora, {{"diffusion_model.blocks.0.ffn.2.lora_down.weight", {2, dim * 2}, 0.05f},
                             {"diffusion_model.blocks.0.ffn.2.lora_up.weight", {dim, 2}, 0.05f}});
  auto use = [](const std::string& name, double strength) {
    v1::AdapterUse a;
    a.set_name(name);
    a.set_strength(strength);
    return a;
  };
  auto server = ServerProcess::Start({"--model", "tiny-t2v", "--adapter", "style=" + lora});
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = Connect(**server);
  grpc::ClientContext list_ctx;
  v1::ListModelsResponse models;
  ASSERT_TRUE(stub->ListModels(&list_ctx, v1::ListModelsRequest(), &models).ok());
  ASSERT_EQ(models.models(0).adapters_size(), 1);
  EXPECT_EQ(models.models(0).adapters(0).name(), "style");

  auto generate = [&](const std::vector<v1::AdapterUse>& adapters) {
    return Generate(*stub, SmallT2VRequest(adapters));
  };
  JobStream off = generate({use("style", 0)});
  JobStream on = generate({use("style", 1)});
  JobStream plain = generate({});
  ASSERT_TRUE(off.status.ok() && on.status.ok() && plain.status.ok()) << on.status.error_message();
  EXPECT_EQ(off.completed()->sha256(), base);
  EXPECT_NE(on.completed()->sha256(), base);
  EXPECT_EQ(plain.completed()->sha256(), base);  // side paths are cleared after each request
  JobStream unknown = generate({use("nope", 1)});
  EXPECT_EQ(unknown.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(unknown.status.error_message(), HasSubstr("adapters:"));
}

}  // namespace
}  // namespace videogen::testing
