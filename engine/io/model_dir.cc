#include "engine/io/model_dir.h"

#include <filesystem>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/common/status_macros.h"
#include "engine/io/comfy_layout.h"

namespace videogen::io {
namespace fs = std::filesystem;
namespace {

// Tokenizer locations of the ComfyUI layout, in order of preference.
constexpr const char* kComfyTokenizerFiles[] = {"spiece.model", kTokenizerFile, "tokenizer/spiece.model"};

// The ComfyUI layout of `root`: the files, or NotFound listing what is missing.
// *any_found: whether at least one ComfyUI component file was found.
absl::StatusOr<ModelFiles> FindComfyFiles(const fs::path& root, bool* any_found) {
  std::error_code ec;
  ASSIGN_OR_RETURN(const ComfyFiles comfy, DetectComfyFiles(root.string()));
  *any_found = !comfy.dit.empty() || !comfy.t5.empty() || !comfy.vae.empty() || !comfy.clip.empty();
  ModelFiles files;
  files.dir = root.string();
  files.layout = ModelLayout::kComfyUI;
  files.dit = comfy.dit;
  files.t5 = comfy.t5;
  files.vae = comfy.vae;
  files.clip = comfy.clip;
  for (const char* name : kComfyTokenizerFiles) {
    if (fs::is_regular_file(root / name, ec)) {
      files.tokenizer = (root / name).string();
      break;
    }
  }
  if (fs::is_regular_file(root / kDitConfigFile, ec)) files.dit_config = (root / kDitConfigFile).string();
  if (fs::is_regular_file(root / kVideogenConfigFile, ec)) {
    files.videogen_config = (root / kVideogenConfigFile).string();
  }
  std::vector<std::string> missing;
  if (files.dit.empty()) missing.push_back("a DiT file (wan2.1_*.safetensors)");
  if (files.t5.empty()) missing.push_back("a umT5 file (umt5_xxl_*.safetensors)");
  if (files.vae.empty()) missing.push_back("a VAE file (wan_2.1_vae.safetensors)");
  if (files.tokenizer.empty()) missing.push_back("spiece.model (the umT5 tokenizer)");
  if (!missing.empty()) {
    return absl::NotFoundError(absl::StrCat("the ComfyUI layout lacks ", absl::StrJoin(missing, ", ")));
  }
  return files;
}

}  // namespace

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
  if (missing.empty()) return files;

  const std::string official = absl::StrCat("model directory ", files.dir, " lacks ", absl::StrJoin(missing, ", "),
                                            " (expected the official Wan2.1 layout or ComfyUI single files; see README)");
  bool any_comfy = false;
  absl::StatusOr<ModelFiles> comfy = FindComfyFiles(root, &any_comfy);
  if (comfy.ok()) return comfy;
  if (!absl::IsNotFound(comfy.status())) return comfy.status();
  if (!any_comfy) return absl::NotFoundError(official);
  return absl::NotFoundError(absl::StrCat(official, "; ", comfy.status().message()));
}

}  // namespace videogen::io
