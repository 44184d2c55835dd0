// Health during warm-up and drain, bearer-token auth, TLS and mTLS, and
// request validation, against the real videogen-server binary.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "health.grpc.pb.h"
#include "tests/server/exe/test_util.h"

namespace videogen::testing {
namespace {

using ::testing::HasSubstr;
using HealthResponse = grpc::health::v1::HealthCheckResponse;

HealthResponse::ServingStatus CheckHealth(const std::string& address) {
  auto health = grpc::health::v1::Health::NewStub(grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  ctx.set_deadline(In(std::chrono::seconds(10)));
  HealthResponse response;
  grpc::Status s = health->Check(&ctx, grpc::health::v1::HealthCheckRequest(), &response);
  return s.ok() ? response.status() : HealthResponse::UNKNOWN;
}

TEST(ServerHealthTest, NotServingDuringWarmupAndDrain) {
  // The fake model's warm-up runs one step of 1 s.
  auto server = ServerProcess::Start({"--model", "fake", "--fake-step-ms", "1000", "--drain-timeout", "30"});
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_EQ(CheckHealth((*server)->address()), HealthResponse::NOT_SERVING);

  auto health =
      grpc::health::v1::Health::NewStub(grpc::CreateChannel((*server)->address(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext watch_ctx;
  watch_ctx.set_deadline(In(std::chrono::seconds(60)));
  auto watch = health->Watch(&watch_ctx, grpc::health::v1::HealthCheckRequest());
  HealthResponse update;
  do {
    ASSERT_TRUE(watch->Read(&update));
  } while (update.status() != HealthResponse::SERVING);

  auto stub = Connect(**server);
  grpc::ClientContext job_ctx;
  job_ctx.set_deadline(In(std::chrono::seconds(60)));
  auto job = stub->GenerateVideo(&job_ctx, FakeRequest(2));
  auto seen = ReadUntil(job.get(), [](const v1::JobEvent& e) { return e.has_progress(); });
  ASSERT_FALSE(seen.empty());

  kill((*server)->pid(), SIGTERM);
  ASSERT_TRUE(watch->Read(&update));
  EXPECT_EQ(update.status(), HealthResponse::NOT_SERVING);
  // The running job is drained: it completes.
  JobStream rest = ReadAll(job.get());
  EXPECT_TRUE(rest.status.ok()) << rest.status.error_message();
  EXPECT_NE(rest.completed(), nullptr);
  EXPECT_EQ((*server)->Wait(), 0);
  EXPECT_THAT((*server)->Logs(), HasSubstr("event=drain_finished"));
}

TEST(ServerHealthTest, DrainFailsQueuedJobsWithUnavailable) {
  auto server = ServerProcess::Start({"--model", "fake", "--fake-step-ms", "50"});
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = Connect(**server);
  grpc::ClientContext running_ctx;
  auto running = stub->GenerateVideo(&running_ctx, FakeRequest(10));
  ASSERT_FALSE(ReadUntil(running.get(), [](const v1::JobEvent& e) { return e.has_progress(); }).empty());
  grpc::ClientContext queued_ctx;
  auto queued = stub->GenerateVideo(&queued_ctx, FakeRequest(10));
  ASSERT_FALSE(ReadUntil(queued.get(), [](const v1::JobEvent& e) { return e.has_accepted(); }).empty());
  kill((*server)->pid(), SIGTERM);
  JobStream q = ReadAll(queued.get());
  EXPECT_EQ(q.status.error_code(), grpc::StatusCode::UNAVAILABLE);
  JobStream r = ReadAll(running.get());
  EXPECT_TRUE(r.status.ok()) << r.status.error_message();
  EXPECT_EQ((*server)->Wait(), 0);
}

class TokenFile {
 public:
  explicit TokenFile(const std::string& token) {
    char path[] = "/tmp/videogen_token_XXXXXX";
    const int fd = mkstemp(path);
    close(fd);
    path_ = path;
    std::ofstream(path_) << token << "\n";
  }
  ~TokenFile() { unlink(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(ServerAuthTest, EveryRpcButHealthNeedsTheToken) {
  TokenFile token("t0ken-123");
  auto server = ServerProcess::Start({"--model", "fake", "--auth-token-file", token.path()});
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = Connect(**server);
  auto list = [&](const char* header) {
    grpc::ClientContext ctx;
    if (header != nullptr) ctx.AddMetadata("authorization", header);
    v1::ListModelsResponse response;
    return stub->ListModels(&ctx, v1::ListModelsRequest(), &response);
  };
  EXPECT_EQ(list(nullptr).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(list("Bearer wrong").error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(list("t0ken-123").error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(list("Bearer t0ken-123").ok());

  JobStream anonymous = Generate(*stub, FakeRequest(1));
  EXPECT_EQ(anonymous.status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", "Bearer t0ken-123");
  JobStream ok = Generate(*stub, FakeRequest(1), &ctx);
  EXPECT_TRUE(ok.status.ok()) << ok.status.error_message();
  {
    grpc::ClientContext watch_ctx;
    v1::WatchJobRequest request;
    request.set_job_id(ok.job_id());
    EXPECT_EQ(ReadAll(stub->WatchJob(&watch_ctx, request).get()).status.error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
  }
  EXPECT_EQ(CheckHealth((*server)->address()), HealthResponse::SERVING);
}

grpc::Status ListModelsOver(const std::string& address, std::shared_ptr<grpc::ChannelCredentials> creds) {
  auto stub = v1::VideoGeneration::NewStub(grpc::CreateChannel(address, creds));
  grpc::ClientContext ctx;
  ctx.set_deadline(In(std::chrono::seconds(10)));
  v1::ListModelsResponse response;
  return stub->ListModels(&ctx, v1::ListModelsRequest(), &response);
}

TEST(ServerTlsTest, TlsAndMutualTlsHandshakes) {
  Certificates certs;
  ASSERT_TRUE(certs.ok());
  grpc::SslCredentialsOptions trusting;
  trusting.pem_root_certs = certs.read("ca.pem");
  {
    auto server = ServerProcess::Start(
        {"--model", "fake", "--tls-cert", certs.path("server.pem"), "--tls-key", certs.path("server.key")});
    ASSERT_TRUE(server.ok()) << server.status();
    EXPECT_TRUE(ListModelsOver((*server)->address(), grpc::SslCredentials(trusting)).ok());
    EXPECT_FALSE(ListModelsOver((*server)->address(), grpc::InsecureChannelCredentials()).ok());
    grpc::SslCredentialsOptions untrusting;
    untrusting.pem_root_certs = certs.read("rogue.pem");
    EXPECT_EQ(ListModelsOver((*server)->address(), grpc::SslCredentials(untrusting)).error_code(),
              grpc::StatusCode::UNAVAILABLE);
  }
  {
    auto server = ServerProcess::Start({"--model", "fake", "--tls-cert", certs.path("server.pem"), "--tls-key",
                                        certs.path("server.key"), "--tls-client-ca", certs.path("ca.pem")});
    ASSERT_TRUE(server.ok()) << server.status();
    EXPECT_FALSE(ListModelsOver((*server)->address(), grpc::SslCredentials(trusting)).ok());
    grpc::SslCredentialsOptions with_client = trusting;
    with_client.pem_private_key = certs.read("client.key");
    with_client.pem_cert_chain = certs.read("client.pem");
    EXPECT_TRUE(ListModelsOver((*server)->address(), grpc::SslCredentials(with_client)).ok());
    grpc::SslCredentialsOptions rogue = trusting;
    rogue.pem_private_key = certs.read("rogue.key");
    rogue.pem_cert_chain = certs.read("rogue.pem");
    EXPECT_FALSE(ListModelsOver((*server)->address(), grpc::SslCredentials(rogue)).ok());
  }
}

TEST(ServerValidationTest, EachInvalidFieldAnswersInvalidArgumentNamingIt) {
  auto server = ServerProcess::Start({"--model", "fake", "--max-request-bytes", "262144"});
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = Connect(**server);
  // A PNG header claiming 100000 x 100000 pixels: refused from the header, never decoded.
  const unsigned char bomb[] = {0x89, 'P', 'N',  'G',  '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R',
                                0,    1,   0x86, 0xa0, 0,    1,    0x86, 0xa0, 8, 2, 0, 0,  0,   0,   0,   0};
  const std::string bomb_png(reinterpret_cast<const char*>(bomb), sizeof(bomb));
  struct Case {
    const char* field;
    std::function<void(v1::GenerateVideoRequest*)> mutate;
  };
  const Case cases[] = {
      {"num_frames", [](auto* r) { r->set_num_frames(8); }},
      {"width", [](auto* r) { r->set_width(100); }},
      {"height", [](auto* r) { r->set_height(4096); }},
      {"steps", [](auto* r) { r->set_steps(0); }},
      {"guidance_scale", [](auto* r) { r->set_guidance_scale(std::nan("")); }},
      {"guidance_scale", [](auto* r) { r->set_guidance_scale(-2); }},
      {"sampler", [](auto* r) { r->set_sampler(static_cast<v1::Sampler>(17)); }},
      {"format", [](auto* r) { r->set_format(static_cast<v1::VideoFormat>(17)); }},
      {"model", [](auto* r) { r->set_model("no-such-model"); }},
      {"image", [](auto* r) { r->set_image("\x89PNG\r\n\x1a\n garbage"); }},
      {"prompt", [](auto* r) { r->set_prompt(std::string(10000, 'p')); }},
      {"image", [&](auto* r) { r->set_image(bomb_png); }},
  };
  for (const Case& c : cases) {
    v1::GenerateVideoRequest request = FakeRequest(1);
    c.mutate(&request);
    JobStream s = Generate(*stub, request);
    EXPECT_EQ(s.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << c.field;
    EXPECT_THAT(s.status.error_message(), HasSubstr(std::string(c.field) + ":")) << c.field;
  }
  v1::GenerateVideoRequest oversized = FakeRequest(1);
  oversized.set_image(std::string(300000, 'x'));
  EXPECT_EQ(Generate(*stub, oversized).status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
      << "requests above --max-request-bytes are refused by gRPC";
  EXPECT_TRUE(Generate(*stub, FakeRequest(1)).status.ok()) << "the server keeps serving";

  auto i2v = ServerProcess::Start({"--model", "fake-i2v"});
  ASSERT_TRUE(i2v.ok()) << i2v.status();
  auto i2v_stub = Connect(**i2v);
  v1::GenerateVideoRequest no_image = FakeRequest(1);
  no_image.set_model("fake-i2v");
  JobStream s = Generate(*i2v_stub, no_image);
  EXPECT_EQ(s.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.status.error_message(), HasSubstr("image:"));
}

}  // namespace
}  // namespace videogen::testing
