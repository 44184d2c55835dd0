#include "server/auth/token_authenticator.h"

#include <grpcpp/server_context.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace videogen::auth {

TokenAuthenticator::Digest TokenAuthenticator::Hash(absl::string_view data) {
  Digest d;
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), d.data());
  return d;
}

absl::StatusOr<std::unique_ptr<TokenAuthenticator>> TokenAuthenticator::FromToken(absl::string_view token) {
  if (token.empty()) return absl::InvalidArgumentError("auth_token_file: the token is empty");
  return std::unique_ptr<TokenAuthenticator>(new TokenAuthenticator(Hash(token)));
}

absl::StatusOr<std::unique_ptr<TokenAuthenticator>> TokenAuthenticator::FromFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    const int err = errno;
    const std::string msg = absl::StrCat("auth_token_file: cannot read ", path, ": ", std::strerror(err));
    return err == EACCES ? absl::PermissionDeniedError(msg) : absl::NotFoundError(msg);
  }
  std::string line;
  std::getline(in, line);
  absl::string_view token = absl::StripAsciiWhitespace(line);
  if (token.empty()) return absl::InvalidArgumentError(absl::StrCat("auth_token_file: ", path, " holds no token"));
  return FromToken(token);
}

absl::Status TokenAuthenticator::CheckHeader(absl::string_view header) const {
  constexpr absl::string_view kScheme = "Bearer ";
  if (header.size() < kScheme.size() || !absl::EqualsIgnoreCase(header.substr(0, kScheme.size()), kScheme)) {
    return absl::UnauthenticatedError("missing bearer token (authorization: Bearer <token>)");
  }
  const Digest given = Hash(header.substr(kScheme.size()));
  if (CRYPTO_memcmp(given.data(), digest_.data(), given.size()) != 0) {
    return absl::UnauthenticatedError("invalid bearer token");
  }
  return absl::OkStatus();
}

absl::Status TokenAuthenticator::Check(const grpc::ServerContextBase& context) const {
  const auto& metadata = context.client_metadata();
  auto it = metadata.find("authorization");
  if (it == metadata.end()) return absl::UnauthenticatedError("missing bearer token (authorization: Bearer <token>)");
  return CheckHeader(absl::string_view(it->second.data(), it->second.size()));
}

}  // namespace videogen::auth
