// Run-time binding to videogen_spm_shim (internal to engine/text): the shim is
// dlopen'ed with RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND so that SentencePiece's
// bundled protobuf stays private to it (see spm_shim/spm_shim.h).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/text/spm_shim/spm_shim.h"

namespace videogen::text {

// The shim's entry points. The library is never unloaded (dlclose of a library
// carrying static protobuf state is unsafe); dlopen reference-counts repeated loads.
// Immutable after Load; thread-safe.
class SpmLibrary {
 public:
  // Path used when none is given: $VIDEOGEN_SPM_SHIM when set, else the shim
  // built next to this library (known at build time) when that file exists,
  // else its bare file name (found through the loader's search path).
  static std::string DefaultPath();

  // FailedPrecondition naming `path` and dlerror() when the shim cannot be
  // loaded, lacks an entry point or has another ABI version.
  static absl::StatusOr<std::shared_ptr<const SpmLibrary>> Load(const std::string& path);

  const std::string& path() const { return path_; }

  int (*abi_version)(void) = nullptr;
  int (*open)(const char*, VgSpmModel**, char*, size_t) = nullptr;
  void (*close)(VgSpmModel*) = nullptr;
  int (*encode)(const VgSpmModel*, const char*, size_t, int32_t**, size_t*, char*, size_t) = nullptr;
  void (*free_ids)(int32_t*) = nullptr;
  int32_t (*piece_size)(const VgSpmModel*) = nullptr;
  int32_t (*unk_id)(const VgSpmModel*) = nullptr;
  int32_t (*bos_id)(const VgSpmModel*) = nullptr;
  int32_t (*eos_id)(const VgSpmModel*) = nullptr;
  int32_t (*pad_id)(const VgSpmModel*) = nullptr;
  int (*is_unknown)(const VgSpmModel*, int32_t) = nullptr;
  int32_t (*piece_to_id)(const VgSpmModel*, const char*, size_t) = nullptr;
  int64_t (*id_to_piece)(const VgSpmModel*, int32_t, char*, size_t) = nullptr;

 private:
  std::string path_;
};

// One loaded SentencePiece model. Thread-safe (SentencePiece encoding is const).
class SpmModel {
 public:
  // NotFound for a missing model file, the shim's status otherwise (with the
  // SentencePiece message), FailedPrecondition when the shim cannot be loaded.
  static absl::StatusOr<std::unique_ptr<SpmModel>> Open(const std::string& model_path,
                                                        const std::string& shim_path);
  ~SpmModel();
  SpmModel(const SpmModel&) = delete;
  SpmModel& operator=(const SpmModel&) = delete;

  // Piece ids of `text` (UTF-8) after the model's normalizer.
  absl::StatusOr<std::vector<int32_t>> Encode(const std::string& text) const;

  int32_t piece_size() const;
  int32_t unk_id() const;
  int32_t eos_id() const;
  int32_t pad_id() const;
  bool IsUnknown(int32_t id) const;
  int32_t PieceToId(const std::string& piece) const;
  // "" for out-of-range ids.
  std::string IdToPiece(int32_t id) const;

 private:
  SpmModel(std::shared_ptr<const SpmLibrary> library, VgSpmModel* handle)
      : library_(std::move(library)), handle_(handle) {}

  const std::shared_ptr<const SpmLibrary> library_;
  VgSpmModel* const handle_;  // owned; closed in the destructor
};

}  // namespace videogen::text
