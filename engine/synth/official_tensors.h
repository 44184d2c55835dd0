// Tensor names, shapes and dtypes of the official Wan checkpoints, written
// from the official modules (Wan2.2 repository: wan/modules/model.py, t5.py,
// vae2_1.py, vae2_2.py; Wan2.1's model.py and t5.py name the same tensors)
// without building our modules: for the sparse synthetic model directories
// (sparse_model_dir.h), and as an independent check of our modules' names.
// Lists are in the official state-dict order.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/io/model_dir.h"
#include "engine/io/tensor_source.h"
#include "engine/synth/synthetic_checkpoint.h"

namespace videogen::synth {

// The WanModel kwargs that decide its tensors, for DiTs without CLIP image
// cross-attention (no img_emb / k_img / v_img): Wan2.1 t2v and every Wan2.2
// DiT (I2V-A14B takes its image as latent channels: in_dim 36).
struct DitShape {
  int64_t dim = 0, ffn_dim = 0, num_heads = 0, num_layers = 0;
  int64_t in_dim = 16, out_dim = 16;
  int64_t text_dim = 4096, freq_dim = 256;
  const char* model_type = "t2v";  // config.json "model_type" (does not change the tensors)

  // wan/configs of Wan2.2: each expert of T2V-A14B and I2V-A14B, and TI2V-5B.
  static DitShape T2V_A14B();
  static DitShape I2V_A14B();
  static DitShape TI2V_5B();
};
// patch_embedding, text/time embeddings, time_projection, blocks (self/cross
// attention with q/k norms, norm3, ffn, modulation), head; all in `dtype`.
std::vector<SyntheticTensor> OfficialDitTensors(const DitShape& shape, io::DType dtype);

// The umT5 encoder (T5Encoder of t5.py with shared_pos=False: a relative
// position embedding per block). Defaults: umt5_xxl.
struct T5Shape {
  int64_t vocab = 256384, dim = 4096, dim_attn = 4096, dim_ffn = 10240;
  int64_t num_heads = 64, num_layers = 24, num_buckets = 32;
};
std::vector<SyntheticTensor> OfficialT5Tensors(const T5Shape& shape, io::DType dtype);

// WanVAE_ of vae2_1.py (kWan21) or vae2_2.py (kWan22), with the official
// dim_mult [1, 2, 4, 4], two residual blocks per level and temporal
// downsampling [False, True, True] (both official VAEs).
struct VaeShape {
  io::VaeKind kind = io::VaeKind::kWan21;
  int64_t dim = 96;     // encoder width (Wan2.1: the decoder's too)
  int64_t dec_dim = 0;  // kWan22: the decoder width; unused for kWan21
  int64_t z_dim = 16;

  static VaeShape Wan21();  // Wan2.1_VAE.pth: dim 96, z_dim 16
  static VaeShape Wan22();  // Wan2.2_VAE.pth: dim 160, dec_dim 256, z_dim 48
};
std::vector<SyntheticTensor> OfficialVaeTensors(const VaeShape& shape, io::DType dtype);

}  // namespace videogen::synth
