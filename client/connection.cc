#include "client/connection.h"

#include <fstream>
#include <sstream>

#include <grpcpp/create_channel.h>
#include <grpcpp/completion_queue.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/byte_buffer.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "engine/common/status_macros.h"

namespace videogen::client {
namespace {

absl::StatusOr<std::string> ReadFile(const std::string& path, const char* flag) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(flag, ": cannot read \"", path, "\""));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

absl::StatusOr<std::string> ResolveToken(const std::string& token_file, const char* env_token) {
  if (!token_file.empty()) {
    ASSIGN_OR_RETURN(const std::string text, ReadFile(token_file, "token_file"));
    std::string line = text.substr(0, text.find('\n'));
    absl::StripAsciiWhitespace(&line);
    if (line.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("token_file: \"", token_file, "\" holds no token"));
    }
    return line;
  }
  if (env_token != nullptr) {
    std::string token = env_token;
    absl::StripAsciiWhitespace(&token);
    return token;
  }
  return std::string();
}

absl::StatusOr<std::unique_ptr<Connection>> Connection::Create(const ConnectionOptions& options) {
  if (options.server.empty()) return absl::InvalidArgumentError("server: must not be empty");
  if (options.tls_key_file.empty() != options.tls_cert_file.empty()) {
    return absl::InvalidArgumentError(options.tls_cert_file.empty()
                                          ? "tls_key: --tls-key needs --tls-cert"
                                          : "tls_cert: --tls-cert needs --tls-key");
  }
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  if (options.tls || !options.tls_ca_file.empty() || !options.tls_cert_file.empty()) {
    grpc::SslCredentialsOptions ssl;
    if (!options.tls_ca_file.empty()) {
      ASSIGN_OR_RETURN(ssl.pem_root_certs, ReadFile(options.tls_ca_file, "tls_ca"));
    }
    if (!options.tls_cert_file.empty()) {
      ASSIGN_OR_RETURN(ssl.pem_cert_chain, ReadFile(options.tls_cert_file, "tls_cert"));
      ASSIGN_OR_RETURN(ssl.pem_private_key, ReadFile(options.tls_key_file, "tls_key"));
    }
    credentials = grpc::SslCredentials(ssl);
  } else {
    credentials = grpc::InsecureChannelCredentials();
  }
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(8 * 1024 * 1024);  // chunks are at most 1 MiB
  // Reconnect promptly when re-attaching after a dropped connection.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);
  std::shared_ptr<grpc::Channel> channel = grpc::CreateCustomChannel(options.server, credentials, args);
  return std::unique_ptr<Connection>(new Connection(options, std::move(channel)));
}

Connection::Connection(ConnectionOptions options, std::shared_ptr<grpc::Channel> channel)
    : options_(std::move(options)),
      channel_(std::move(channel)),
      stub_(v1::VideoGeneration::NewStub(channel_)) {}

void Connection::Prepare(grpc::ClientContext* context) const {
  if (!options_.token.empty()) context->AddMetadata("authorization", absl::StrCat("Bearer ", options_.token));
}

void Connection::PrepareUnary(grpc::ClientContext* context) const {
  Prepare(context);
  context->set_deadline(absl::ToChronoTime(absl::Now() + options_.timeout.value_or(absl::Seconds(30))));
}

namespace {

// HealthCheckResponse{status = 1: varint} -> state; absent field = UNKNOWN.
HealthState ParseHealthResponse(const grpc::ByteBuffer& response) {
  std::vector<grpc::Slice> slices;
  std::string bytes;
  if (response.Dump(&slices).ok()) {
    for (const auto& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  int value = 0;
  if (bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0x08) {
    value = static_cast<unsigned char>(bytes[1]) & 0x7f;
  }
  return value == 1 ? HealthState::kServing : value == 2 ? HealthState::kNotServing : HealthState::kUnknown;
}

grpc::ByteBuffer EmptyHealthRequest() {
  grpc::Slice empty;
  return grpc::ByteBuffer(&empty, 1);
}

}  // namespace

grpc::Status Connection::WaitUntilServing(absl::Duration timeout, HealthState* state) const {
  *state = HealthState::kUnknown;
  grpc::GenericStub generic(channel_);
  grpc::ClientContext context;
  Prepare(&context);
  context.set_wait_for_ready(true);
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  grpc::CompletionQueue cq;
  std::unique_ptr<grpc::GenericClientAsyncReaderWriter> call =
      generic.PrepareCall(&context, "/grpc.health.v1.Health/Watch", &cq);
  // One operation in flight at a time: wait for each tag in turn.
  auto await = [&cq]() {
    void* tag = nullptr;
    bool ok = false;
    if (!cq.Next(&tag, &ok)) return false;
    return ok;
  };
  bool ok = false;
  call->StartCall(reinterpret_cast<void*>(1));
  ok = await();
  if (ok) {
    const grpc::ByteBuffer request = EmptyHealthRequest();
    call->Write(request, reinterpret_cast<void*>(2));
    ok = await();
  }
  if (ok) {
    call->WritesDone(reinterpret_cast<void*>(3));
    ok = await();
  }
  while (ok) {
    grpc::ByteBuffer response;
    call->Read(&response, reinterpret_cast<void*>(4));
    ok = await();
    if (!ok) break;
    *state = ParseHealthResponse(response);
    if (*state == HealthState::kServing) {
      context.TryCancel();
      break;
    }
  }
  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(5));
  await();
  cq.Shutdown();
  void* tag;
  bool drained_ok;
  while (cq.Next(&tag, &drained_ok)) {
  }
  if (*state == HealthState::kServing) return grpc::Status::OK;
  return status.ok() ? grpc::Status(grpc::StatusCode::UNAVAILABLE, "health watch ended before SERVING") : status;
}

grpc::Status Connection::CheckHealth(HealthState* state) const {
  // grpc.health.v1.HealthCheckRequest{service: ""} encodes to zero bytes; the
  // response is HealthCheckResponse{status = 1: varint}. Encoded by hand so
  // that the client needs no generated health stubs.
  grpc::GenericStub generic(channel_);
  grpc::ClientContext context;
  PrepareUnary(&context);
  const grpc::ByteBuffer request = EmptyHealthRequest();
  grpc::ByteBuffer response;
  grpc::Status status;
  absl::Notification done;
  generic.UnaryCall(&context, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request, &response,
                    [&](grpc::Status s) {
                      status = std::move(s);
                      done.Notify();
                    });
  done.WaitForNotification();
  if (!status.ok()) return status;
  *state = ParseHealthResponse(response);
  return grpc::Status::OK;
}

}  // namespace videogen::client
