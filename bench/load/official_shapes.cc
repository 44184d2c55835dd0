#include "bench/load/official_shapes.h"

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "engine/common/status_macros.h"
#include "engine/io/model_dir.h"
#include "engine/models/clip/clip_config.h"
#include "engine/models/clip/vision_transformer.h"
#include "engine/models/dit/model.h"
#include "engine/models/t5/t5_encoder.h"
#include "engine/models/vae/vae_config.h"
#include "engine/models/vae/wan_vae_model.h"

namespace videogen::bench {
namespace {

std::vector<synth::SyntheticTensor> FromModule(const torch::nn::Module& m, io::DType dtype,
                                                const std::string& prefix = "") {
  std::vector<synth::SyntheticTensor> out;
  for (const auto& p : m.named_parameters()) out.push_back({prefix + p.key(), dtype, p.value().sizes().vec()});
  for (const auto& b : m.named_buffers()) out.push_back({prefix + b.key(), dtype, b.value().sizes().vec()});
  return out;
}

std::string Stem(const char* file) {
  const std::string f(file);
  return f.substr(0, f.rfind('.'));
}

}  // namespace

std::vector<synth::SyntheticTensor> DitTensors(const models::WanConfig& config) {
  models::WanModel model(config, quant::ParamInit::kUninitialized);
  return FromModule(*model, io::DType::kF32);
}

std::vector<synth::SyntheticTensor> T5XxlTensors() {
  models::T5Encoder t5(models::T5Config::UmT5Xxl(), torch::TensorOptions().dtype(torch::kBFloat16));
  return FromModule(*t5, io::DType::kBF16);
}

std::vector<synth::SyntheticTensor> ClipVisualTensors() {
  models::ClipVisionTransformer clip(models::ClipVisionConfig::VitHuge14(), torch::TensorOptions());
  return FromModule(*clip, io::DType::kF32, "visual.");
}

std::vector<synth::SyntheticTensor> VaeTensors() {
  models::vae::WanVAE_ vae(models::vae::VaeConfig::Wan21());
  return FromModule(*vae, io::DType::kF32);
}

absl::StatusOr<std::string> WriteSparseI2V14B(const std::string& dir) {
  const models::WanConfig config = models::WanConfig::I2V_14B();
  synth::SyntheticCheckpointOptions options;
  options.dir = dir;
  options.data = synth::SyntheticData::kHoles;
  options.max_shard_bytes = 9'900'000'000ull;  // 7 shards, as the official I2V-14B-480P
  RETURN_IF_ERROR(synth::WriteSyntheticCheckpoint(DitTensors(config), options).status());
  const std::pair<const char*, std::vector<synth::SyntheticTensor>> encoders[] = {
      {io::kT5File, T5XxlTensors()}, {io::kClipFile, ClipVisualTensors()}, {io::kVaeFile, VaeTensors()}};
  for (const auto& [file, tensors] : encoders) {
    options.stem = Stem(file);
    options.max_shard_bytes = ~0ull;
    RETURN_IF_ERROR(synth::WriteSyntheticCheckpoint(tensors, options).status());
  }
  std::ofstream out(std::filesystem::path(dir) / io::kDitConfigFile, std::ios::trunc);
  out << nlohmann::json{{"_class_name", "WanModel"}, {"model_type", "i2v"},     {"dim", config.dim},
                        {"ffn_dim", config.ffn_dim},  {"freq_dim", config.freq_dim}, {"in_dim", config.in_dim},
                        {"num_heads", config.num_heads}, {"num_layers", config.num_layers},
                        {"out_dim", config.out_dim},  {"text_len", config.text_len}, {"eps", config.eps}}
             .dump(2);
  if (!out.flush()) return absl::InternalError(absl::StrCat(dir, ": cannot write ", io::kDitConfigFile));
  return dir;
}

}  // namespace videogen::bench
