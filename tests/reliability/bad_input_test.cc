// Reliability: a table of bad inputs sent to the real videogen-server (the
// fake t2v and i2v models), each with the gRPC code it must get and the field
// its message must name ("field:"). Out-of-range and malformed values of every
// request field, undecodable and oversized images, invalid UTF-8 and bytes
// that are not a message, unknown and absurd job ids. After the table the
// server still serves.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "tests/reliability/reliability_util.h"

namespace videogen::testing {
namespace {

using ::testing::HasSubstr;
using Mutate = std::function<void(v1::GenerateVideoRequest*)>;

// A PNG whose IHDR claims `width` x `height` (valid CRC), and nothing else.
std::string PngHeader(uint32_t width, uint32_t height) {
  const unsigned char ihdr[] = {'I',
                                'H',
                                'D',
                                'R',
                                static_cast<unsigned char>(width >> 24),
                                static_cast<unsigned char>(width >> 16),
                                static_cast<unsigned char>(width >> 8),
                                static_cast<unsigned char>(width),
                                static_cast<unsigned char>(height >> 24),
                                static_cast<unsigned char>(height >> 16),
                                static_cast<unsigned char>(height >> 8),
                                static_cast<unsigned char>(height),
                                8,
                                2,
                                0,
                                0,
                                0};
  std::string out("\x89PNG\r\n\x1a\n\0\0\0\x0d", 12);
  out.append(reinterpret_cast<const char*>(ihdr), sizeof(ihdr));
  out.append(4, '\0');  // CRC left zero: the probe reads the size only
  return out;
}

// A baseline JPEG header (SOI, SOF0) claiming `width` x `height`.
std::string JpegHeader(uint16_t width, uint16_t height) {
  const unsigned char bytes[] = {0xff, 0xd8, 0xff, 0xc0, 0x00, 0x11, 0x08, static_cast<unsigned char>(height >> 8),
                                 static_cast<unsigned char>(height), static_cast<unsigned char>(width >> 8),
                                 static_cast<unsigned char>(width), 0x03, 0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03,
                                 0x11, 0x01};
  return std::string(reinterpret_cast<const char*>(bytes), sizeof(bytes));
}

// `message` serialized with `placeholder` (present once) replaced by `bytes` of
// the same length: invalid UTF-8 on the wire.
std::string WithBytes(const google::protobuf::Message& message, const std::string& placeholder,
                      const std::string& bytes) {
  std::string wire = message.SerializeAsString();
  const size_t at = wire.find(placeholder);
  if (at != std::string::npos && placeholder.size() == bytes.size()) wire.replace(at, placeholder.size(), bytes);
  return wire;
}

struct BadInput {
  std::string what;
  std::function<grpc::Status()> call;
  grpc::StatusCode code;
  std::string field;  // the message must contain "<field>:"
};

class ReliabilityBadInputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto t2v = ServerProcess::Start({"--model", "fake"});
    ASSERT_TRUE(t2v.ok()) << t2v.status();
    t2v_ = std::move(*t2v);
    auto i2v = ServerProcess::Start({"--model", "fake-i2v"});
    ASSERT_TRUE(i2v.ok()) << i2v.status();
    i2v_ = std::move(*i2v);
    t2v_stub_ = Connect(*t2v_);
    i2v_stub_ = Connect(*i2v_);
    JobStream done = testing::Generate(*t2v_stub_, FakeRequest(1));
    ASSERT_NE(done.completed(), nullptr) << done.status.error_message();
    finished_job_ = done.job_id();
  }

  // GenerateVideo on the t2v (fake) or i2v (fake-i2v, with the example image) server.
  BadInput Generate(std::string what, bool i2v, Mutate mutate, grpc::StatusCode code, std::string field) {
    return {std::move(what),
            [this, i2v, mutate] {
              v1::GenerateVideoRequest r = FakeRequest(1);
              if (i2v) {
                r.set_model("fake-i2v");
                r.set_image(ExampleImage());
              }
              mutate(&r);
              return testing::Generate(i2v ? *i2v_stub_ : *t2v_stub_, r).status;
            },
            code, std::move(field)};
  }
  BadInput T2v(std::string what, Mutate mutate, std::string field) {
    return Generate(std::move(what), false, std::move(mutate), grpc::StatusCode::INVALID_ARGUMENT, std::move(field));
  }
  BadInput I2v(std::string what, Mutate mutate, std::string field) {
    return Generate(std::move(what), true, std::move(mutate), grpc::StatusCode::INVALID_ARGUMENT, std::move(field));
  }
  BadInput Raw(std::string what, std::string method, std::string bytes, bool streaming, std::string field) {
    return {std::move(what),
            [this, method, bytes, streaming] {
              return RawCall(t2v_->address(), "/videogen.v1.VideoGeneration/" + method, bytes, streaming);
            },
            grpc::StatusCode::INVALID_ARGUMENT, std::move(field)};
  }
  BadInput Get(std::string what, std::string job_id, grpc::StatusCode code) {
    return {std::move(what),
            [this, job_id] {
              grpc::ClientContext ctx;
              ctx.set_deadline(In(std::chrono::seconds(30)));
              v1::GetJobRequest r;
              r.set_job_id(job_id);
              v1::Job job;
              return t2v_stub_->GetJob(&ctx, r, &job);
            },
            code, "job_id"};
  }
  BadInput Cancel(std::string what, std::string job_id, grpc::StatusCode code) {
    return {std::move(what),
            [this, job_id] {
              grpc::ClientContext ctx;
              ctx.set_deadline(In(std::chrono::seconds(30)));
              v1::CancelJobRequest r;
              r.set_job_id(job_id);
              v1::Job job;
              return t2v_stub_->CancelJob(&ctx, r, &job);
            },
            code, "job_id"};
  }
  BadInput WatchFrom(std::string what, std::function<std::string()> job_id, uint64_t from_offset,
                     grpc::StatusCode code, std::string field) {
    return {std::move(what),
            [this, job_id, from_offset] { return Watch(*t2v_stub_, job_id(), from_offset).status; }, code,
            std::move(field)};
  }

  std::unique_ptr<ServerProcess> t2v_;
  std::unique_ptr<ServerProcess> i2v_;
  std::unique_ptr<v1::VideoGeneration::Stub> t2v_stub_;
  std::unique_ptr<v1::VideoGeneration::Stub> i2v_stub_;
  std::string finished_job_;
};

TEST_F(ReliabilityBadInputTest, EachBadInputGetsItsCodeAndNamesItsField) {
  const double nan = std::nan("");
  const double inf = std::numeric_limits<double>::infinity();
  const uint32_t u32max = std::numeric_limits<uint32_t>::max();
  const std::string big(100000, 'x');
  const grpc::StatusCode kNotFound = grpc::StatusCode::NOT_FOUND;
  auto adapters = [](int n, const std::string& name, double strength) {
    return [n, name, strength](v1::GenerateVideoRequest* r) {
      for (int i = 0; i < n; ++i) {
        v1::AdapterUse* a = r->add_adapters();
        a->set_name(n > 1 && name != "same" ? name + std::to_string(i) : name);
        a->set_strength(strength);
      }
    };
  };
  v1::GetJobRequest get_utf8;
  get_utf8.set_job_id("PLACEHOLDER");
  v1::CancelJobRequest cancel_utf8;
  cancel_utf8.set_job_id("PLACEHOLDER");
  v1::WatchJobRequest watch_utf8;
  watch_utf8.set_job_id("PLACEHOLDER");
  auto with_placeholder = [](std::function<void(v1::GenerateVideoRequest*, const std::string&)> set) {
    v1::GenerateVideoRequest r = FakeRequest(1);
    set(&r, "PLACEHOLDER");
    return WithBytes(r, "PLACEHOLDER", "PLACE\xff\xfeHOLD");
  };
  const std::string not_a_message = "\xff\xff\xff\xff not a protobuf message";
  const std::string truncated_png = ExampleImage().substr(0, 200);
  const std::string finished = finished_job_;

  const std::vector<BadInput> table = {
      // model
      T2v("empty model", [](auto* r) { r->set_model(""); }, "model"),
      T2v("unknown model", [](auto* r) { r->set_model("no-such-model"); }, "model"),
      T2v("100,000-byte model", [&](auto* r) { r->set_model(big); }, "model"),
      T2v("i2v model on the t2v server", [](auto* r) { r->set_model("fake-i2v"); }, "model"),
      // prompt, negative_prompt
      T2v("empty prompt", [](auto* r) { r->set_prompt(""); }, "prompt"),
      T2v("4097-byte prompt", [](auto* r) { r->set_prompt(std::string(4097, 'p')); }, "prompt"),
      T2v("100,000-byte prompt", [&](auto* r) { r->set_prompt(big); }, "prompt"),
      T2v("5000-byte negative_prompt", [](auto* r) { r->set_negative_prompt(std::string(5000, 'n')); },
          "negative_prompt"),
      // width, height, max_area
      T2v("width 100", [](auto* r) { r->set_width(100); }, "width"),
      T2v("width 0", [](auto* r) { r->set_width(0); }, "width"),
      T2v("width 2048 (over --max-size)", [](auto* r) { r->set_width(2048); }, "width"),
      T2v("width 2^32-1", [&](auto* r) { r->set_width(u32max); }, "width"),
      T2v("height 17", [](auto* r) { r->set_height(17); }, "height"),
      T2v("height 0", [](auto* r) { r->set_height(0); }, "height"),
      T2v("height 4096", [](auto* r) { r->set_height(4096); }, "height"),
      T2v("max_area 2^40", [](auto* r) { r->set_max_area(uint64_t{1} << 40); }, "max_area"),
      I2v("max_area 10", [](auto* r) { r->set_max_area(10); }, "max_area"),
      // num_frames
      T2v("num_frames 8", [](auto* r) { r->set_num_frames(8); }, "num_frames"),
      T2v("num_frames 0", [](auto* r) { r->set_num_frames(0); }, "num_frames"),
      T2v("num_frames 133", [](auto* r) { r->set_num_frames(133); }, "num_frames"),
      T2v("num_frames 2^32-1", [&](auto* r) { r->set_num_frames(u32max); }, "num_frames"),
      // fps
      T2v("fps 0", [](auto* r) { r->set_fps(0); }, "fps"),
      T2v("fps -24", [](auto* r) { r->set_fps(-24); }, "fps"),
      T2v("fps NaN", [&](auto* r) { r->set_fps(nan); }, "fps"),
      T2v("fps inf", [&](auto* r) { r->set_fps(inf); }, "fps"),
      T2v("fps 121", [](auto* r) { r->set_fps(121); }, "fps"),
      // steps, timesteps
      T2v("steps 0", [](auto* r) { r->set_steps(0); }, "steps"),
      T2v("steps 101", [](auto* r) { r->set_steps(101); }, "steps"),
      T2v("steps 2^32-1", [&](auto* r) { r->set_steps(u32max); }, "steps"),
      T2v("101 timesteps",
          [](auto* r) {
            for (int t = 1000; t >= 900; --t) r->add_timesteps(t);
          },
          "timesteps"),
      T2v("timesteps repeated", [](auto* r) { r->add_timesteps(1000); r->add_timesteps(1000); }, "timesteps"),
      T2v("timesteps increasing", [](auto* r) { r->add_timesteps(250); r->add_timesteps(500); }, "timesteps"),
      T2v("timestep 0", [](auto* r) { r->add_timesteps(0); }, "timesteps"),
      T2v("timestep 1001", [](auto* r) { r->add_timesteps(1001); }, "timesteps"),
      T2v("timesteps with the DPM++ sampler",
          [](auto* r) { r->add_timesteps(1000); r->add_timesteps(500); r->set_sampler(v1::DPMPP); }, "timesteps"),
      T2v("2 timesteps and steps 3",
          [](auto* r) { r->add_timesteps(1000); r->add_timesteps(500); r->set_steps(3); }, "steps"),
      // guidance_scale, shift
      T2v("guidance_scale NaN", [&](auto* r) { r->set_guidance_scale(nan); }, "guidance_scale"),
      T2v("guidance_scale -2", [](auto* r) { r->set_guidance_scale(-2); }, "guidance_scale"),
      T2v("guidance_scale inf", [&](auto* r) { r->set_guidance_scale(inf); }, "guidance_scale"),
      T2v("guidance_scale 1e9", [](auto* r) { r->set_guidance_scale(1e9); }, "guidance_scale"),
      T2v("shift 0", [](auto* r) { r->set_shift(0); }, "shift"),
      T2v("shift -1", [](auto* r) { r->set_shift(-1); }, "shift"),
      T2v("shift NaN", [&](auto* r) { r->set_shift(nan); }, "shift"),
      T2v("shift 1e9", [](auto* r) { r->set_shift(1e9); }, "shift"),
      // enums, quality, priority, client_request_id
      T2v("sampler 17", [](auto* r) { r->set_sampler(static_cast<v1::Sampler>(17)); }, "sampler"),
      T2v("sampler -1", [](auto* r) { r->set_sampler(static_cast<v1::Sampler>(-1)); }, "sampler"),
      T2v("format 17", [](auto* r) { r->set_format(static_cast<v1::VideoFormat>(17)); }, "format"),
      T2v("quality 101", [](auto* r) { r->set_quality(101); }, "quality"),
      T2v("quality 2^32-1", [&](auto* r) { r->set_quality(u32max); }, "quality"),
      T2v("priority 1001", [](auto* r) { r->set_priority(1001); }, "priority"),
      T2v("priority INT32_MIN", [](auto* r) { r->set_priority(std::numeric_limits<int32_t>::min()); }, "priority"),
      T2v("129-byte client_request_id", [](auto* r) { r->set_client_request_id(std::string(129, 'k')); },
          "client_request_id"),
      T2v("100,000-byte client_request_id", [&](auto* r) { r->set_client_request_id(big); }, "client_request_id"),
      // adapters
      T2v("9 adapters", adapters(9, "lora", 1.0), "adapters"),
      T2v("129-byte adapter name", adapters(1, std::string(129, 'a'), 1.0), "adapters"),
      T2v("empty adapter name", adapters(1, "", 1.0), "adapters"),
      T2v("adapter strength NaN", adapters(1, "lora", nan), "adapters"),
      T2v("adapter strength 1e9", adapters(1, "lora", 1e9), "adapters"),
      T2v("the same adapter twice", adapters(2, "same", 1.0), "adapters"),
      // image, last_frame
      T2v("an image for a t2v model", [](auto* r) { r->set_image(ExampleImage()); }, "image"),
      T2v("a last_frame for a t2v model", [](auto* r) { r->set_last_frame(ExampleImage()); }, "last_frame"),
      T2v("image: PNG signature then garbage", [](auto* r) { r->set_image("\x89PNG\r\n\x1a\n garbage"); }, "image"),
      T2v("image: 100000x100000 PNG header", [](auto* r) { r->set_image(PngHeader(100000, 100000)); }, "image"),
      T2v("image: GIF", [](auto* r) { r->set_image("GIF89a\x10\x00\x10\x00"); }, "image"),
      I2v("no image for an i2v model", [](auto* r) { r->clear_image(); }, "image"),
      I2v("image: 4 bytes", [](auto* r) { r->set_image("\x89PNG"); }, "image"),
      I2v("image: 5000x16 PNG header", [](auto* r) { r->set_image(PngHeader(5000, 16)); }, "image"),
      I2v("image: 0x0 PNG header", [](auto* r) { r->set_image(PngHeader(0, 0)); }, "image"),
      I2v("image: 5000x5000 JPEG header", [](auto* r) { r->set_image(JpegHeader(5000, 5000)); }, "image"),
      I2v("image: JPEG header, no data", [](auto* r) { r->set_image(JpegHeader(64, 64)); }, "image"),
      I2v("image: WebP, truncated", [](auto* r) { r->set_image(std::string("RIFF\x10\0\0\0WEBPVP8 ", 16)); },
          "image"),
      I2v("image: PNG cut after 200 bytes", [&](auto* r) { r->set_image(truncated_png); }, "image"),
      I2v("a last_frame for an i2v model", [](auto* r) { r->set_last_frame(ExampleImage()); }, "last_frame"),
      // bytes that are not a (valid) message
      Raw("GenerateVideo: not a message", "GenerateVideo", not_a_message, true, "request"),
      Raw("GenerateVideo: invalid UTF-8 prompt", "GenerateVideo",
          with_placeholder([](auto* r, const std::string& p) { r->set_prompt(p); }), true, "prompt"),
      Raw("GenerateVideo: invalid UTF-8 model", "GenerateVideo",
          with_placeholder([](auto* r, const std::string& p) { r->set_model(p); }), true, "model"),
      Raw("GenerateVideo: invalid UTF-8 negative_prompt", "GenerateVideo",
          with_placeholder([](auto* r, const std::string& p) { r->set_negative_prompt(p); }), true,
          "negative_prompt"),
      Raw("GenerateVideo: invalid UTF-8 client_request_id", "GenerateVideo",
          with_placeholder([](auto* r, const std::string& p) { r->set_client_request_id(p); }), true,
          "client_request_id"),
      Raw("GenerateVideo: invalid UTF-8 adapter name", "GenerateVideo",
          with_placeholder([](auto* r, const std::string& p) { r->add_adapters()->set_name(p); }), true,
          "adapters.name"),
      Raw("GetJob: not a message", "GetJob", not_a_message, false, "request"),
      Raw("GetJob: invalid UTF-8 job_id", "GetJob", WithBytes(get_utf8, "PLACEHOLDER", "PLACE\xff\xfeHOLD"), false,
          "job_id"),
      Raw("CancelJob: not a message", "CancelJob", not_a_message, false, "request"),
      Raw("CancelJob: invalid UTF-8 job_id", "CancelJob", WithBytes(cancel_utf8, "PLACEHOLDER", "PLACE\xff\xfeHOLD"),
          false, "job_id"),
      Raw("WatchJob: not a message", "WatchJob", not_a_message, true, "request"),
      Raw("WatchJob: invalid UTF-8 job_id", "WatchJob", WithBytes(watch_utf8, "PLACEHOLDER", "PLACE\xff\xfeHOLD"),
          true, "job_id"),
      Raw("ListJobs: not a message", "ListJobs", not_a_message, false, "request"),
      Raw("ListModels: not a message", "ListModels", not_a_message, false, "request"),
      // job ids
      Get("GetJob: unknown job_id", "no-such-job", kNotFound),
      Get("GetJob: empty job_id", "", kNotFound),
      Get("GetJob: 100,000-byte job_id", big, kNotFound),
      Cancel("CancelJob: unknown job_id", "no-such-job", kNotFound),
      Cancel("CancelJob: 100,000-byte job_id", big, kNotFound),
      WatchFrom("WatchJob: empty job_id", [] { return std::string(); }, 0, grpc::StatusCode::INVALID_ARGUMENT,
                "job_id"),
      WatchFrom("WatchJob: unknown job_id", [] { return std::string("no-such-job"); }, 0, kNotFound, "job_id"),
      WatchFrom("WatchJob: 100,000-byte job_id", [&] { return big; }, 0, kNotFound, "job_id"),
      WatchFrom("WatchJob: from_offset 2^40 on a finished job", [=] { return finished; }, uint64_t{1} << 40,
                grpc::StatusCode::OUT_OF_RANGE, "from_offset"),
  };
  ASSERT_GE(table.size(), 60u);
  int checked = 0;
  for (const BadInput& bad : table) {
    const grpc::Status s = bad.call();
    EXPECT_EQ(s.error_code(), bad.code) << bad.what << ": " << s.error_message();
    EXPECT_THAT(s.error_message(), HasSubstr(bad.field + ":")) << bad.what;
    EXPECT_LE(s.error_message().size(), 2048u) << bad.what;
    ++checked;
  }
  std::printf("bad inputs checked: %d\n", checked);

  // Both servers still serve, and nothing was queued by the bad requests.
  JobStream ok = testing::Generate(*t2v_stub_, FakeRequest(1));
  EXPECT_NE(ok.completed(), nullptr) << ok.status.error_message();
  v1::GenerateVideoRequest i2v = FakeRequest(1);
  i2v.set_model("fake-i2v");
  i2v.set_image(ExampleImage());
  JobStream ok_i2v = testing::Generate(*i2v_stub_, i2v);
  EXPECT_NE(ok_i2v.completed(), nullptr) << ok_i2v.status.error_message();
  grpc::ClientContext ctx;
  v1::ListJobsResponse jobs;
  ASSERT_TRUE(t2v_stub_->ListJobs(&ctx, v1::ListJobsRequest(), &jobs).ok());
  EXPECT_EQ(jobs.jobs_size(), 2) << "the set-up job and the last one";
  EXPECT_EQ(t2v_->SignalAndWait(SIGTERM), 0);
  EXPECT_EQ(i2v_->SignalAndWait(SIGTERM), 0);
}

}  // namespace
}  // namespace videogen::testing
