// The only translation unit that includes SentencePiece (see spm_shim.h).
#include "engine/text/spm_shim/spm_shim.h"

#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include <sentencepiece_processor.h>

#define VG_SPM_EXPORT extern "C" __attribute__((visibility("default")))

struct VgSpmModel {
  sentencepiece::SentencePieceProcessor processor;
};

namespace {

constexpr int kInternal = 13;
constexpr int kResourceExhausted = 8;
constexpr int kInvalidArgument = 3;

void SetError(char* error, size_t error_size, const std::string& message) {
  if (error == nullptr || error_size == 0) return;
  const size_t n = message.size() < error_size - 1 ? message.size() : error_size - 1;
  std::memcpy(error, message.data(), n);
  error[n] = '\0';
}

int FromSpmStatus(const sentencepiece::util::Status& status, char* error, size_t error_size) {
  if (status.ok()) return 0;
  SetError(error, error_size, status.ToString());
  return static_cast<int>(status.code());
}

// Runs `fn` (returning a status code) with every exception mapped to a code.
template <typename Fn>
int Guarded(char* error, size_t error_size, Fn&& fn) {
  try {
    return fn();
  } catch (const std::bad_alloc&) {
    SetError(error, error_size, "out of memory");
    return kResourceExhausted;
  } catch (const std::exception& e) {
    SetError(error, error_size, e.what());
    return kInternal;
  } catch (...) {
    SetError(error, error_size, "unknown exception in sentencepiece");
    return kInternal;
  }
}

bool InRange(const VgSpmModel* model, int32_t id) {
  return model != nullptr && id >= 0 && id < model->processor.GetPieceSize();
}

}  // namespace

VG_SPM_EXPORT int vg_spm_abi_version(void) { return VG_SPM_SHIM_ABI_VERSION; }

VG_SPM_EXPORT int vg_spm_open(const char* model_path, VgSpmModel** model, char* error,
                              size_t error_size) {
  if (model == nullptr || model_path == nullptr) {
    SetError(error, error_size, "vg_spm_open: null argument");
    return kInvalidArgument;
  }
  *model = nullptr;
  return Guarded(error, error_size, [&] {
    auto loaded = std::make_unique<VgSpmModel>();
    const int code = FromSpmStatus(loaded->processor.Load(model_path), error, error_size);
    if (code == 0) *model = loaded.release();
    return code;
  });
}

VG_SPM_EXPORT void vg_spm_close(VgSpmModel* model) { delete model; }

VG_SPM_EXPORT int vg_spm_encode(const VgSpmModel* model, const char* text, size_t text_size,
                                int32_t** ids, size_t* num_ids, char* error, size_t error_size) {
  if (model == nullptr || ids == nullptr || num_ids == nullptr || (text == nullptr && text_size > 0)) {
    SetError(error, error_size, "vg_spm_encode: null argument");
    return kInvalidArgument;
  }
  *ids = nullptr;
  *num_ids = 0;
  return Guarded(error, error_size, [&] {
    std::vector<int> pieces;
    const std::string input(text == nullptr ? "" : std::string(text, text_size));
    const int code = FromSpmStatus(model->processor.Encode(input, &pieces), error, error_size);
    if (code != 0 || pieces.empty()) return code;
    auto* out = static_cast<int32_t*>(std::malloc(pieces.size() * sizeof(int32_t)));
    if (out == nullptr) throw std::bad_alloc();
    for (size_t i = 0; i < pieces.size(); ++i) out[i] = static_cast<int32_t>(pieces[i]);
    *ids = out;
    *num_ids = pieces.size();
    return 0;
  });
}

VG_SPM_EXPORT void vg_spm_free_ids(int32_t* ids) { std::free(ids); }

VG_SPM_EXPORT int32_t vg_spm_piece_size(const VgSpmModel* model) {
  return model == nullptr ? 0 : model->processor.GetPieceSize();
}

VG_SPM_EXPORT int32_t vg_spm_unk_id(const VgSpmModel* model) {
  return model == nullptr ? -1 : model->processor.unk_id();
}
VG_SPM_EXPORT int32_t vg_spm_bos_id(const VgSpmModel* model) {
  return model == nullptr ? -1 : model->processor.bos_id();
}
VG_SPM_EXPORT int32_t vg_spm_eos_id(const VgSpmModel* model) {
  return model == nullptr ? -1 : model->processor.eos_id();
}
VG_SPM_EXPORT int32_t vg_spm_pad_id(const VgSpmModel* model) {
  return model == nullptr ? -1 : model->processor.pad_id();
}

VG_SPM_EXPORT int vg_spm_is_unknown(const VgSpmModel* model, int32_t id) {
  return InRange(model, id) && model->processor.IsUnknown(id) ? 1 : 0;
}

VG_SPM_EXPORT int32_t vg_spm_piece_to_id(const VgSpmModel* model, const char* piece,
                                         size_t piece_size) {
  if (model == nullptr) return -1;
  try {
    return model->processor.PieceToId(std::string(piece == nullptr ? "" : std::string(piece, piece_size)));
  } catch (...) {
    return model->processor.unk_id();
  }
}

VG_SPM_EXPORT int64_t vg_spm_id_to_piece(const VgSpmModel* model, int32_t id, char* buf,
                                         size_t buf_size) {
  if (!InRange(model, id)) return -1;
  const std::string& piece = model->processor.IdToPiece(id);
  SetError(buf, buf_size, piece);
  return static_cast<int64_t>(piece.size());
}
