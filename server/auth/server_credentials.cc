#include "server/auth/server_credentials.h"

#include <grpcpp/security/server_credentials.h>

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "engine/common/status_macros.h"

namespace videogen::auth {

absl::StatusOr<std::string> ReadFileToString(const std::string& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(what, ": cannot read ", path));
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(const TlsOptions& options) {
  if (options.cert_file.empty()) {
    if (!options.key_file.empty()) return absl::InvalidArgumentError("tls_key: given without tls_cert");
    if (!options.client_ca_file.empty())
      return absl::InvalidArgumentError("tls_client_ca: requires tls_cert and tls_key");
    return grpc::InsecureServerCredentials();
  }
  if (options.key_file.empty()) return absl::InvalidArgumentError("tls_key: required with tls_cert");
  ASSIGN_OR_RETURN(std::string cert, ReadFileToString(options.cert_file, "tls_cert"));
  ASSIGN_OR_RETURN(std::string key, ReadFileToString(options.key_file, "tls_key"));
  grpc::SslServerCredentialsOptions ssl;
  ssl.pem_key_cert_pairs.push_back({std::move(key), std::move(cert)});
  if (!options.client_ca_file.empty()) {
    ASSIGN_OR_RETURN(ssl.pem_root_certs, ReadFileToString(options.client_ca_file, "tls_client_ca"));
    ssl.client_certificate_request = GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  return grpc::SslServerCredentials(ssl);
}

}  // namespace videogen::auth
