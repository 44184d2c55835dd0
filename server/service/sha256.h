// SHA-256 (OpenSSL libcrypto) as lowercase hex.
#pragma once

#include <string>

#include "absl/strings/string_view.h"

namespace videogen::service {

// Thread-safe.
std::string Sha256Hex(absl::string_view data);

}  // namespace videogen::service
