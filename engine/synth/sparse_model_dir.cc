#include "engine/synth/sparse_model_dir.h"

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "engine/common/status_macros.h"
#include "engine/io/model_dir.h"
#include "engine/models/clip/vision_transformer.h"
#include "engine/models/dit/model.h"
#include "engine/synth/official_tensors.h"
#include "engine/synth/pth_writer.h"
#include "engine/synth/synthetic_checkpoint.h"
#include "engine/synth/tiny_model_writer.h"

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

std::vector<SyntheticTensor> FromModule(const torch::nn::Module& m, io::DType dtype, const std::string& prefix = "") {
  std::vector<SyntheticTensor> out;
  for (const auto& p : m.named_parameters()) out.push_back({prefix + p.key(), dtype, p.value().sizes().vec()});
  for (const auto& b : m.named_buffers()) out.push_back({prefix + b.key(), dtype, b.value().sizes().vec()});
  return out;
}

// Wan2.1-I2V-14B-480P in its official, loadable formats (see the header).
absl::Status WriteI2V14B(const fs::path& root, const std::string& spm_train) {
  const models::WanConfig config = models::WanConfig::I2V_14B();
  std::vector<SyntheticTensor> dit;
  {
    const models::WanModel model(config, quant::ParamInit::kUninitialized);
    dit = FromModule(*model, io::DType::kF32);
  }
  SyntheticCheckpointOptions options;
  options.dir = root.string();
  options.data = SyntheticData::kHoles;
  options.max_shard_bytes = 9'900'000'000ull;  // 7 shards, as the official I2V-14B-480P
  RETURN_IF_ERROR(WriteSyntheticCheckpoint(dit, options).status());
  DitShape shape;
  shape.dim = config.dim;
  shape.ffn_dim = config.ffn_dim;
  shape.num_heads = config.num_heads;
  shape.num_layers = config.num_layers;
  shape.in_dim = config.in_dim;
  shape.out_dim = config.out_dim;
  shape.model_type = "i2v";
  RETURN_IF_ERROR(WriteConfig(root, shape));
  RETURN_IF_ERROR(WriteSparsePth((root / io::kT5File).string(), OfficialT5Tensors(T5Shape{}, io::DType::kBF16)));
  std::vector<SyntheticTensor> clip;
  {
    const models::ClipVisionTransformer visual(models::ClipVisionConfig::VitHuge14(),
                                               torch::TensorOptions().dtype(torch::kFloat16));
    clip = FromModule(*visual, io::DType::kF16, "visual.");
  }
  RETURN_IF_ERROR(WriteSparsePth((root / io::kClipFile).string(), clip));
  RETURN_IF_ERROR(WriteSparsePth((root / io::kVaeFile).string(), OfficialVaeTensors(VaeShape::Wan21(), io::DType::kF32)));
  return TrainTinyTokenizer(root.string(), spm_train);
}

}  // namespace

const char* SparseModelName(SparseModel model) {
  switch (model) {
    case SparseModel::kI2V14B: return "i2v-14b";
    case SparseModel::kT2VA14B: return "t2v-a14b";
    case SparseModel::kI2VA14B: return "i2v-a14b";
    case SparseModel::kTI2V5B: return "ti2v-5b";
  }
  return "?";
}

std::optional<SparseModel> ParseSparseModel(std::string_view name) {
  for (SparseModel m : {SparseModel::kI2V14B, SparseModel::kT2VA14B, SparseModel::kI2VA14B, SparseModel::kTI2V5B}) {
    if (name == SparseModelName(m)) return m;
  }
  return std::nullopt;
}

absl::Status WriteSparseModelDir(const std::string& dir, SparseModel model, const std::string& spm_train) {
  const fs::path root(dir);
  std::error_code ec;
  fs::create_directories(root, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot create ", dir, ": ", ec.message()));
  if (model == SparseModel::kI2V14B) return WriteI2V14B(root, spm_train);
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
