#include "engine/text/spm_library.h"

#include <dlfcn.h>

#include <cstdlib>
#include <filesystem>
#include <system_error>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

#ifndef VIDEOGEN_SPM_SHIM_DEFAULT_PATH
#define VIDEOGEN_SPM_SHIM_DEFAULT_PATH "libvideogen_spm_shim.so"
#endif

namespace videogen::text {
namespace {

constexpr const char kShimFileName[] = "libvideogen_spm_shim.so";
constexpr size_t kErrorSize = 1024;

// Sanitizer runtimes refuse RTLD_DEEPBIND; RTLD_LOCAL alone is used there.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr int kDlopenFlags = RTLD_NOW | RTLD_LOCAL;
#else
constexpr int kDlopenFlags = RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND;
#endif

template <typename Fn>
bool Bind(void* handle, const char* name, Fn* fn, std::string* missing) {
  dlerror();
  void* sym = dlsym(handle, name);
  if (sym == nullptr) {
    const char* err = dlerror();
    *missing = absl::StrCat(name, ": ", err != nullptr ? err : "null symbol");
    return false;
  }
  *fn = reinterpret_cast<Fn>(sym);
  return true;
}

absl::Status StatusFromShim(int code, const char* error, const std::string& context) {
  const auto status_code = (code > 0 && code <= 16) ? static_cast<absl::StatusCode>(code)
                                                     : absl::StatusCode::kUnknown;
  return absl::Status(status_code, absl::StrCat(context, ": ", error));
}

}  // namespace

std::string SpmLibrary::DefaultPath() {
  if (const char* env = std::getenv("VIDEOGEN_SPM_SHIM"); env != nullptr && env[0] != '\0') return env;
  std::error_code ec;
  if (std::filesystem::exists(VIDEOGEN_SPM_SHIM_DEFAULT_PATH, ec)) return VIDEOGEN_SPM_SHIM_DEFAULT_PATH;
  return kShimFileName;
}

absl::StatusOr<std::shared_ptr<const SpmLibrary>> SpmLibrary::Load(const std::string& path) {
  dlerror();
  void* handle = dlopen(path.c_str(), kDlopenFlags);
  if (handle == nullptr) {
    const char* err = dlerror();
    return absl::FailedPreconditionError(absl::StrCat("cannot load the SentencePiece shim '", path,
                                                      "' (set VIDEOGEN_SPM_SHIM): ",
                                                      err != nullptr ? err : "unknown dlopen error"));
  }
  auto lib = std::make_shared<SpmLibrary>();
  lib->path_ = path;
  std::string missing;
  const bool ok = Bind(handle, "vg_spm_abi_version", &lib->abi_version, &missing) &&
                  Bind(handle, "vg_spm_open", &lib->open, &missing) &&
                  Bind(handle, "vg_spm_close", &lib->close, &missing) &&
                  Bind(handle, "vg_spm_encode", &lib->encode, &missing) &&
                  Bind(handle, "vg_spm_free_ids", &lib->free_ids, &missing) &&
                  Bind(handle, "vg_spm_piece_size", &lib->piece_size, &missing) &&
                  Bind(handle, "vg_spm_unk_id", &lib->unk_id, &missing) &&
                  Bind(handle, "vg_spm_bos_id", &lib->bos_id, &missing) &&
                  Bind(handle, "vg_spm_eos_id", &lib->eos_id, &missing) &&
                  Bind(handle, "vg_spm_pad_id", &lib->pad_id, &missing) &&
                  Bind(handle, "vg_spm_is_unknown", &lib->is_unknown, &missing) &&
                  Bind(handle, "vg_spm_piece_to_id", &lib->piece_to_id, &missing) &&
                  Bind(handle, "vg_spm_id_to_piece", &lib->id_to_piece, &missing);
  if (!ok) {
    return absl::FailedPreconditionError(
        absl::StrCat("SentencePiece shim '", path, "' lacks an entry point: ", missing));
  }
  if (const int version = lib->abi_version(); version != VG_SPM_SHIM_ABI_VERSION) {
    return absl::FailedPreconditionError(absl::StrCat("SentencePiece shim '", path, "' has ABI version ",
                                                      version, ", expected ", VG_SPM_SHIM_ABI_VERSION));
  }
  return std::shared_ptr<const SpmLibrary>(std::move(lib));
}

absl::StatusOr<std::unique_ptr<SpmModel>> SpmModel::Open(const std::string& model_path,
                                                         const std::string& shim_path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(model_path, ec)) {
    return absl::NotFoundError(absl::StrCat("SentencePiece model '", model_path, "' not found"));
  }
  absl::StatusOr<std::shared_ptr<const SpmLibrary>> library = SpmLibrary::Load(shim_path);
  if (!library.ok()) return library.status();
  char error[kErrorSize] = {0};
  VgSpmModel* handle = nullptr;
  const int code = (*library)->open(model_path.c_str(), &handle, error, sizeof(error));
  if (code != 0) return StatusFromShim(code, error, absl::StrCat("loading SentencePiece model '", model_path, "'"));
  return std::unique_ptr<SpmModel>(new SpmModel(*std::move(library), handle));
}

SpmModel::~SpmModel() { library_->close(handle_); }

absl::StatusOr<std::vector<int32_t>> SpmModel::Encode(const std::string& text) const {
  char error[kErrorSize] = {0};
  int32_t* ids = nullptr;
  size_t num_ids = 0;
  const int code = library_->encode(handle_, text.data(), text.size(), &ids, &num_ids, error, sizeof(error));
  if (code != 0) return StatusFromShim(code, error, "SentencePiece encode");
  std::vector<int32_t> out(ids, ids + num_ids);
  library_->free_ids(ids);
  return out;
}

int32_t SpmModel::piece_size() const { return library_->piece_size(handle_); }
int32_t SpmModel::unk_id() const { return library_->unk_id(handle_); }
int32_t SpmModel::eos_id() const { return library_->eos_id(handle_); }
int32_t SpmModel::pad_id() const { return library_->pad_id(handle_); }
bool SpmModel::IsUnknown(int32_t id) const { return library_->is_unknown(handle_, id) != 0; }

int32_t SpmModel::PieceToId(const std::string& piece) const {
  return library_->piece_to_id(handle_, piece.data(), piece.size());
}

std::string SpmModel::IdToPiece(int32_t id) const {
  const int64_t n = library_->id_to_piece(handle_, id, nullptr, 0);
  if (n < 0) return "";
  std::string piece(static_cast<size_t>(n) + 1, '\0');
  library_->id_to_piece(handle_, id, piece.data(), piece.size());
  piece.resize(static_cast<size_t>(n));
  return piece;
}

}  // namespace videogen::text
