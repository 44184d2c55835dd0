// UTF-8 <-> code points, for the cleaning code (internal to engine/text).
#pragma once

#include <optional>
#include <string>

namespace videogen::text {

// Strict decoding (no overlong forms, surrogates or values above U+10FFFF);
// nullopt on invalid input.
std::optional<std::u32string> DecodeUtf8(const std::string& text);

// Precondition: every element is a Unicode scalar value.
std::string EncodeUtf8(const std::u32string& text);
void AppendUtf8(char32_t c, std::string* out);

}  // namespace videogen::text
