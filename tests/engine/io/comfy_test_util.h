// Writing ComfyUI-style single files from official-name checkpoints (tests).
#pragma once

#include <cstdlib>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "engine/io/safetensors.h"
#include "engine/io/tensor_source.h"

namespace videogen::io::test_util {

inline std::string GoldenDir() {
  const char* dir = std::getenv("VIDEOGEN_GOLDEN_DIR");
  return dir != nullptr && *dir != '\0' ? dir : "../shared/golden";
}

// Every tensor of the checkpoint at `path` under its official name.
inline std::map<std::string, torch::Tensor> ReadAll(const std::string& path) {
  std::map<std::string, torch::Tensor> out;
  auto source = OpenCheckpoint(path);
  EXPECT_TRUE(source.ok()) << source.status();
  if (!source.ok()) return out;
  for (const TensorInfo& info : (*source)->tensors()) {
    auto t = (*source)->Read(info.name);
    EXPECT_TRUE(t.ok()) << t.status();
    if (t.ok()) out[info.name] = t->clone();
  }
  return out;
}

// The HF umT5 name of an official T5Encoder name, written from the spec of
// the issue independently of engine/io/comfy_layout.cc:
//   token_embedding.weight            -> shared.weight
//   norm.weight                       -> encoder.final_layer_norm.weight
//   blocks.N.attn.{q,k,v,o}.weight    -> encoder.block.N.layer.0.SelfAttention.{q,k,v,o}.weight
//   blocks.N.pos_embedding.embedding.weight -> ...layer.0.SelfAttention.relative_attention_bias.weight
//   blocks.N.norm1 / norm2            -> ...layer.0.layer_norm / layer.1.layer_norm
//   blocks.N.ffn.gate.0 / fc1 / fc2   -> ...layer.1.DenseReluDense.wi_0 / wi_1 / wo
inline std::string HfT5Name(const std::string& official) {
  if (official == "token_embedding.weight") return "shared.weight";
  if (official == "norm.weight") return "encoder.final_layer_norm.weight";
  const std::vector<std::string> parts = absl::StrSplit(official, absl::MaxSplits('.', 2));
  EXPECT_EQ(parts.size(), 3u) << official;
  EXPECT_EQ(parts[0], "blocks") << official;
  if (parts.size() != 3) return official;
  const std::string block = absl::StrCat("encoder.block.", parts[1], ".");
  const std::map<std::string, std::string> rest = {
      {"attn.q.weight", "layer.0.SelfAttention.q.weight"},
      {"attn.k.weight", "layer.0.SelfAttention.k.weight"},
      {"attn.v.weight", "layer.0.SelfAttention.v.weight"},
      {"attn.o.weight", "layer.0.SelfAttention.o.weight"},
      {"pos_embedding.embedding.weight", "layer.0.SelfAttention.relative_attention_bias.weight"},
      {"norm1.weight", "layer.0.layer_norm.weight"},
      {"norm2.weight", "layer.1.layer_norm.weight"},
      {"ffn.gate.0.weight", "layer.1.DenseReluDense.wi_0.weight"},
      {"ffn.fc1.weight", "layer.1.DenseReluDense.wi_1.weight"},
      {"ffn.fc2.weight", "layer.1.DenseReluDense.wo.weight"},
  };
  auto it = rest.find(parts[2]);
  EXPECT_NE(it, rest.end()) << official;
  return it == rest.end() ? official : block + it->second;
}

// Writes `tensors` renamed by `rename` (plus `extra`) to `path`.
inline void WriteRenamed(const std::string& path, const std::map<std::string, torch::Tensor>& tensors,
                         const std::function<std::string(const std::string&)>& rename,
                         const std::vector<NamedTensor>& extra = {}) {
  std::vector<NamedTensor> out;
  for (const auto& [name, t] : tensors) out.push_back(NamedTensor{rename(name), t, std::nullopt});
  for (const NamedTensor& t : extra) out.push_back(t);
  const absl::Status status = WriteSafetensors(path, std::move(out));
  ASSERT_TRUE(status.ok()) << status;
}

// A ComfyUI-style umT5 file from an official T5 checkpoint: HF names, a tied
// encoder.embed_tokens copy and decoder / lm_head tensors the encoder ignores.
inline void WriteHfT5(const std::string& official_path, const std::string& path) {
  const std::map<std::string, torch::Tensor> t5 = ReadAll(official_path);
  ASSERT_FALSE(t5.empty());
  const torch::Tensor emb = t5.at("token_embedding.weight");
  WriteRenamed(path, t5, HfT5Name,
               {NamedTensor{"encoder.embed_tokens.weight", emb, std::nullopt},
                NamedTensor{"decoder.block.0.layer.0.SelfAttention.q.weight", t5.at("blocks.0.attn.q.weight"),
                            std::nullopt},
                NamedTensor{"lm_head.weight", emb, std::nullopt}});
}

inline bool Consume(std::string* s, const std::string& prefix) {
  if (s->compare(0, prefix.size(), prefix) != 0) return false;
  s->erase(0, prefix.size());
  return true;
}

// The golden CLIP visual tower rewritten in the HF CLIPVisionModel naming of
// ComfyUI's clip_vision_h.safetensors (q/k/v split, flat embeddings).
inline void WriteHfClip(const std::string& official, const std::string& path) {
  std::vector<NamedTensor> out;
  for (const auto& [name, t] : ReadAll(official)) {
    std::string rest = name;
    if (!Consume(&rest, "visual.")) continue;  // textual.*, log_scale: not in ComfyUI's file
    auto add = [&](const std::string& hf, const torch::Tensor& v) { out.push_back({hf, v.contiguous(), {}}); };
    if (rest == "cls_embedding") {
      add("vision_model.embeddings.class_embedding", t.reshape({-1}));
    } else if (rest == "pos_embedding") {
      add("vision_model.embeddings.position_embedding.weight", t.squeeze(0));
    } else if (rest == "patch_embedding.weight") {
      add("vision_model.embeddings.patch_embedding.weight", t);
    } else if (rest == "head") {
      add("visual_projection.weight", t.t());
    } else if (Consume(&rest, "pre_norm.")) {
      add("vision_model.pre_layrnorm." + rest, t);
    } else if (Consume(&rest, "post_norm.")) {
      add("vision_model.post_layernorm." + rest, t);
    } else {
      ASSERT_TRUE(Consume(&rest, "transformer.")) << name;
      const size_t dot = rest.find('.');
      const std::string layer = "vision_model.encoder.layers." + rest.substr(0, dot) + ".";
      const std::string tail = rest.substr(dot + 1);
      const std::map<std::string, std::string> simple = {
          {"norm1.weight", "layer_norm1.weight"}, {"norm1.bias", "layer_norm1.bias"},
          {"norm2.weight", "layer_norm2.weight"}, {"norm2.bias", "layer_norm2.bias"},
          {"attn.proj.weight", "self_attn.out_proj.weight"}, {"attn.proj.bias", "self_attn.out_proj.bias"},
          {"mlp.0.weight", "mlp.fc1.weight"}, {"mlp.0.bias", "mlp.fc1.bias"},
          {"mlp.2.weight", "mlp.fc2.weight"}, {"mlp.2.bias", "mlp.fc2.bias"}};
      if (auto it = simple.find(tail); it != simple.end()) {
        add(layer + it->second, t);
      } else {
        ASSERT_TRUE(tail == "attn.to_qkv.weight" || tail == "attn.to_qkv.bias") << name;
        const std::string leaf = tail.substr(tail.rfind('.') + 1);
        const std::vector<torch::Tensor> qkv = t.chunk(3, 0);
        add(layer + "self_attn.q_proj." + leaf, qkv[0]);
        add(layer + "self_attn.k_proj." + leaf, qkv[1]);
        add(layer + "self_attn.v_proj." + leaf, qkv[2]);
      }
    }
  }
  int64_t tokens = 0;
  for (const NamedTensor& t : out) {
    if (t.name == "vision_model.embeddings.position_embedding.weight") tokens = t.tensor.size(0);
  }
  out.push_back({"vision_model.embeddings.position_ids", at::arange(tokens, at::kLong).unsqueeze(0), {}});
  const absl::Status status = WriteSafetensors(path, std::move(out));
  ASSERT_TRUE(status.ok()) << status;
}

}  // namespace videogen::io::test_util
