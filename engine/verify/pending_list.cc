#include "engine/verify/pending_list.h"

#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace videogen::verify {

absl::StatusOr<PendingList> ParsePendingList(absl::string_view text) {
  PendingList list;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    const std::vector<absl::string_view> words = absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    if (words.size() < 2 || words[1].empty() || words[1][0] != '#') {
      return absl::InvalidArgumentError(
          absl::StrCat("pending list line ", line_number, ": '", line, "' is not 'FIXTURE_NAME #ISSUE'"));
    }
    if (!list.emplace(std::string(words[0]), std::string(words[1])).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("pending list line ", line_number, ": '", words[0], "' is listed twice"));
    }
  }
  return list;
}

absl::StatusOr<PendingList> ReadPendingList(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read the pending list ", path));
  std::stringstream text;
  text << in.rdbuf();
  auto list = ParsePendingList(text.str());
  if (!list.ok()) return absl::InvalidArgumentError(absl::StrCat(path, ": ", list.status().message()));
  return list;
}

}  // namespace videogen::verify
