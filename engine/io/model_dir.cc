#include "engine/io/model_dir.h"

#include <filesystem>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace videogen::io {
namespace fs = std::filesystem;

absl::StatusOr<ModelFiles> FindModelFiles(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return absl::InvalidArgumentError(absl::StrCat("model directory ", dir, " is not a directory"));
  }
  const fs::path root = fs::absolute(dir, ec);
  std::vector<std::string> missing;
  auto find = [&](const char* name, bool required) -> std::string {
    const fs::path p = root / name;
    if (fs::is_regular_file(p, ec)) return p.string();
    if (required) missing.push_back(name);
    return "";
  };
  ModelFiles files;
  files.dir = root.string();
  files.dit_config = find(kDitConfigFile, true);
  files.dit = find(kDitIndexFile, false);
  if (files.dit.empty()) {
    files.dit = find(kDitWeightsFile, false);
    if (files.dit.empty()) missing.push_back(absl::StrCat(kDitWeightsFile, " (or ", kDitIndexFile, ")"));
  }
  files.t5 = find(kT5File, true);
  files.tokenizer = find(kTokenizerFile, true);
  files.vae = find(kVaeFile, true);
  files.clip = find(kClipFile, false);
  files.videogen_config = find(kVideogenConfigFile, false);
  if (!missing.empty()) {
    return absl::NotFoundError(absl::StrCat("model directory ", files.dir, " lacks ", absl::StrJoin(missing, ", "),
                                            " (expected the official Wan2.1 layout; see README)"));
  }
  return files;
}

}  // namespace videogen::io
