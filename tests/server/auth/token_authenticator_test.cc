#include "server/auth/token_authenticator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "server/auth/server_credentials.h"

namespace videogen::auth {
namespace {

using ::testing::HasSubstr;

std::string WriteTemp(const std::string& content) {
  char path[] = "/tmp/videogen_token_XXXXXX";
  const int fd = mkstemp(path);
  EXPECT_GE(fd, 0);
  close(fd);
  std::ofstream(path) << content;
  return path;
}

TEST(TokenAuthenticatorTest, AcceptsOnlyTheBearerToken) {
  auto auth = TokenAuthenticator::FromFile(WriteTemp("  s3cret-token \n second line ignored\n"));
  ASSERT_TRUE(auth.ok()) << auth.status();
  EXPECT_TRUE((*auth)->CheckHeader("Bearer s3cret-token").ok());
  EXPECT_TRUE((*auth)->CheckHeader("bearer s3cret-token").ok());
  for (const char* bad :
       {"Bearer s3cret-toke", "Bearer s3cret-token2", "Bearer ", "s3cret-token", "Basic s3cret-token", ""}) {
    absl::Status s = (*auth)->CheckHeader(bad);
    EXPECT_EQ(s.code(), absl::StatusCode::kUnauthenticated) << bad;
  }
}

TEST(TokenAuthenticatorTest, FileErrorsNameTheFlag) {
  auto missing = TokenAuthenticator::FromFile("/nonexistent/videogen-token");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr("auth_token_file"));
  auto empty = TokenAuthenticator::FromFile(WriteTemp("\n"));
  EXPECT_EQ(empty.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(empty.status().message(), HasSubstr("auth_token_file"));
}

TEST(ServerCredentialsTest, InconsistentTlsFlagsAreInvalid) {
  TlsOptions key_only;
  key_only.key_file = "k.pem";
  EXPECT_EQ(MakeServerCredentials(key_only).status().code(), absl::StatusCode::kInvalidArgument);
  TlsOptions ca_only;
  ca_only.client_ca_file = "ca.pem";
  auto s = MakeServerCredentials(ca_only).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("tls_client_ca"));
  TlsOptions missing;
  missing.cert_file = "/nonexistent/cert.pem";
  missing.key_file = "/nonexistent/key.pem";
  EXPECT_EQ(MakeServerCredentials(missing).status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(MakeServerCredentials(TlsOptions{}).ok());
}

}  // namespace
}  // namespace videogen::auth
