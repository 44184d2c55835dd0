// pipeline_t2v / pipeline_i2v / pipeline_flf2v fixtures and Wan2.2's
// pipeline_ti2v / pipeline_t2v_a14b / pipeline_i2v_a14b: the official
// generate() with tiny components, built from config.t5 / config.vae /
// config.dit / config.clip and the `weights` map, fed with the fixture's noise
// (and image, or first and last frames), returning the final video and every
// intermediate the fixture records.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <ATen/ATen.h>

#include "absl/strings/str_cat.h"
#include "engine/common/status_macros.h"
#include "engine/models/common/state_dict.h"
#include "engine/io/tensor_source.h"
#include "engine/pipeline/offload_copy_engine.h"
#include "engine/pipeline/offload_executor.h"
#include "engine/pipeline/wan_pipeline.h"
#include "engine/schedulers/scheduler.h"
#include "engine/verify/runners.h"

namespace videogen::verify {
namespace {

using nlohmann::json;

absl::StatusOr<json> Section(const Fixture& f, const json& parent, const std::string& key) {
  if (!parent.is_object() || !parent.contains(key) || !parent[key].is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(f.name, ": fixture.json has no object config.", key));
  }
  return parent[key];
}

template <typename T>
absl::StatusOr<T> Field(const Fixture& f, const json& generate, const std::string& key) {
  if (!generate.contains(key) || generate[key].is_null()) {
    return absl::InvalidArgumentError(absl::StrCat(f.name, ": config.generate.", key, " is missing"));
  }
  try {
    return generate[key].get<T>();
  } catch (const json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(f.name, ": config.generate.", key, ": ", e.what()));
  }
}

// The executor of options.offload over the loaded parts (what the loader does
// for a plan's offload mode: engine/pipeline/wan_loader.cc).
absl::Status AttachOffload(const Fixture& f, const RunOptions& options, pipeline::WanPipelineParts& parts) {
  OffloadMode mode = OffloadMode::kNone;
  switch (options.offload) {
    case OffloadRun::kNone:
    case OffloadRun::kT5Streamed: return absl::OkStatus();
    case OffloadRun::kEncodersAfterUse: mode = OffloadMode::kEncodersAfterUse; break;
    case OffloadRun::kDitBlockStreaming: mode = OffloadMode::kDitBlockStreaming; break;
    case OffloadRun::kExpertSwap: mode = OffloadMode::kExpertSwap; break;
  }
  if (mode == OffloadMode::kExpertSwap && parts.dit_low_noise.is_empty()) {
    return absl::InvalidArgumentError(absl::StrCat(f.name, ": offload expert-swap needs an expert pair"));
  }
  ASSIGN_OR_RETURN(std::unique_ptr<pipeline::CopyEngine> engine, pipeline::MakeCopyEngine(options.device));
  ASSIGN_OR_RETURN(parts.offload, pipeline::OffloadExecutor::Create(mode, std::move(engine), nullptr));
  RETURN_IF_ERROR(parts.offload->AdoptDit(Component::kDit, *parts.dit));
  if (!parts.dit_low_noise.is_empty()) {
    RETURN_IF_ERROR(parts.offload->AdoptDit(Component::kDitLowNoise, *parts.dit_low_noise));
  }
  RETURN_IF_ERROR(parts.offload->AdoptEncoder(Component::kT5, parts.text_encoder->module()));
  if (parts.clip != nullptr) RETURN_IF_ERROR(parts.offload->AdoptEncoder(Component::kClip, parts.clip->module()));
  return absl::OkStatus();
}

}  // namespace

const char* OffloadRunName(OffloadRun run) {
  switch (run) {
    case OffloadRun::kNone: return "none";
    case OffloadRun::kEncodersAfterUse: return "encoders-after-use";
    case OffloadRun::kDitBlockStreaming: return "dit-block-streaming";
    case OffloadRun::kExpertSwap: return "expert-swap";
    case OffloadRun::kT5Streamed: return "t5-streamed";
  }
  return "?";
}

absl::StatusOr<pipeline::WanPipelineParts> LoadPipelineParts(const Fixture& f, const RunOptions& options) {
  const json config = f.meta.value("config", json::object());
  pipeline::WanPipelineParts parts;
  ASSIGN_OR_RETURN(const json dit_json, Section(f, config, "dit"));
  ASSIGN_OR_RETURN(const models::WanConfig dit_config, models::WanConfig::FromJson(dit_json, DitVersion(f)));
  models::LoadOptions dit_load;
  dit_load.device = options.device;
  dit_load.dtype = ParamDType(options);
  if (options.weight_dtype == WeightDType::kFp8) {
    dit_load.fp8 = quant::Fp8Options{quant::Fp8Policy::WanDit(), options.fp8_scaling};
  }
  const auto load_dit = [&](const std::string& key) -> absl::StatusOr<models::WanModel> {
    models::WanModel dit(dit_config, quant::ParamInit::kUninitialized);
    ASSIGN_OR_RETURN(const std::string path, f.WeightsPath(key));
    ASSIGN_OR_RETURN(auto source, io::OpenCheckpoint(path));
    RETURN_IF_ERROR(models::LoadStateDict(*dit, *source, dit_load));
    return dit;
  };
  // A14B fixtures name the expert pair instead of one `dit`.
  if (f.WeightsPath("dit_high_noise").ok()) {
    ASSIGN_OR_RETURN(parts.dit, load_dit("dit_high_noise"));
    ASSIGN_OR_RETURN(parts.dit_low_noise, load_dit("dit_low_noise"));
  } else {
    ASSIGN_OR_RETURN(parts.dit, load_dit("dit"));
  }

  models::T5EncoderModelOptions t5;
  ASSIGN_OR_RETURN(const json t5_json, Section(f, config, "t5"));
  ASSIGN_OR_RETURN(t5.config, models::T5Config::FromJson(t5_json));
  ASSIGN_OR_RETURN(t5.checkpoint_path, f.WeightsPath("t5"));
  ASSIGN_OR_RETURN(t5.tokenizer_path, SpieceModelPath(f));
  t5.dtype = ParamDType(options);
  t5.device = options.device;
  t5.text_len = config.value("text_len", 512);
  if (options.offload == OffloadRun::kT5Streamed) {
    ASSIGN_OR_RETURN(std::unique_ptr<io::TensorSource> streamed, io::OpenCheckpoint(t5.checkpoint_path));
    t5.streamed_source = std::move(streamed);
  }
  ASSIGN_OR_RETURN(parts.text_encoder, models::T5EncoderModel::Create(t5));

  models::vae::WanVaeOptions vae;
  ASSIGN_OR_RETURN(const json vae_json, Section(f, config, "vae"));
  ASSIGN_OR_RETURN(vae.config, models::vae::VaeConfig::FromJson(vae_json));
  vae.device = options.device;
  ASSIGN_OR_RETURN(const std::string vae_path, f.WeightsPath("vae"));
  ASSIGN_OR_RETURN(parts.vae, models::vae::WanVae::Open(vae_path, vae));

  if (dit_config.has_clip_input()) {
    models::ClipVisualOptions clip;
    ASSIGN_OR_RETURN(const json clip_json, Section(f, config, "clip"));
    ASSIGN_OR_RETURN(clip.config, models::ClipVisionConfig::FromJson(clip_json));
    ASSIGN_OR_RETURN(clip.checkpoint_path, f.WeightsPath("clip"));
    clip.dtype = ParamDType(options);
    clip.device = options.device;
    ASSIGN_OR_RETURN(parts.clip, models::ClipVisual::Create(clip));
  }
  RETURN_IF_ERROR(AttachOffload(f, options, parts));
  return parts;
}

namespace {

torch::Tensor Stack(const std::vector<torch::Tensor>& list) { return at::stack(list).cpu(); }

// The pipeline a pipeline component names, and whether it runs an expert
// pair; InvalidArgument when the DiT of config.dit (or the weights) need another.
absl::Status CheckComponent(const Fixture& f, const pipeline::WanPipeline& pipe) {
  struct Expected {
    const char* component;
    pipeline::PipelineKind kind;
    bool expert_pair;
  };
  const Expected components[] = {
      {"pipeline_t2v", pipeline::PipelineKind::kTextToVideo, false},
      {"pipeline_i2v", pipeline::PipelineKind::kImageToVideo, false},
      {"pipeline_flf2v", pipeline::PipelineKind::kFirstLastFrameToVideo, false},
      {"pipeline_ti2v", pipeline::PipelineKind::kTextImageToVideo, false},
      {"pipeline_t2v_a14b", pipeline::PipelineKind::kTextToVideo, true},
      {"pipeline_i2v_a14b", pipeline::PipelineKind::kImageToVideo, true},
  };
  for (const auto& [component, kind, expert_pair] : components) {
    if (f.component == component && (pipe.kind() != kind || pipe.has_expert_pair() != expert_pair)) {
      return absl::InvalidArgumentError(
          absl::StrCat(f.name, ": config.dit.model_type does not fit component ", f.component));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<TensorMap> RunPipelineFixture(const Fixture& f, const RunOptions& options) {
  const json config = f.meta.value("config", json::object());
  ASSIGN_OR_RETURN(const json generate, Section(f, config, "generate"));
  ASSIGN_OR_RETURN(pipeline::WanPipelineParts parts, LoadPipelineParts(f, options));
  ASSIGN_OR_RETURN(std::unique_ptr<pipeline::WanPipeline> pipe, pipeline::WanPipeline::Create(std::move(parts)));
  RETURN_IF_ERROR(CheckComponent(f, *pipe));

  pipeline::PipelineRequest request;
  ASSIGN_OR_RETURN(request.prompt, Field<std::string>(f, generate, "input_prompt"));
  const std::string n_prompt = generate.value("n_prompt", std::string());
  request.negative_prompt = n_prompt.empty() ? f.meta["config"].value("neg_prompt_used", std::string()) : n_prompt;
  ASSIGN_OR_RETURN(request.num_frames, Field<int64_t>(f, generate, "frame_num"));
  ASSIGN_OR_RETURN(request.denoise.steps, Field<int>(f, generate, "sampling_steps"));
  ASSIGN_OR_RETURN(request.denoise.shift, Field<double>(f, generate, "shift"));
  // guide_scale: a float, or (expert pairs) the official (low_noise, high_noise) pair.
  if (generate.contains("guide_scale") && generate["guide_scale"].is_array()) {
    ASSIGN_OR_RETURN(const std::vector<double> pair, Field<std::vector<double>>(f, generate, "guide_scale"));
    if (pair.size() != 2) return absl::InvalidArgumentError(f.name + ": config.generate.guide_scale must be [low, high]");
    request.denoise.guidance_scale = pair[0];
    request.denoise.experts = pipeline::ExpertSwitch{0, pair[1]};
  } else {
    ASSIGN_OR_RETURN(request.denoise.guidance_scale, Field<double>(f, generate, "guide_scale"));
  }
  if (pipe->has_expert_pair()) {
    if (!config.contains("boundary") || !config["boundary"].is_number()) {
      return absl::InvalidArgumentError(f.name + ": an expert-pair fixture needs config.boundary");
    }
    const double g = request.denoise.guidance_scale;
    if (!request.denoise.experts) request.denoise.experts = pipeline::ExpertSwitch{0, g};
    request.denoise.experts->boundary_timestep =
        config["boundary"].get<double>() * config.value("num_train_timesteps", 1000.0);
  }
  ASSIGN_OR_RETURN(const std::string solver, Field<std::string>(f, generate, "sample_solver"));
  ASSIGN_OR_RETURN(request.denoise.sampler, schedulers::SamplerKindFromName(solver));
  ASSIGN_OR_RETURN(request.seed, Field<uint64_t>(f, generate, "seed"));
  ASSIGN_OR_RETURN(request.noise, f.Input("noise"));
  switch (pipe->kind()) {
    case pipeline::PipelineKind::kTextImageToVideo:
      if (f.inputs.count("image_u8") != 0) {
        ASSIGN_OR_RETURN(request.max_area, Field<int64_t>(f, generate, "max_area"));
        ASSIGN_OR_RETURN(request.image, f.Input("image_u8"));
        break;
      }
      [[fallthrough]];
    case pipeline::PipelineKind::kTextToVideo: {
      ASSIGN_OR_RETURN(const std::vector<int64_t> size, Field<std::vector<int64_t>>(f, generate, "size"));
      if (size.size() != 2) return absl::InvalidArgumentError(f.name + ": config.generate.size must be [W, H]");
      request.width = size[0];
      request.height = size[1];
      break;
    }
    case pipeline::PipelineKind::kImageToVideo: {
      ASSIGN_OR_RETURN(request.max_area, Field<int64_t>(f, generate, "max_area"));
      ASSIGN_OR_RETURN(request.image, f.Input("image_u8"));
      break;
    }
    case pipeline::PipelineKind::kFirstLastFrameToVideo: {
      ASSIGN_OR_RETURN(request.max_area, Field<int64_t>(f, generate, "max_area"));
      ASSIGN_OR_RETURN(request.image, f.Input("first_frame_u8"));
      ASSIGN_OR_RETURN(request.last_image, f.Input("last_frame_u8"));
      break;
    }
  }

  pipeline::PipelineTrace trace;
  ASSIGN_OR_RETURN(const torch::Tensor video, pipe->Run(request, nullptr, nullptr, &trace));

  TensorMap out;
  out["video"] = video.cpu();
  out["latent"] = trace.denoise.latents.back().cpu();
  out["latents"] = Stack(trace.denoise.latents);
  out["noise_pred_cond"] = Stack(trace.denoise.noise_pred_cond);
  out["noise_pred_uncond"] = Stack(trace.denoise.noise_pred_uncond);
  out["timesteps"] = trace.denoise.timesteps.cpu();
  out["seq_len"] = torch::tensor({trace.geometry.seq_len}, torch::kInt64);
  out["context"] = trace.context.cpu();
  out["context_null"] = trace.context_null.cpu();
  const text::UmT5Tokenizer& tokenizer = pipe->parts().text_encoder->tokenizer();
  ASSIGN_OR_RETURN(const text::TokenizedBatch prompt, tokenizer.Encode({request.prompt}));
  ASSIGN_OR_RETURN(const text::TokenizedBatch negative, tokenizer.Encode({request.negative_prompt}));
  out["prompt_ids"] = prompt.ids;
  out["prompt_mask"] = prompt.mask;
  out["neg_prompt_ids"] = negative.ids;
  out["neg_prompt_mask"] = negative.mask;
  out["noise_pred"] = Stack(trace.denoise.noise_pred);
  if (pipe->has_expert_pair()) {
    std::vector<int64_t> high;
    for (pipeline::Expert e : trace.denoise.experts) high.push_back(e == pipeline::Expert::kHighNoise ? 1 : 0);
    out["expert_high_noise"] = torch::tensor(high, torch::kInt64);
  }
  if (trace.clip_fea.defined()) {
    out["clip_pixel_values"] = trace.clip_pixel_values.cpu();
    out["clip_fea"] = trace.clip_fea.cpu();
  }
  if (trace.y.defined()) {
    out["y"] = trace.y.cpu();
    out["vae_cond_video"] = trace.vae_cond_video.cpu();
  }
  if (trace.image_cond.defined()) {
    out["image_cond"] = trace.image_cond.cpu();
    out["z_image"] = trace.z_image.cpu();
  }
  if (!trace.dit_timesteps.empty()) out["dit_timesteps"] = at::cat(trace.dit_timesteps, 0).cpu();
  return out;
}

}  // namespace videogen::verify
