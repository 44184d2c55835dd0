#include "engine/synth/tiny_model_writer.h"

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "engine/common/status_macros.h"
#include "engine/common/torch_status.h"
#include "engine/io/model_dir.h"
#include "engine/io/safetensors.h"
#include "engine/models/clip/vision_transformer.h"
#include "engine/models/dit/model.h"
#include "engine/models/t5/t5_encoder.h"
#include "engine/models/vae/vae_module.h"
#include "engine/synth/pth_writer.h"
#include "engine/text/umt5_tokenizer.h"

namespace videogen::synth {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Tiny sizes of every component. The DiT's text_dim equals the T5 width; the
// CLIP width must be 1280 (the DiT's img_emb is MLPProj(1280, dim)).
constexpr int64_t kTextDim = 64;

json DitConfig(pipeline::ModelType type) {
  const bool ti2v = type == pipeline::ModelType::kTI2V;
  const bool image = type == pipeline::ModelType::kI2V || type == pipeline::ModelType::kFLF2V;
  return {{"_class_name", "WanModel"}, {"model_type", pipeline::ModelTypeName(type)},
          {"patch_size", {1, 2, 2}}, {"text_len", 512}, {"in_dim", ti2v ? 48 : image ? 36 : 16},
          {"dim", 128}, {"ffn_dim", 256}, {"freq_dim", 256}, {"text_dim", kTextDim}, {"out_dim", ti2v ? 48 : 16},
          {"num_heads", 2}, {"num_layers", 2}, {"window_size", {-1, -1}}, {"qk_norm", true},
          {"cross_attn_norm", true}, {"eps", 1e-6}};
}

json T5Json(int64_t vocab) {
  return {{"vocab", vocab}, {"dim", kTextDim}, {"dim_attn", kTextDim}, {"dim_ffn", 128}, {"num_heads", 4},
          {"num_layers", 2}, {"num_buckets", 32}, {"shared_pos", false}, {"dropout", 0.0}};
}

// Wan2.1 VAE, or (TI2V) the Wan2.2 VAE: 48 latent channels, dec_dim.
json VaeJson(pipeline::ModelType type) {
  json j = {{"dim", 8}, {"z_dim", 16}, {"dim_mult", {1, 2, 4, 4}}, {"num_res_blocks", 2},
            {"attn_scales", json::array()}, {"temperal_downsample", {false, true, true}}, {"dropout", 0.0}};
  if (type == pipeline::ModelType::kTI2V) {
    j["z_dim"] = 48;
    j["dec_dim"] = 8;
  }
  return j;
}

bool HasClip(pipeline::ModelType type, bool expert_pair) {
  return !expert_pair && (type == pipeline::ModelType::kI2V || type == pipeline::ModelType::kFLF2V);
}

// flf2v's DiT takes exactly 257 CLIP tokens per image (514 hard-coded): the
// real 224 px / patch 14 grid there; i2v uses a 56 px image (17 tokens).
json ClipJson(pipeline::ModelType type) {
  const int image_size = type == pipeline::ModelType::kFLF2V ? 224 : 56;
  return {{"embed_dim", 64}, {"image_size", image_size}, {"patch_size", 14}, {"vision_dim", 1280},
          {"vision_mlp_ratio", 1}, {"vision_heads", 16}, {"vision_layers", 2}, {"vision_pool", "token"},
          {"vision_pre_norm", true}, {"vision_post_norm", false}, {"activation", "gelu"}};
}

// Deterministic weights: biases 0, norm gains 1, matrices N(0, 1/fan_in),
// other vectors N(0, 0.02^2); drawn in name order from one seeded generator.
std::vector<io::NamedTensor> RandomState(const torch::nn::Module& module, const std::string& prefix,
                                         at::Generator& gen) {
  std::vector<io::NamedTensor> out;
  auto fill = [&](const std::string& name, const torch::Tensor& like) {
    torch::Tensor t;
    const std::string leaf = name.substr(name.rfind('.') + 1);
    if (!like.is_floating_point()) {
      t = like.clone();
    } else if (leaf == "bias") {
      t = torch::zeros(like.sizes(), torch::kFloat32);
    } else if (name.find("norm") != std::string::npos || leaf == "gamma") {
      t = torch::ones(like.sizes(), torch::kFloat32);
    } else if (like.dim() >= 2 && leaf == "weight") {
      const double fan_in = static_cast<double>(like.numel() / like.size(0));
      t = at::randn(like.sizes(), gen, torch::kFloat32) / std::sqrt(fan_in);
    } else {
      t = at::randn(like.sizes(), gen, torch::kFloat32) * 0.02;
    }
    out.push_back({prefix + name, t, std::nullopt});
  };
  for (const auto& item : module.named_parameters()) fill(item.key(), item.value());
  for (const auto& item : module.named_buffers()) fill(item.key(), item.value());
  return out;
}

absl::Status WriteText(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", path.string()));
  return absl::OkStatus();
}


}  // namespace

absl::Status TrainTinyTokenizer(const std::string& dir_path, const std::string& spm_train) {
  const fs::path dir(dir_path);
  const fs::path tok_dir = dir / fs::path(io::kTokenizerFile).parent_path();
  fs::create_directories(tok_dir);
  const fs::path corpus = dir / "tokenizer_corpus.txt";
  std::string text;
  for (int i = 0; i < 3; ++i) text += std::string(kTinyTokenizerCorpus) + "\n";  // frequent pieces win
  RETURN_IF_ERROR(WriteText(corpus, text));
  const fs::path prefix = tok_dir / "spiece";
  const std::string cmd = absl::StrCat(
      spm_train, " --input='", corpus.string(), "' --model_prefix='", prefix.string(),
      "' --vocab_size=400 --hard_vocab_limit=false --model_type=unigram --character_coverage=1.0",
      " --pad_id=0 --eos_id=1 --unk_id=2 --bos_id=-1 --num_threads=1 --minloglevel=2 >'",
      (dir / "spm_train.log").string(), "' 2>&1");
  const int rc = std::system(cmd.c_str());
  fs::remove(corpus);
  if (rc != 0) {
    return absl::FailedPreconditionError(absl::StrCat("spm_train failed (exit ", rc, "); see ",
                                                      (dir / "spm_train.log").string(),
                                                      " (Debian package: sentencepiece)"));
  }
  fs::remove(prefix.string() + ".vocab");
  fs::remove(dir / "spm_train.log");
  return absl::OkStatus();
}

absl::Status WriteTinyModel(const std::string& dir_path, const pipeline::TinyModelOptions& options) {
  const fs::path dir(dir_path);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot create ", dir_path, ": ", ec.message()));
  RETURN_IF_ERROR(TrainTinyTokenizer(dir, options.spm_train));
  ASSIGN_OR_RETURN(auto tokenizer, text::UmT5Tokenizer::Create((dir / io::kTokenizerFile).string()));
  const int64_t vocab = tokenizer->vocab_size();

  const bool wan22 = options.expert_pair || options.type == pipeline::ModelType::kTI2V;
  const bool clip = HasClip(options.type, options.expert_pair);
  const json dit_json = DitConfig(options.type);
  const json t5_json = T5Json(vocab);
  const json vae_json = VaeJson(options.type);
  ASSIGN_OR_RETURN(const models::WanConfig dit_config,
                   models::WanConfig::FromJson(dit_json, wan22 ? models::WanVersion::kWan22 : models::WanVersion::kWan21));
  ASSIGN_OR_RETURN(const models::T5Config t5_config, models::T5Config::FromJson(t5_json));
  ASSIGN_OR_RETURN(const models::vae::VaeConfig vae_config, models::vae::VaeConfig::FromJson(vae_json));
  ASSIGN_OR_RETURN(const models::ClipVisionConfig clip_config, models::ClipVisionConfig::FromJson(ClipJson(options.type)));

  json extra = {{"variant", "tiny"},
                {"description", absl::StrCat("Embedded tiny ", wan22 ? "Wan2.2 " : "Wan2.1 ",
                                             pipeline::TinyTypeName(options),
                                             " (real architecture, random weights from seed ", options.seed,
                                             "): output is noise-like, for demos and tests")},
                {"t5", t5_json},
                {"vae", vae_json},
                {"defaults", {{"width", 256}, {"height", 160}, {"max_area", 256 * 160}, {"num_frames", 17},
                              {"steps", 8}, {"fps", 16.0}}}};
  if (options.type == pipeline::ModelType::kTI2V) extra["defaults"]["fps"] = 24.0;
  if (clip) extra["clip"] = ClipJson(options.type);
  if (options.type == pipeline::ModelType::kFLF2V) {
    // 81 frames are required; a small area keeps the tiny job quick.
    extra["defaults"] = {{"width", 96}, {"height", 64}, {"max_area", 96 * 64}, {"num_frames", 81},
                         {"steps", 4}, {"fps", 16.0}};
  }

  at::Generator gen = at::detail::createCPUGenerator(options.seed);
  RETURN_IF_ERROR(TorchCall("writing the tiny model", [&]() -> absl::Status {
    torch::NoGradGuard no_grad;
    RETURN_IF_ERROR(WriteText(dir / io::kVideogenConfigFile, extra.dump(2) + "\n"));
    // One DiT at the root, or the expert pair in its two sub-directories
    // (different weights from the same generator).
    std::vector<fs::path> dit_dirs = {dir};
    if (options.expert_pair) dit_dirs = {dir / io::kHighNoiseDir, dir / io::kLowNoiseDir};
    for (const fs::path& dit_dir : dit_dirs) {
      fs::create_directories(dit_dir);
      RETURN_IF_ERROR(WriteText(dit_dir / io::kDitConfigFile, dit_json.dump(2) + "\n"));
      models::WanModel dit(dit_config);
      RETURN_IF_ERROR(io::WriteSafetensors((dit_dir / io::kDitWeightsFile).string(), RandomState(*dit, "", gen)));
    }
    models::T5Encoder t5(t5_config, torch::TensorOptions().dtype(torch::kFloat32));
    // The official T5 checkpoint is bfloat16: so is this one.
    std::vector<io::NamedTensor> t5_state = RandomState(*t5, "", gen);
    for (io::NamedTensor& nt : t5_state) nt.tensor = nt.tensor.to(torch::kBFloat16);
    RETURN_IF_ERROR(WritePth((dir / io::kT5File).string(), t5_state));
    const std::shared_ptr<models::vae::VaeModule> vae = models::vae::MakeVaeModule(vae_config);
    const char* vae_file = options.type == pipeline::ModelType::kTI2V ? io::kVae22File : io::kVaeFile;
    RETURN_IF_ERROR(WritePth((dir / vae_file).string(), RandomState(*vae, "", gen)));
    if (clip) {
      models::ClipVisionTransformer clip(clip_config, torch::TensorOptions().dtype(torch::kFloat32));
      RETURN_IF_ERROR(WritePth((dir / io::kClipFile).string(), RandomState(*clip, "visual.", gen)));
    }
    return absl::OkStatus();
  }));
  return absl::OkStatus();
}

}  // namespace videogen::synth
