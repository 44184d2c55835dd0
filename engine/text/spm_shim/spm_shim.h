// videogen_spm_shim: a plain C interface to SentencePiece, built as its own
// shared library. Debian's libsentencepiece bundles (and exports) a private
// protobuf, which aborts the process when it meets the protobuf of gRPC or
// LibTorch. Only this shim links libsentencepiece; engine/text loads it with
// dlopen(RTLD_LOCAL | RTLD_DEEPBIND) so the two protobufs never see each other.
//
// Contract:
//  * No C++ type and no exception crosses this interface.
//  * Status codes use the absl/gRPC numbering (0 OK, 3 InvalidArgument,
//    5 NotFound, 13 Internal, ...).
//  * `error` buffers (may be NULL) receive a NUL-terminated message, truncated
//    to `error_size` bytes.
//  * A model handle is immutable after vg_spm_open; every function taking a
//    `const VgSpmModel*` is safe to call concurrently.
#ifndef VIDEOGEN_ENGINE_TEXT_SPM_SHIM_SPM_SHIM_H_
#define VIDEOGEN_ENGINE_TEXT_SPM_SHIM_SPM_SHIM_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VG_SPM_SHIM_ABI_VERSION 1

typedef struct VgSpmModel VgSpmModel;

// VG_SPM_SHIM_ABI_VERSION of the loaded library.
int vg_spm_abi_version(void);

// Loads a SentencePiece model file. On success stores a handle in *model
// (release with vg_spm_close) and returns 0; otherwise *model is NULL.
int vg_spm_open(const char* model_path, VgSpmModel** model, char* error, size_t error_size);

// Releases a handle from vg_spm_open (NULL is ignored).
void vg_spm_close(VgSpmModel* model);

// Encodes `text` (UTF-8, `text_size` bytes) into piece ids with the model's
// normalizer. On success stores a malloc'ed array in *ids (free it with
// vg_spm_free_ids; NULL when there are no pieces) and its length in *num_ids.
int vg_spm_encode(const VgSpmModel* model, const char* text, size_t text_size, int32_t** ids,
                  size_t* num_ids, char* error, size_t error_size);

void vg_spm_free_ids(int32_t* ids);

// Vocabulary size.
int32_t vg_spm_piece_size(const VgSpmModel* model);

// Reserved ids; -1 when the model does not define them.
int32_t vg_spm_unk_id(const VgSpmModel* model);
int32_t vg_spm_bos_id(const VgSpmModel* model);
int32_t vg_spm_eos_id(const VgSpmModel* model);
int32_t vg_spm_pad_id(const VgSpmModel* model);

// 1 when `id` is the unknown piece, 0 otherwise (also for out-of-range ids).
int vg_spm_is_unknown(const VgSpmModel* model, int32_t id);

// Id of `piece` (UTF-8, `piece_size` bytes); the unknown id when absent.
int32_t vg_spm_piece_to_id(const VgSpmModel* model, const char* piece, size_t piece_size);

// Copies the piece of `id` into `buf` (NUL-terminated, truncated to buf_size)
// and returns its full length in bytes, or -1 when `id` is out of range.
int64_t vg_spm_id_to_piece(const VgSpmModel* model, int32_t id, char* buf, size_t buf_size);

#ifdef __cplusplus
}  // extern "C"
#endif

#endif  // VIDEOGEN_ENGINE_TEXT_SPM_SHIM_SPM_SHIM_H_
