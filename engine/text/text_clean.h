// Prompt cleaning exactly as the reference wraps its tokenizer
// (wan/modules/tokenizers.py: basic_clean, whitespace_clean, canonicalize),
// with Python's string semantics reproduced on code points.
#pragma once

#include <string>

#include "absl/status/statusor.h"

namespace videogen::text {

enum class TextClean {
  // basic_clean, then every run of whitespace -> one space, strip. The T5 text
  // encoder's setting (clean='whitespace').
  kWhitespace,
  // kWhitespace, then lower-cased (clean='lower').
  kLower,
  // basic_clean, '_' -> ' ', ASCII punctuation deleted, lower-cased, whitespace
  // collapsed, strip (clean='canonicalize').
  kCanonicalize,
  // The text is tokenized as given (clean=None).
  kNone,
};

// The reference's spelling: "whitespace", "lower", "canonicalize", or "" /
// "none" for no cleaning. InvalidArgument naming the value otherwise.
absl::StatusOr<TextClean> ParseTextClean(const std::string& name);

// Cleans UTF-8 `text`. basic_clean is: ftfy.fix_text -> html.unescape twice ->
// strip. ftfy is NOT reproduced (no C++ port is available; it repairs mojibake,
// curly quotes, control characters): ftfy.fix_text is treated as the identity,
// as the golden fixtures were generated. Whitespace follows the reference: strip
// removes Python str.isspace() characters, the collapse uses the `regex`
// module's \s (Unicode White_Space); lower-casing is Python's str.lower()
// (full Unicode case mapping, final sigma included).
// Thread-safe. InvalidArgument when `text` is not valid UTF-8.
absl::StatusOr<std::string> CleanText(const std::string& text, TextClean clean);

// Python's html.unescape on UTF-8 text: named references of the HTML5 list
// (including the legacy ones accepted without ';', longest prefix match),
// decimal/hex numeric references with the HTML5 replacement rules.
// InvalidArgument when `text` is not valid UTF-8. Thread-safe.
absl::StatusOr<std::string> HtmlUnescape(const std::string& text);

}  // namespace videogen::text
