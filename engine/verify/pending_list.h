// The pending list: golden fixtures whose component the engine does not
// implement yet, each with the issue that adds it. The acceptance run
// (videogen-verify --pending FILE) expects them to fail and fails when one
// passes, so the list can only shrink.
//
// File format: one fixture name per line, then whitespace and the issue
// ("dit_lora  #13"); '#' at the start of a line begins a comment; blank
// lines are ignored.
#pragma once

#include <map>
#include <string>


#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace videogen::verify {

// fixture name -> the issue that adds it ("#13").
using PendingList = std::map<std::string, std::string>;

// InvalidArgument naming the line for an entry without an issue, or a name
// listed twice.
absl::StatusOr<PendingList> ParsePendingList(absl::string_view text);

// Reads and parses `path`; NotFound when it cannot be read.
absl::StatusOr<PendingList> ReadPendingList(const std::string& path);

}  // namespace videogen::verify
