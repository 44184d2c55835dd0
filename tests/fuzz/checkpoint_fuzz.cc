// FuzzSafetensors, FuzzPth: checkpoint bytes through the loaders' header and
// record parsing (engine/io). The loaders map files, so the bytes go to a
// scratch file first.
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "engine/io/pth.h"
#include "engine/io/safetensors.h"
#include "engine/io/unpickler.h"
#include "tests/fuzz/fuzz_targets.h"

namespace videogen::fuzz {
namespace {

// A private temporary directory, removed at exit.
class ScratchDir {
 public:
  ScratchDir() {
    char templ[] = "/tmp/videogen_fuzz_XXXXXX";
    if (mkdtemp(templ) != nullptr) path_ = templ;
  }
  ~ScratchDir() {
    std::error_code ignored;
    if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// `data` written to <the scratch directory>/<name>; its path.
std::string Scratch(const std::string& name, const uint8_t* data, size_t size) {
  static const ScratchDir dir;
  const std::string path = (dir.path().empty() ? std::string("/tmp") : dir.path()) + "/" + name;
  std::ofstream(path, std::ios::binary | std::ios::trunc).write(reinterpret_cast<const char*>(data), size);
  return path;
}

// The documented failures of the checkpoint readers: DataLoss or InvalidArgument, naming the file.
std::string CheckError(const char* what, const absl::Status& s, const std::string& path) {
  if (s.code() != absl::StatusCode::kDataLoss && s.code() != absl::StatusCode::kInvalidArgument) {
    return absl::StrCat(what, ": ", s.ToString());
  }
  if (!absl::StrContains(s.message(), path)) return absl::StrCat(what, ": does not name the file: ", s.ToString());
  return "";
}

// Every tensor of `source` reads back with the shape and size its header gave.
std::string ReadAll(const char* what, const io::TensorSource& source) {
  for (const io::TensorInfo& info : source.tensors()) {
    auto tensor = source.Read(info.name);
    if (!tensor.ok()) {
      if (tensor.status().code() == absl::StatusCode::kDataLoss) continue;  // a record the index did not check
      return absl::StrCat(what, ": Read(", info.name, "): ", tensor.status().ToString());
    }
    if (tensor->sizes().vec() != info.shape) return absl::StrCat(what, ": ", info.name, ": shape differs");
    if (static_cast<uint64_t>(tensor->numel()) * io::DTypeSize(info.dtype) != info.nbytes) {
      return absl::StrCat(what, ": ", info.name, ": ", tensor->numel(), " elements for ", info.nbytes, " bytes");
    }
  }
  return "";
}

}  // namespace

std::string FuzzSafetensors(const uint8_t* data, size_t size) {
  const std::string path = Scratch("model.safetensors", data, size);
  const auto header = io::ReadSafetensorsHeader(path);
  if (!header.ok()) {
    if (std::string e = CheckError("ReadSafetensorsHeader", header.status(), path); !e.empty()) return e;
  }
  const auto metadata = io::ReadSafetensorsMetadata(path);
  if (!metadata.ok()) {
    if (std::string e = CheckError("ReadSafetensorsMetadata", metadata.status(), path); !e.empty()) return e;
  }
  const auto source = io::OpenSafetensors(path);
  if (!source.ok()) return CheckError("OpenSafetensors", source.status(), path);
  if (!header.ok()) return "OpenSafetensors accepted a file whose header ReadSafetensorsHeader refused";
  if ((*source)->tensors().size() != header->size()) return "OpenSafetensors and ReadSafetensorsHeader disagree";
  return ReadAll("OpenSafetensors", **source);
}

std::string FuzzPth(const uint8_t* data, size_t size) {
  // The bytes as a bare pickle (data.pkl).
  const auto value = io::Unpickle(data, size);
  if (!value.ok() && value.status().code() != absl::StatusCode::kDataLoss &&
      value.status().code() != absl::StatusCode::kInvalidArgument) {
    return absl::StrCat("Unpickle: ", value.status().ToString());
  }
  if (value.ok() && *value == nullptr) return "Unpickle: null value";
  // The bytes as a whole torch.save zip.
  const std::string path = Scratch("model.pth", data, size);
  const auto source = io::OpenPth(path);
  if (!source.ok()) return CheckError("OpenPth", source.status(), path);
  return ReadAll("OpenPth", **source);
}

}  // namespace videogen::fuzz
