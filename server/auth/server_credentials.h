// Transport security for the server: plaintext, TLS, or mutual TLS.
#pragma once

#include <grpcpp/security/server_credentials.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace videogen::auth {

struct TlsOptions {
  std::string cert_file;       // PEM certificate chain; empty: plaintext
  std::string key_file;        // PEM private key; required with cert_file
  std::string client_ca_file;  // PEM CA bundle; set: clients must present a certificate it signed (mTLS)
};

// Reads the files and builds credentials. Errors: InvalidArgument naming the
// flag (`tls_key` without `tls_cert`, `tls_client_ca` without TLS),
// NotFound when a file cannot be read.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(const TlsOptions& options);

// Reads a whole file. NotFound naming `what` when it cannot be read.
absl::StatusOr<std::string> ReadFileToString(const std::string& path, const std::string& what);

}  // namespace videogen::auth
