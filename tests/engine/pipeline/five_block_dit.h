// A five-block Wan DiT for the offload tests (more blocks than the two
// staging slots), with every weight drawn from U(-0.2, 0.2): the constructor
// leaves some layers uninitialised, whose NaNs would make equal() false.
#pragma once

#include <cstdint>

#include <torch/torch.h>

#include "engine/models/dit/model.h"

namespace videogen::pipeline {

inline models::WanConfig FiveBlocks(int64_t dim = 32) {
  models::WanConfig c = models::WanConfig::T2V_1_3B();
  c.dim = dim;
  c.ffn_dim = 2 * dim;
  c.num_heads = 2;
  c.num_layers = 5;
  c.text_dim = 16;
  c.freq_dim = 16;
  c.text_len = 8;
  c.in_dim = 4;
  c.out_dim = 4;
  return c;
}

inline models::WanModel MakeFilledModel(const models::WanConfig& config) {
  models::WanModel model(config);
  const torch::NoGradGuard no_grad;
  for (auto& p : model->parameters()) {
    if (p.is_floating_point()) p.uniform_(-0.2, 0.2);
  }
  return model;
}

}  // namespace videogen::pipeline
