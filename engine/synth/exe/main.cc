// videogen-make-tiny DIR [--type i2v|t2v|flf2v|ti2v|t2v-a14b|i2v-a14b] [--seed N] [--spm-train PATH]
// Writes an embedded tiny Wan2.1 / Wan2.2 model (random weights) in the official layout.
// pipeline::EnsureTinyModel runs it to fill the model cache.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "engine/common/blas_kernels.h"
#include "engine/synth/tiny_model_writer.h"

namespace {
constexpr char kTypes[] = "i2v, t2v, flf2v, ti2v, t2v-a14b or i2v-a14b";
}  // namespace

int main(int argc, char** argv) {
  videogen::ApplyBlasKernelChoice();  // first: BLIS reads BLIS_ARCH_TYPE once, at its first use
  videogen::pipeline::TinyModelOptions options;
  std::string dir;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--type" && i + 1 < argc) {
      if (!videogen::pipeline::ParseTinyType(argv[++i], &options)) {
        std::fprintf(stderr, "videogen-make-tiny: --type must be %s\n", kTypes);
        return 2;
      }
    } else if (arg == "--seed" && i + 1 < argc) {
      options.seed = std::strtoull(argv[++i], nullptr, 10);
    } else if (arg == "--spm-train" && i + 1 < argc) {
      options.spm_train = argv[++i];
    } else if (dir.empty() && !arg.empty() && arg[0] != '-') {
      dir = arg;
    } else {
      std::fprintf(stderr, "usage: videogen-make-tiny DIR [--type TYPE] [--seed N] [--spm-train PATH] (TYPE: %s)\n",
                   kTypes);
      return 2;
    }
  }
  if (dir.empty()) {
    std::fprintf(stderr, "usage: videogen-make-tiny DIR [--type TYPE] [--seed N] [--spm-train PATH] (TYPE: %s)\n",
                 kTypes);
    return 2;
  }
  const absl::Status status = videogen::synth::WriteTinyModel(dir, options);
  if (!status.ok()) {
    std::fprintf(stderr, "videogen-make-tiny: %s\n", status.ToString().c_str());
    return 1;
  }
  std::printf("videogen-make-tiny: wrote %s\n", dir.c_str());
  return 0;
}
