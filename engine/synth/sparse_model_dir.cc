#include "engine/synth/sparse_model_dir.h"

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "engine/common/status_macros.h"
#include "engine/io/model_dir.h"
#include "engine/synth/official_tensors.h"
#include "engine/synth/synthetic_checkpoint.h"

namespace videogen::synth {
namespace {

namespace fs = std::filesystem;

// Hugging Face's shard limit (max_shard_size "10GB"): the official A14B
// experts come in 6 float32 shards, TI2V-5B in 3.
constexpr uint64_t kShardBytes = 10'000'000'000ull;

absl::Status WriteConfig(const fs::path& dir, const DitShape& s) {
  const fs::path path = dir / io::kDitConfigFile;
  std::ofstream out(path, std::ios::trunc);
  out << nlohmann::json{{"_class_name", "WanModel"}, {"dim", s.dim},           {"eps", 1e-6},
                        {"ffn_dim", s.ffn_dim},       {"freq_dim", s.freq_dim}, {"in_dim", s.in_dim},
                        {"model_type", s.model_type}, {"num_heads", s.num_heads}, {"num_layers", s.num_layers},
                        {"out_dim", s.out_dim},       {"text_len", 512}}
             .dump(2);
  if (!out.flush()) return absl::InternalError(absl::StrCat(path.string(), ": write failed"));
  return absl::OkStatus();
}

// config.json and the DiT shards of one DiT (or expert) in `dir`.
absl::Status WriteDit(const fs::path& dir, const DitShape& shape) {
  SyntheticCheckpointOptions options;
  options.dir = dir.string();
  options.data = SyntheticData::kHoles;
  options.max_shard_bytes = kShardBytes;
  // The official Wan2.2 DiTs are stored in float32 (6 shards of <= 10 GB per
  // A14B expert; bfloat16 would need 3).
  RETURN_IF_ERROR(WriteSyntheticCheckpoint(OfficialDitTensors(shape, io::DType::kF32), options).status());
  return WriteConfig(dir, shape);
}

// A `.safetensors` stand-in of the official `.pth` file `official`.
absl::Status WriteStandIn(const fs::path& dir, const char* official, const std::vector<SyntheticTensor>& tensors) {
  SyntheticCheckpointOptions options;
  options.dir = dir.string();
  options.stem = fs::path(official).stem().string();
  options.data = SyntheticData::kHoles;
  options.max_shard_bytes = ~0ull;
  return WriteSyntheticCheckpoint(tensors, options).status();
}

}  // namespace

const char* SparseModelName(SparseModel model) {
  switch (model) {
    case SparseModel::kT2VA14B: return "t2v-a14b";
    case SparseModel::kI2VA14B: return "i2v-a14b";
    case SparseModel::kTI2V5B: return "ti2v-5b";
  }
  return "?";
}

std::optional<SparseModel> ParseSparseModel(std::string_view name) {
  for (SparseModel m : {SparseModel::kT2VA14B, SparseModel::kI2VA14B, SparseModel::kTI2V5B}) {
    if (name == SparseModelName(m)) return m;
  }
  return std::nullopt;
}

absl::Status WriteSparseModelDir(const std::string& dir, SparseModel model) {
  const fs::path root(dir);
  if (model == SparseModel::kTI2V5B) {
    RETURN_IF_ERROR(WriteDit(root, DitShape::TI2V_5B()));
  } else {
    const DitShape expert = model == SparseModel::kT2VA14B ? DitShape::T2V_A14B() : DitShape::I2V_A14B();
    RETURN_IF_ERROR(WriteDit(root / io::kHighNoiseDir, expert));
    RETURN_IF_ERROR(WriteDit(root / io::kLowNoiseDir, expert));
  }
  RETURN_IF_ERROR(WriteStandIn(root, io::kT5File, OfficialT5Tensors(T5Shape{}, io::DType::kBF16)));
  if (model == SparseModel::kTI2V5B) {
    return WriteStandIn(root, io::kVae22File, OfficialVaeTensors(VaeShape::Wan22(), io::DType::kF32));
  }
  return WriteStandIn(root, io::kVaeFile, OfficialVaeTensors(VaeShape::Wan21(), io::DType::kF32));
}

}  // namespace videogen::synth
