// The official tensor tables against the golden fixtures, which the official
// Python modules wrote (same names, same shapes at the fixtures' tiny sizes),
// and the sparse Wan2.2 directories built from them.
#include "engine/synth/official_tensors.h"

#include <sys/stat.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "engine/io/model_dir.h"
#include "engine/io/safetensors.h"
#include "engine/synth/sparse_model_dir.h"
#include "tests/support/golden.h"
#include "tests/support/temp_dir.h"

namespace videogen::synth {
namespace {

namespace fs = std::filesystem;
using Shapes = std::map<std::string, std::vector<int64_t>>;

Shapes Golden(const std::string& file) {
  auto header = io::ReadSafetensorsHeader(videogen::testing::GoldenDir() + "/" + file);
  EXPECT_TRUE(header.ok()) << header.status();
  Shapes shapes;
  if (header.ok()) {
    for (const io::TensorInfo& t : *header) shapes[t.name] = t.shape;
  }
  return shapes;
}

Shapes Table(const std::vector<SyntheticTensor>& tensors) {
  Shapes shapes;
  for (const SyntheticTensor& t : tensors) {
    EXPECT_TRUE(shapes.emplace(t.name, t.shape).second) << "duplicate " << t.name;
  }
  return shapes;
}

DitShape TinyDit(int64_t dim, int64_t ffn_dim, int64_t in_dim, int64_t out_dim) {
  DitShape s;
  s.dim = dim;
  s.ffn_dim = ffn_dim;
  s.num_layers = 2;
  s.in_dim = in_dim;
  s.out_dim = out_dim;
  s.text_dim = 32;
  return s;
}

TEST(OfficialTensors, DitTablesMatchTheGoldenWan21AndWan22Dits) {
  // dit_t2v: Wan2.1 t2v; dit_ti2v_5b: TI2V-5B (48 channels); the A14B experts: t2v and i2v (in_dim 36, no img_emb).
  EXPECT_EQ(Table(OfficialDitTensors(TinyDit(64, 128, 16, 16), io::DType::kF32)),
            Golden("dit_t2v/weights.safetensors"));
  EXPECT_EQ(Table(OfficialDitTensors(TinyDit(64, 128, 48, 48), io::DType::kF32)),
            Golden("dit_ti2v_5b/weights.safetensors"));
  EXPECT_EQ(Table(OfficialDitTensors(TinyDit(32, 64, 16, 16), io::DType::kF32)),
            Golden("pipeline_t2v_a14b/dit_low_noise.safetensors"));
  EXPECT_EQ(Table(OfficialDitTensors(TinyDit(32, 64, 36, 16), io::DType::kF32)),
            Golden("pipeline_i2v_a14b/dit_high_noise.safetensors"));
}

TEST(OfficialTensors, T5TableMatchesTheGoldenEncoder) {
  T5Shape tiny;
  tiny.vocab = 500;
  tiny.dim = tiny.dim_attn = 32;
  tiny.dim_ffn = 80;
  tiny.num_heads = 4;
  tiny.num_layers = 2;
  EXPECT_EQ(Table(OfficialT5Tensors(tiny, io::DType::kF32)), Golden("t5_encoder/weights.safetensors"));
}

TEST(OfficialTensors, VaeTablesMatchTheGoldenWan21AndWan22Vaes) {
  VaeShape v21 = VaeShape::Wan21();
  v21.dim = 4;
  EXPECT_EQ(Table(OfficialVaeTensors(v21, io::DType::kF32)), Golden("vae_decode/weights.safetensors"));
  VaeShape v22 = VaeShape::Wan22();
  v22.dim = 4;
  v22.dec_dim = 4;
  EXPECT_EQ(Table(OfficialVaeTensors(v22, io::DType::kF32)), Golden("vae22_decode/weights.safetensors"));
}

uint64_t Bytes(const std::vector<SyntheticTensor>& tensors) {
  uint64_t total = 0;
  for (const SyntheticTensor& t : tensors) {
    uint64_t n = static_cast<uint64_t>(io::DTypeSize(t.dtype));
    for (int64_t d : t.shape) n *= static_cast<uint64_t>(d);
    total += n;
  }
  return total;
}

TEST(OfficialTensors, FullSizeTablesHaveTheOfficialFileSizes) {
  // Wan2.1_VAE.pth 508 MB, Wan2.2_VAE.pth 2.82 GB (float32); the umT5-XXL
  // encoder 11.4 GB (bfloat16); one A14B expert ~14.3 B parameters, TI2V-5B ~5.0 B.
  EXPECT_NEAR(Bytes(OfficialVaeTensors(VaeShape::Wan21(), io::DType::kF32)) / 1e6, 508, 5);
  EXPECT_NEAR(Bytes(OfficialVaeTensors(VaeShape::Wan22(), io::DType::kF32)) / 1e9, 2.82, 0.02);
  EXPECT_NEAR(Bytes(OfficialT5Tensors(T5Shape{}, io::DType::kBF16)) / 1e9, 11.36, 0.05);
  EXPECT_NEAR(Bytes(OfficialDitTensors(DitShape::T2V_A14B(), io::DType::kF32)) / 4e9, 14.29, 0.05);
  EXPECT_NEAR(Bytes(OfficialDitTensors(DitShape::TI2V_5B(), io::DType::kF32)) / 4e9, 5.0, 0.05);
}

TEST(SparseModelDir, WritesTheOfficialWan22LayoutsWithoutUsingDisk) {
  videogen::testing::ScopedTempDir tmp("vg_sparse_wan22");
  const struct {
    SparseModel model;
    std::vector<std::string> files;
  } cases[] = {
      {SparseModel::kT2VA14B,
       {"high_noise_model/config.json", "high_noise_model/diffusion_pytorch_model.safetensors.index.json",
        "high_noise_model/diffusion_pytorch_model-00006-of-00006.safetensors", "low_noise_model/config.json",
        "low_noise_model/diffusion_pytorch_model-00001-of-00006.safetensors",
        "models_t5_umt5-xxl-enc-bf16.safetensors", "Wan2.1_VAE.safetensors"}},
      {SparseModel::kTI2V5B,
       {"config.json", "diffusion_pytorch_model.safetensors.index.json",
        "diffusion_pytorch_model-00003-of-00003.safetensors", "models_t5_umt5-xxl-enc-bf16.safetensors",
        "Wan2.2_VAE.safetensors"}},
  };
  for (const auto& c : cases) {
    const fs::path dir = tmp.path() / SparseModelName(c.model);
    const absl::Status s = WriteSparseModelDir(dir.string(), c.model);
    ASSERT_TRUE(s.ok()) << s;
    for (const std::string& f : c.files) EXPECT_TRUE(fs::is_regular_file(dir / f)) << f;
    uint64_t allocated = 0;
    for (const auto& entry : fs::recursive_directory_iterator(dir)) {
      struct stat st;
      ASSERT_EQ(::stat(entry.path().c_str(), &st), 0);
      allocated += static_cast<uint64_t>(st.st_blocks) * 512;
    }
    EXPECT_LT(allocated, 4ull << 20) << SparseModelName(c.model) << " must be sparse";
  }
  EXPECT_EQ(ParseSparseModel("i2v-a14b"), SparseModel::kI2VA14B);
  EXPECT_FALSE(ParseSparseModel("t2v-14b").has_value());
}

}  // namespace
}  // namespace videogen::synth
