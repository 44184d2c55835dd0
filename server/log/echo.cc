#include "server/log/echo.h"

#include "absl/strings/str_cat.h"

namespace videogen::logging {

std::string Echo(absl::string_view value) {
  if (value.size() <= kMaxEchoedBytes) return std::string(value);
  size_t n = kMaxEchoedBytes;
  // Back off UTF-8 continuation bytes (10xxxxxx) so no sequence is cut.
  while (n > 0 && (static_cast<unsigned char>(value[n]) & 0xC0) == 0x80) --n;
  return absl::StrCat(value.substr(0, n), "...");
}

}  // namespace videogen::logging
