// Bearer-token authentication of RPCs. The token comes from a file (its first
// line, surrounding whitespace trimmed); callers send
// `authorization: Bearer <token>`. The comparison is constant-time: both
// tokens are hashed with SHA-256 and the digests compared with CRYPTO_memcmp,
// so neither the content nor the length of the token leaks through timing.
#pragma once

#include <array>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace grpc {
class ServerContextBase;
}

namespace videogen::auth {

// Thread-safe (immutable after creation).
class TokenAuthenticator {
 public:
  // Errors: NotFound / PermissionDenied when the file cannot be read,
  // InvalidArgument("auth_token_file: ...") when it holds no token.
  static absl::StatusOr<std::unique_ptr<TokenAuthenticator>> FromFile(const std::string& path);
  // InvalidArgument when `token` is empty.
  static absl::StatusOr<std::unique_ptr<TokenAuthenticator>> FromToken(absl::string_view token);

  // OK when `authorization_header` is "Bearer <token>"; Unauthenticated otherwise.
  absl::Status CheckHeader(absl::string_view authorization_header) const;
  // Checks the call's `authorization` metadata. Unauthenticated when missing or wrong.
  absl::Status Check(const grpc::ServerContextBase& context) const;

 private:
  using Digest = std::array<unsigned char, 32>;
  explicit TokenAuthenticator(const Digest& digest) : digest_(digest) {}
  static Digest Hash(absl::string_view data);

  const Digest digest_;
};

}  // namespace videogen::auth
