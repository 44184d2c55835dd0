// bench_load: streaming a DiT checkpoint to resident fp8 weights with bounded RAM.
//
//   bench_load --dir D --write [--shard-gb G]     write a synthetic fp32 T2V-1.3B
//                                                 DiT (real names and shapes, ~5.7 GB)
//   bench_load --dir D --write-sparse-i2v-14b     the I2V-14B-480P directory as sparse
//                                                 files (headers only; for videogen-plan)
//   bench_load --dir D --mode stream|naive [--dtype fp8|fp32]
//       stream: LoadStateDict straight from the mapped files, one tensor at a
//               time, pages released as consumed (the production path);
//       naive:  read every tensor into anonymous memory first, then convert.
//   Prints wall time, GB/s of checkpoint data, resident weight bytes and the
//   process' peak RSS (VmHWM). Run each mode in its own process (VmHWM is per process).
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include <ATen/ATen.h>

#include "bench/common/bench_start.h"
#include "absl/strings/str_cat.h"
#include "engine/common/host_memory.h"
#include "engine/common/runtime.h"
#include "engine/io/tensor_source.h"
#include "bench/load/official_shapes.h"
#include "engine/synth/synthetic_checkpoint.h"
#include "engine/models/common/state_dict.h"
#include "engine/models/dit/model.h"

namespace {

using namespace videogen;

constexpr double kGB = 1e9;

// Every tensor copied into anonymous memory: the naive path's first step.
class InMemorySource final : public io::TensorSource {
 public:
  static absl::StatusOr<std::unique_ptr<InMemorySource>> ReadAll(const io::TensorSource& file) {
    auto source = std::unique_ptr<InMemorySource>(new InMemorySource());
    source->infos_ = file.tensors();
    for (const io::TensorInfo& info : file.tensors()) {
      auto t = file.Read(info.name);
      if (!t.ok()) return t.status();
      source->data_[info.name] = t->clone();
    }
    return source;
  }
  const std::vector<io::TensorInfo>& tensors() const override { return infos_; }
  absl::StatusOr<torch::Tensor> Read(std::string_view name) const override {
    auto it = data_.find(std::string(name));
    if (it == data_.end()) return absl::NotFoundError(std::string(name));
    return it->second;
  }
  std::string Describe() const override { return "in-memory copy"; }

 private:
  InMemorySource() = default;
  std::vector<io::TensorInfo> infos_;
  std::map<std::string, torch::Tensor> data_;
};

std::string Arg(int argc, char** argv, const char* name, const std::string& fallback) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (!std::strcmp(argv[i], name)) return argv[i + 1];
  }
  return fallback;
}

bool Flag(int argc, char** argv, const char* name) {
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], name)) return true;
  }
  return false;
}

int Fail(const absl::Status& s) {
  std::fprintf(stderr, "bench_load: %s\n", s.ToString().c_str());
  return 1;
}

}  // namespace

constexpr char kUsage[] =
    "usage: bench_load --dir D --write [--shard-gb G]      write a synthetic fp32 T2V-1.3B DiT (~5.7 GB)\n"
    "       bench_load --dir D --write-sparse-i2v-14b    the I2V-14B-480P directory as sparse files\n"
    "       bench_load --dir D --mode stream|naive [--dtype fp8|fp32]\n"
    "Streaming a DiT checkpoint to resident weights: wall time, GB/s, resident bytes, peak RSS (VmHWM).\n"
    "Run each mode in its own process (VmHWM is per process).\n";

int main(int argc, char** argv) {
  if (videogen::bench::BenchStart(argc, argv, kUsage)) return 0;
  const std::string dir = Arg(argc, argv, "--dir", "");
  if (dir.empty()) {
    std::fprintf(stderr, "usage: bench_load --dir D (--write [--shard-gb G] | --mode stream|naive [--dtype fp8|fp32])\n");
    return 2;
  }
  if (auto s = ConfigureTorchRuntime({}); !s.ok()) return Fail(s);
  const models::WanConfig config = models::WanConfig::T2V_1_3B();
  if (Flag(argc, argv, "--write-sparse-i2v-14b")) {
    auto written = bench::WriteSparseI2V14B(dir);
    if (!written.ok()) return Fail(written.status());
    std::printf("wrote sparse I2V-14B-480P layout in %s\n", dir.c_str());
    return 0;
  }
  if (Flag(argc, argv, "--write")) {
    const std::vector<synth::SyntheticTensor> tensors = bench::DitTensors(config);
    synth::SyntheticCheckpointOptions options;
    options.dir = dir;
    options.max_shard_bytes = static_cast<uint64_t>(std::stod(Arg(argc, argv, "--shard-gb", "2")) * kGB);
    const auto t0 = std::chrono::steady_clock::now();
    auto path = synth::WriteSyntheticCheckpoint(tensors, options);
    if (!path.ok()) return Fail(path.status());
    std::printf("wrote %s (%zu tensors) in %.1f s\n", path->c_str(), tensors.size(),
                std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    return 0;
  }

  const std::string mode = Arg(argc, argv, "--mode", "stream");
  const std::string dtype = Arg(argc, argv, "--dtype", "fp8");
  const std::string index = dir + "/diffusion_pytorch_model.safetensors.index.json";
  auto file = io::OpenCheckpoint(index);
  if (!file.ok()) file = io::OpenCheckpoint(dir + "/diffusion_pytorch_model.safetensors");
  if (!file.ok()) return Fail(file.status());
  uint64_t file_bytes = 0;
  for (const io::TensorInfo& t : (*file)->tensors()) file_bytes += t.nbytes;
  const uint64_t rss_before = ProcessRssBytes();

  models::LoadOptions options;
  if (dtype == "fp8") options.fp8 = quant::Fp8Options{};
  const auto t0 = std::chrono::steady_clock::now();
  models::WanModel model(config, quant::ParamInit::kUninitialized);
  absl::Status status;
  if (mode == "naive") {
    auto all = InMemorySource::ReadAll(**file);
    if (!all.ok()) return Fail(all.status());
    status = models::LoadStateDict(*model, **all, options);
  } else {
    status = models::LoadStateDict(*model, **file, options);
  }
  if (!status.ok()) return Fail(status);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  uint64_t resident = 0;
  for (const auto& p : model->named_parameters()) resident += p.value().numel() * p.value().element_size();
  const uint64_t peak = ProcessPeakRssBytes();
  std::printf("mode=%s dtype=%s checkpoint=%.3f GB resident_weights=%.3f GB\n", mode.c_str(), dtype.c_str(),
              file_bytes / kGB, resident / kGB);
  std::printf("wall=%.2f s  throughput=%.2f GB/s  rss_before=%.3f GB  peak_rss(VmHWM)=%.3f GB  "
              "peak - resident = %.3f GB\n",
              seconds, file_bytes / kGB / seconds, rss_before / kGB, peak / kGB,
              (static_cast<double>(peak) - static_cast<double>(resident)) / kGB);
  return 0;
}
