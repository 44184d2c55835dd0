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
absl::StatusOr<ModelFiles> FindComfyFiles(const fs::path& root, const FindModelFilesOptions& options, bool* any_found) {
  std::error_code ec;
  ASSIGN_OR_RETURN(const ComfyFiles comfy, DetectComfyFiles(root.string()));
  *any_found = !comfy.dit.empty() || !comfy.dit_high_noise.empty() || !comfy.dit_low_noise.empty() ||
               !comfy.t5.empty() || !comfy.vae.empty() || !comfy.clip.empty();
  ModelFiles files;
  files.dir = root.string();
  files.layout = ModelLayout::kComfyUI;
  files.dit = comfy.dit.empty() ? comfy.dit_high_noise : comfy.dit;
  files.dit_low_noise = comfy.dit_low_noise;
  files.t5 = comfy.t5;
  files.vae = comfy.vae;
  files.vae_kind = comfy.vae_kind;
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
  if (!comfy.dit_high_noise.empty() && comfy.dit_low_noise.empty()) {
    missing.push_back(absl::StrCat("the low-noise expert (a *low_noise* DiT file, partner of ",
                                   fs::path(comfy.dit_high_noise).filename().string(), ")"));
  } else if (comfy.dit_high_noise.empty() && !comfy.dit_low_noise.empty()) {
    missing.push_back(absl::StrCat("the high-noise expert (a *high_noise* DiT file, partner of ",
                                   fs::path(comfy.dit_low_noise).filename().string(), ")"));
  } else if (files.dit.empty()) {
    missing.push_back("a DiT file (wan2.1_*.safetensors or wan2.2_*.safetensors)");
  }
  if (!options.headers_only) {
    if (files.t5.empty()) missing.push_back("a umT5 file (umt5_xxl_*.safetensors)");
    if (files.vae.empty()) missing.push_back("a VAE file (wan_2.1_vae.safetensors or wan2.2_vae.safetensors)");
    if (files.tokenizer.empty()) missing.push_back("spiece.model (the umT5 tokenizer)");
  }
  if (!missing.empty()) {
    return absl::NotFoundError(absl::StrCat("the ComfyUI layout lacks ", absl::StrJoin(missing, ", ")));
  }
  return files;
}

// Looks files up under one official directory, collecting what is missing.
class OfficialFinder {
 public:
  OfficialFinder(fs::path root, const FindModelFilesOptions& options) : root_(std::move(root)), options_(options) {}

  // `name` (relative to the root) when it is a file, else "" (and, when
  // `required`, `name` is listed as missing).
  std::string File(const std::string& name, bool required) {
    std::error_code ec;
    const fs::path p = root_ / name;
    if (fs::is_regular_file(p, ec)) return p.string();
    if (required) missing_.push_back(name);
    return "";
  }
  // An official `.pth`, or (headers_only) its `<stem>.safetensors` stand-in.
  std::string Checkpoint(const std::string& name, bool required) {
    std::string path = File(name, false);
    if (path.empty() && options_.headers_only) {
      path = File(fs::path(name).replace_extension(".safetensors").string(), false);
    }
    if (path.empty() && required) missing_.push_back(name);
    return path;
  }
  // The DiT weights of `sub` ("" = the root): the index when sharded, else the single file.
  std::string Dit(const std::string& sub) {
    const std::string prefix = sub.empty() ? "" : sub + "/";
    std::string path = File(prefix + kDitIndexFile, false);
    if (path.empty()) path = File(prefix + kDitWeightsFile, false);
    if (path.empty()) missing_.push_back(absl::StrCat(prefix, kDitWeightsFile, " (or ", prefix, kDitIndexFile, ")"));
    return path;
  }
  void Missing(std::string what) { missing_.push_back(std::move(what)); }
  const std::vector<std::string>& missing() const { return missing_; }

 private:
  const fs::path root_;
  const FindModelFilesOptions options_;
  std::vector<std::string> missing_;
};

// The official layout of `root`; `finder` lists what is missing.
absl::StatusOr<ModelFiles> FindOfficialFiles(const fs::path& root, const FindModelFilesOptions& options,
                                             OfficialFinder& finder) {
  std::error_code ec;
  const bool required = !options.headers_only;
  ModelFiles files;
  files.dir = root.string();
  const bool high = fs::is_directory(root / kHighNoiseDir, ec);
  const bool low = fs::is_directory(root / kLowNoiseDir, ec);
  if (high || low) {
    // A Wan2.2 expert pair: each expert's config.json and weights in its sub-directory.
    const std::string high_dir = kHighNoiseDir, low_dir = kLowNoiseDir;
    if (high) {
      files.dit_config = finder.File(high_dir + "/" + kDitConfigFile, required);
      files.dit = finder.Dit(high_dir);
    } else {
      finder.Missing(absl::StrCat(high_dir, "/ (the high-noise expert)"));
    }
    if (low) {
      files.dit_low_noise_config = finder.File(low_dir + "/" + kDitConfigFile, required);
      files.dit_low_noise = finder.Dit(low_dir);
    } else {
      finder.Missing(absl::StrCat(low_dir, "/ (the low-noise expert)"));
    }
  } else {
    files.dit_config = finder.File(kDitConfigFile, required);
    files.dit = finder.Dit("");
  }
  files.t5 = finder.Checkpoint(kT5File, required);
  files.tokenizer = finder.File(kTokenizerFile, required);
  const std::string vae21 = finder.Checkpoint(kVaeFile, false);
  const std::string vae22 = finder.Checkpoint(kVae22File, false);
  if (!vae21.empty() && !vae22.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("model directory ", files.dir, " holds both ", vae21, " and ", vae22,
                                                   "; keep the VAE of its DiT"));
  }
  files.vae = vae22.empty() ? vae21 : vae22;
  files.vae_kind = vae22.empty() ? VaeKind::kWan21 : VaeKind::kWan22;
  if (files.vae.empty() && required) finder.Missing(absl::StrCat(kVaeFile, " (or ", kVae22File, ")"));
  files.clip = finder.Checkpoint(kClipFile, false);
  files.videogen_config = finder.File(kVideogenConfigFile, false);
  return files;
}

}  // namespace

absl::StatusOr<ModelFiles> FindModelFiles(const std::string& dir, const FindModelFilesOptions& options) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return absl::InvalidArgumentError(absl::StrCat("model directory ", dir, " is not a directory"));
  }
  const fs::path root = fs::absolute(dir, ec);
  OfficialFinder finder(root, options);
  ASSIGN_OR_RETURN(ModelFiles files, FindOfficialFiles(root, options, finder));
  if (finder.missing().empty()) return files;

  const std::string official =
      absl::StrCat("model directory ", files.dir, " lacks ", absl::StrJoin(finder.missing(), ", "),
                   " (expected an official Wan2.1/Wan2.2 layout or ComfyUI single files; see README)");
  bool any_comfy = false;
  absl::StatusOr<ModelFiles> comfy = FindComfyFiles(root, options, &any_comfy);
  if (comfy.ok()) return comfy;
  if (!absl::IsNotFound(comfy.status())) return comfy.status();
  if (!any_comfy) return absl::NotFoundError(official);
  return absl::NotFoundError(absl::StrCat(official, "; ", comfy.status().message()));
}

}  // namespace videogen::io
