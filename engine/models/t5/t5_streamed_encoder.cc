#include "engine/models/t5/t5_streamed_encoder.h"

#include <string>
#include <utility>
#include <vector>

#include <ATen/ATen.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/common/cancel_point.h"
#include "engine/common/status_macros.h"
#include "engine/common/torch_status.h"
#include "engine/models/t5/t5_layers.h"

namespace videogen::models {
namespace {

constexpr char kEmbedding[] = "token_embedding.weight";

// `options` for the submodule stored under `sub` (e.g. "blocks.3.").
LoadOptions Under(const LoadOptions& options, const std::string& sub) {
  LoadOptions o = options;
  o.prefix = options.prefix + sub;
  o.ignore_outside_prefix = true;
  return o;
}

torch::TensorOptions Uninitialised(const LoadOptions& options) {
  return torch::TensorOptions().dtype(options.dtype).device(options.device);
}

// Every parameter of `module` is in `source` under `prefix` with its shape.
absl::Status CheckModule(const torch::nn::Module& module, const io::TensorSource& source, const std::string& prefix) {
  for (const auto& p : module.named_parameters(/*recurse=*/true)) {
    const std::string name = prefix + p.key();
    const io::TensorInfo* info = source.Find(name);
    if (info == nullptr) return absl::InvalidArgumentError(absl::StrCat(source.Describe(), ": missing tensor '", name, "'"));
    if (c10::IntArrayRef(info->shape) != p.value().sizes()) {
      return absl::InvalidArgumentError(absl::StrCat(source.Describe(), ": tensor '", name, "' has shape [",
                                                     absl::StrJoin(info->shape, ", "), "], the model expects [",
                                                     absl::StrJoin(p.value().sizes(), ", "), "]"));
    }
  }
  return absl::OkStatus();
}

int64_t Bytes(const torch::nn::Module& module) {
  int64_t n = 0;
  for (const auto& p : module.parameters()) n += p.numel() * p.element_size();
  return n;
}

}  // namespace

absl::Status CheckT5Streamable(const T5Config& config, const io::TensorSource& source, const LoadOptions& options) {
  ASSIGN_OR_RETURN(const T5SelfAttention block, TorchCall("T5 block", [&] {
                     return T5SelfAttention(config, Uninitialised(options));
                   }));
  for (int64_t i = 0; i < config.num_layers; ++i) {
    RETURN_IF_ERROR(CheckModule(*block, source, absl::StrCat(options.prefix, "blocks.", i, ".")));
  }
  const std::string embedding = options.prefix + kEmbedding;
  const io::TensorInfo* info = source.Find(embedding);
  if (info == nullptr || info->shape != std::vector<int64_t>{config.vocab, config.dim}) {
    return absl::InvalidArgumentError(absl::StrCat(source.Describe(), ": tensor '", embedding, "' is ",
                                                   info == nullptr ? "missing" : "not", " [", config.vocab, ", ",
                                                   config.dim, "]"));
  }
  const T5LayerNorm norm(config.dim, config.eps, Uninitialised(options));
  RETURN_IF_ERROR(CheckModule(*norm, source, options.prefix + "norm."));
  if (config.shared_pos) {
    const T5RelativeEmbedding pos(config.num_buckets, config.num_heads, true, config.max_dist, Uninitialised(options));
    RETURN_IF_ERROR(CheckModule(*pos, source, options.prefix + "pos_embedding."));
  }
  return absl::OkStatus();
}

absl::StatusOr<torch::Tensor> StreamT5Encoder(const T5Config& config, const io::TensorSource& source,
                                              const LoadOptions& options, const torch::Tensor& ids,
                                              const torch::Tensor& mask,
                                              const std::function<void(int64_t)>& on_resident) {
  // ids: [B, L]; mask: [B, L]
  const std::string embedding_name = options.prefix + kEmbedding;
  ASSIGN_OR_RETURN(const torch::Tensor table, source.Read(embedding_name));
  // Only the rows of the ids are touched; gathered in the stored dtype, then
  // converted (exactly what converting the table and gathering gives).
  ASSIGN_OR_RETURN(torch::Tensor x, TorchCall("T5 token embedding", [&] {
                     const torch::Tensor flat = ids.to(torch::kCPU, torch::kLong).reshape({-1});
                     return table.index_select(0, flat)
                         .to(options.device, options.dtype)
                         .reshape({ids.size(0), ids.size(1), config.dim});
                   }));
  source.Release(embedding_name);
  torch::Tensor shared_bias;
  if (config.shared_pos) {
    T5RelativeEmbedding pos(nullptr);
    RETURN_IF_ERROR(TorchCall("T5 position embedding", [&] {
      pos = T5RelativeEmbedding(config.num_buckets, config.num_heads, true, config.max_dist, Uninitialised(options));
    }));
    RETURN_IF_ERROR(LoadStateDict(*pos, source, Under(options, "pos_embedding.")));
    ASSIGN_OR_RETURN(shared_bias, TorchCall("T5 position embedding", [&] { return pos(x.size(1), x.size(1)); }));
  }
  const torch::Tensor m = mask.defined() ? mask.to(options.device) : mask;
  for (int64_t i = 0; i < config.num_layers; ++i) {
    RETURN_IF_ERROR(TorchCall("T5 block", [] { CancelPoint("T5 block"); }));
    T5SelfAttention block(nullptr);
    RETURN_IF_ERROR(TorchCall("T5 block", [&] { block = T5SelfAttention(config, Uninitialised(options)); }));
    RETURN_IF_ERROR(LoadStateDict(*block, source, Under(options, absl::StrCat("blocks.", i, "."))));
    const int64_t bytes = on_resident ? Bytes(*block) : 0;
    if (on_resident) on_resident(bytes);
    absl::StatusOr<torch::Tensor> out = TorchCall("T5 block", [&] { return block(x, m, shared_bias); });
    block = T5SelfAttention(nullptr);  // freed before the next block loads
    if (on_resident) on_resident(-bytes);
    ASSIGN_OR_RETURN(x, std::move(out));
  }
  T5LayerNorm norm(nullptr);
  RETURN_IF_ERROR(TorchCall("T5 norm", [&] { norm = T5LayerNorm(config.dim, config.eps, Uninitialised(options)); }));
  RETURN_IF_ERROR(LoadStateDict(*norm, source, Under(options, "norm.")));
  return TorchCall("T5 norm", [&] { return norm(x); });
}

}  // namespace videogen::models
