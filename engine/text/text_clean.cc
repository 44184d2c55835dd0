#include "engine/text/text_clean.h"

#include <unicode/locid.h>
#include <unicode/unistr.h>

#include <algorithm>
#include <cstring>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "engine/text/utf8.h"

namespace videogen::text {
namespace {

struct HtmlEntity {
  const char* name;
  const char* value;
};
struct HtmlCharrefFix {
  char32_t code;
  const char* value;
};
#include "engine/text/html_entities.inc"

// Python str.isspace(): bidi class WS/B/S or category Zs (used by str.strip()).
bool IsPythonSpace(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 ||
         c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
         c == 0x205F || c == 0x3000;
}

// The `regex` module's \s on str patterns: Unicode White_Space (no U+001C..U+001F).
bool IsRegexSpace(char32_t c) { return IsPythonSpace(c) && !(c >= 0x1C && c <= 0x1F); }

// string.punctuation.
bool IsAsciiPunctuation(char32_t c) {
  return c < 0x80 && std::strchr("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", static_cast<int>(c)) != nullptr &&
         c != 0;
}

std::u32string Strip(const std::u32string& s) {
  size_t b = 0;
  size_t e = s.size();
  while (b < e && IsPythonSpace(s[b])) ++b;
  while (e > b && IsPythonSpace(s[e - 1])) --e;
  return s.substr(b, e - b);
}

// re.sub(r'\s+', ' ', s) with the `regex` module.
std::u32string CollapseWhitespace(const std::u32string& s) {
  std::u32string out;
  out.reserve(s.size());
  bool in_space = false;
  for (char32_t c : s) {
    if (IsRegexSpace(c)) {
      if (!in_space) out.push_back(U' ');
      in_space = true;
    } else {
      out.push_back(c);
      in_space = false;
    }
  }
  return out;
}

// Python str.lower(): full Unicode lower-case mapping (root locale, final sigma).
std::u32string Lower(const std::u32string& s) {
  icu::UnicodeString u = icu::UnicodeString::fromUTF32(reinterpret_cast<const UChar32*>(s.data()),
                                                       static_cast<int32_t>(s.size()));
  u.toLower(icu::Locale::getRoot());
  std::u32string out(static_cast<size_t>(u.countChar32()), U'\0');
  UErrorCode status = U_ZERO_ERROR;
  const int32_t n = u.toUTF32(reinterpret_cast<UChar32*>(out.data()), static_cast<int32_t>(out.size()), status);
  out.resize(static_cast<size_t>(std::max<int32_t>(n, 0)));
  return out;
}

const char* FindNamedEntity(const std::string& name) {
  const auto* begin = std::begin(kHtmlNamedEntities);
  const auto* end = std::end(kHtmlNamedEntities);
  const auto* it = std::lower_bound(begin, end, name, [](const HtmlEntity& e, const std::string& n) {
    return std::strcmp(e.name, n.c_str()) < 0;
  });
  return it != end && name == it->name ? it->value : nullptr;
}

void AppendUtf8Bytes(const char* utf8, std::u32string* out) {
  // Table values are valid UTF-8 by construction.
  const std::optional<std::u32string> decoded = DecodeUtf8(utf8);
  if (decoded) out->append(*decoded);
}

// html._replace_charref for a numeric reference with value `num` (saturated
// above U+10FFFF).
void AppendNumericCharref(char32_t num, std::u32string* out) {
  for (const HtmlCharrefFix& fix : kHtmlInvalidCharrefs) {
    if (fix.code == num) {
      AppendUtf8Bytes(fix.value, out);
      return;
    }
  }
  if ((num >= 0xD800 && num <= 0xDFFF) || num > 0x10FFFF) {
    out->push_back(0xFFFD);
    return;
  }
  if (std::binary_search(std::begin(kHtmlInvalidCodepoints), std::end(kHtmlInvalidCodepoints), num)) return;
  out->push_back(num);
}

bool IsAsciiDigit(char32_t c) { return c >= '0' && c <= '9'; }
bool IsAsciiHexDigit(char32_t c) {
  return IsAsciiDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
int HexValue(char32_t c) {
  if (IsAsciiDigit(c)) return static_cast<int>(c - '0');
  if (c >= 'a' && c <= 'f') return static_cast<int>(c - 'a' + 10);
  return static_cast<int>(c - 'A' + 10);
}

// [^\t\n\f <&#;] of html._charref.
bool IsCharrefNameChar(char32_t c) {
  return c != '\t' && c != '\n' && c != '\f' && c != ' ' && c != '<' && c != '&' && c != '#' && c != ';';
}

// html.unescape: every match of
//   &(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)
// (left to right, non-overlapping) is replaced as html._replace_charref does.
std::u32string UnescapeCodepoints(const std::u32string& s) {
  constexpr char32_t kSaturated = 0x110000;
  std::u32string out;
  out.reserve(s.size());
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    if (s[i] != U'&') {
      out.push_back(s[i++]);
      continue;
    }
    const size_t j = i + 1;
    if (j < n && s[j] == U'#') {
      const bool hex = j + 1 < n && (s[j + 1] == U'x' || s[j + 1] == U'X') && j + 2 < n &&
                       IsAsciiHexDigit(s[j + 2]);
      const bool dec = j + 1 < n && IsAsciiDigit(s[j + 1]);
      if (!hex && !dec) {  // no alternative matches at this '&'
        out.push_back(s[i++]);
        continue;
      }
      size_t e = hex ? j + 2 : j + 1;
      char32_t num = 0;
      while (e < n && (hex ? IsAsciiHexDigit(s[e]) : IsAsciiDigit(s[e]))) {
        const char32_t digit = static_cast<char32_t>(HexValue(s[e]));
        num = num >= kSaturated ? kSaturated : std::min<char32_t>(num * (hex ? 16 : 10) + digit, kSaturated);
        ++e;
      }
      if (e < n && s[e] == U';') ++e;
      AppendNumericCharref(num, &out);
      i = e;
      continue;
    }
    size_t e = j;
    while (e < n && e - j < 32 && IsCharrefNameChar(s[e])) ++e;
    if (e == j) {
      out.push_back(s[i++]);
      continue;
    }
    if (e < n && s[e] == U';') ++e;
    const std::u32string ref = s.substr(j, e - j);
    i = e;
    if (const char* value = FindNamedEntity(EncodeUtf8(ref))) {
      AppendUtf8Bytes(value, &out);
      continue;
    }
    // The longest prefix (at least 2 characters) that is a known name.
    bool replaced = false;
    for (size_t x = ref.size() - 1; x > 1; --x) {
      if (const char* value = FindNamedEntity(EncodeUtf8(ref.substr(0, x)))) {
        AppendUtf8Bytes(value, &out);
        out.append(ref, x, std::u32string::npos);
        replaced = true;
        break;
      }
    }
    if (!replaced) {
      out.push_back(U'&');
      out.append(ref);
    }
  }
  return out;
}

// ftfy.fix_text (identity here, see the header), html.unescape twice, strip.
std::u32string BasicClean(const std::u32string& s) {
  return Strip(UnescapeCodepoints(UnescapeCodepoints(s)));
}

}  // namespace

absl::StatusOr<TextClean> ParseTextClean(const std::string& name) {
  if (name == "whitespace") return TextClean::kWhitespace;
  if (name == "lower") return TextClean::kLower;
  if (name == "canonicalize") return TextClean::kCanonicalize;
  if (name.empty() || name == "none") return TextClean::kNone;
  return absl::InvalidArgumentError(absl::StrCat(
      "clean: expected 'whitespace', 'lower', 'canonicalize' or 'none', got '", name, "'"));
}

absl::StatusOr<std::string> HtmlUnescape(const std::string& text) {
  const std::optional<std::u32string> decoded = DecodeUtf8(text);
  if (!decoded) return absl::InvalidArgumentError("html unescape: text is not valid UTF-8");
  return EncodeUtf8(UnescapeCodepoints(*decoded));
}

absl::StatusOr<std::string> CleanText(const std::string& text, TextClean clean) {
  const std::optional<std::u32string> decoded = DecodeUtf8(text);
  if (!decoded) return absl::InvalidArgumentError("text clean: text is not valid UTF-8");
  std::u32string s = *decoded;
  switch (clean) {
    case TextClean::kNone:
      return text;
    case TextClean::kWhitespace:
      s = Strip(CollapseWhitespace(BasicClean(s)));
      break;
    case TextClean::kLower:
      s = Lower(Strip(CollapseWhitespace(BasicClean(s))));
      break;
    case TextClean::kCanonicalize: {
      s = BasicClean(s);
      std::replace(s.begin(), s.end(), U'_', U' ');
      s.erase(std::remove_if(s.begin(), s.end(), IsAsciiPunctuation), s.end());
      s = Strip(CollapseWhitespace(Lower(s)));
      break;
    }
  }
  return EncodeUtf8(s);
}

}  // namespace videogen::text
