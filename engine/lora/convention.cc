#include "engine/lora/convention.h"

#include <array>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace videogen::lora {
namespace {

constexpr absl::string_view kComfyPrefix = "diffusion_model.";
constexpr absl::string_view kKohyaPrefix = "lora_unet_";
constexpr absl::string_view kDiffusersPrefix = "transformer.";

struct Suffix {
  absl::string_view text;
  LoraPart part;
};
// Longest first where one suffix ends another.
constexpr std::array<Suffix, 7> kComfySuffixes = {{{".lora_down.weight", LoraPart::kDown},
                                                   {".lora_up.weight", LoraPart::kUp},
                                                   {".lora_A.weight", LoraPart::kDown},
                                                   {".lora_B.weight", LoraPart::kUp},
                                                   {".alpha", LoraPart::kAlpha},
                                                   {".diff_b", LoraPart::kDiffBias},
                                                   {".diff", LoraPart::kDiff}}};
constexpr std::array<Suffix, 5> kKohyaSuffixes = {{{".lora_down.weight", LoraPart::kDown},
                                                   {".lora_up.weight", LoraPart::kUp},
                                                   {".alpha", LoraPart::kAlpha},
                                                   {".diff_b", LoraPart::kDiffBias},
                                                   {".diff", LoraPart::kDiff}}};
constexpr std::array<Suffix, 3> kDiffusersSuffixes = {{{".lora_A.weight", LoraPart::kDown},
                                                       {".lora_B.weight", LoraPart::kUp},
                                                       {".lora_B.bias", LoraPart::kDiffBias}}};

// diffusers WanTransformer3DModel module -> official WanModel module, inside blocks.N.
constexpr std::array<std::pair<absl::string_view, absl::string_view>, 13> kDiffusersBlockModules = {{
    {"attn1.to_q", "self_attn.q"},
    {"attn1.to_k", "self_attn.k"},
    {"attn1.to_v", "self_attn.v"},
    {"attn1.to_out.0", "self_attn.o"},
    {"attn2.to_q", "cross_attn.q"},
    {"attn2.to_k", "cross_attn.k"},
    {"attn2.to_v", "cross_attn.v"},
    {"attn2.to_out.0", "cross_attn.o"},
    {"attn2.add_k_proj", "cross_attn.k_img"},
    {"attn2.add_v_proj", "cross_attn.v_img"},
    {"ffn.net.0.proj", "ffn.0"},
    {"ffn.net.2", "ffn.2"},
    {"norm2", "norm3"},
}};
// ... and outside the blocks.
constexpr std::array<std::pair<absl::string_view, absl::string_view>, 8> kDiffusersModelModules = {{
    {"condition_embedder.text_embedder.linear_1", "text_embedding.0"},
    {"condition_embedder.text_embedder.linear_2", "text_embedding.2"},
    {"condition_embedder.time_embedder.linear_1", "time_embedding.0"},
    {"condition_embedder.time_embedder.linear_2", "time_embedding.2"},
    {"condition_embedder.time_proj", "time_projection.1"},
    {"condition_embedder.image_embedder.ff.net.0.proj", "img_emb.proj.1"},
    {"condition_embedder.image_embedder.ff.net.2", "img_emb.proj.3"},
    {"proj_out", "head.head"},
}};

template <size_t N>
std::optional<std::pair<std::string, LoraPart>> SplitSuffix(absl::string_view key, const std::array<Suffix, N>& suffixes) {
  for (const Suffix& s : suffixes) {
    if (absl::EndsWith(key, s.text)) {
      return std::make_pair(std::string(key.substr(0, key.size() - s.text.size())), s.part);
    }
  }
  return std::nullopt;
}

}  // namespace

const char* LoraConventionName(LoraConvention convention) {
  switch (convention) {
    case LoraConvention::kComfyUI: return "comfyui";
    case LoraConvention::kKohya: return "kohya";
    case LoraConvention::kDiffusers: return "diffusers";
  }
  return "?";
}

std::optional<LoraConvention> ParseLoraConvention(absl::string_view name) {
  for (LoraConvention c : {LoraConvention::kComfyUI, LoraConvention::kKohya, LoraConvention::kDiffusers}) {
    if (name == LoraConventionName(c)) return c;
  }
  return std::nullopt;
}

absl::StatusOr<LoraConvention> DetectLoraConvention(const io::TensorSource& file) {
  std::optional<LoraConvention> found;
  for (const io::TensorInfo& info : file.tensors()) {
    std::optional<LoraConvention> c;
    if (absl::StartsWith(info.name, kComfyPrefix)) c = LoraConvention::kComfyUI;
    if (absl::StartsWith(info.name, kKohyaPrefix)) c = LoraConvention::kKohya;
    if (absl::StartsWith(info.name, kDiffusersPrefix)) c = LoraConvention::kDiffusers;
    if (!c) {
      return absl::InvalidArgumentError(absl::StrCat(
          file.Describe(), ": LoRA key '", info.name, "' has no known prefix (", kComfyPrefix, ", ", kKohyaPrefix,
          ", ", kDiffusersPrefix, ")"));
    }
    if (found && *found != *c) {
      return absl::InvalidArgumentError(absl::StrCat(file.Describe(), ": LoRA key '", info.name, "' is ",
                                                     LoraConventionName(*c), " but earlier keys are ",
                                                     LoraConventionName(*found)));
    }
    found = c;
  }
  if (!found) return absl::InvalidArgumentError(absl::StrCat(file.Describe(), ": the LoRA file holds no tensors"));
  return *found;
}

LoraKeyMap::LoraKeyMap(LoraConvention convention, std::set<std::string> modules)
    : convention_(convention), modules_(std::move(modules)) {
  for (const std::string& m : modules_) kohya_names_[absl::StrReplaceAll(m, {{".", "_"}})] = m;
}

std::optional<std::string> LoraKeyMap::FromDiffusers(absl::string_view module) const {
  for (const auto& [diffusers, official] : kDiffusersModelModules) {
    if (module == diffusers) return std::string(official);
  }
  // blocks.<N>.<block module>
  if (!absl::StartsWith(module, "blocks.")) return std::nullopt;
  const absl::string_view rest = module.substr(7);
  const size_t dot = rest.find('.');
  int index = 0;
  if (dot == absl::string_view::npos || !absl::SimpleAtoi(rest.substr(0, dot), &index)) return std::nullopt;
  for (const auto& [diffusers, official] : kDiffusersBlockModules) {
    if (rest.substr(dot + 1) == diffusers) return absl::StrCat("blocks.", index, ".", official);
  }
  return std::nullopt;
}

absl::StatusOr<LoraKey> LoraKeyMap::Map(absl::string_view key) const {
  auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("LoRA key '", key, "' (", LoraConventionName(convention_), " convention): ", why));
  };
  std::optional<std::pair<std::string, LoraPart>> split;
  std::optional<std::string> module;
  switch (convention_) {
    case LoraConvention::kComfyUI:
      if (!absl::StartsWith(key, kComfyPrefix)) return bad(absl::StrCat("does not start with ", kComfyPrefix));
      split = SplitSuffix(key.substr(kComfyPrefix.size()), kComfySuffixes);
      if (split) module = split->first;
      break;
    case LoraConvention::kKohya:
      if (!absl::StartsWith(key, kKohyaPrefix)) return bad(absl::StrCat("does not start with ", kKohyaPrefix));
      split = SplitSuffix(key.substr(kKohyaPrefix.size()), kKohyaSuffixes);
      if (split) {
        auto it = kohya_names_.find(split->first);
        if (it == kohya_names_.end()) return bad("names no module of the model");
        module = it->second;
      }
      break;
    case LoraConvention::kDiffusers:
      if (!absl::StartsWith(key, kDiffusersPrefix)) return bad(absl::StrCat("does not start with ", kDiffusersPrefix));
      split = SplitSuffix(key.substr(kDiffusersPrefix.size()), kDiffusersSuffixes);
      if (split) {
        module = FromDiffusers(split->first);
        if (!module) return bad("names no module of the Wan transformer");
      }
      break;
  }
  if (!split) return bad("unknown suffix");
  if (modules_.count(*module) == 0) return bad(absl::StrCat("names module '", *module, "', which the model lacks"));
  return LoraKey{*module, split->second};
}

}  // namespace videogen::lora
