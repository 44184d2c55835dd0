// videogen-make-sparse DIR --model i2v-14b|t2v-a14b|i2v-a14b|ti2v-5b
// Writes the official layout of a Wan model with real tensor names, shapes
// and dtypes but no data (sparse files; engine/synth/sparse_model_dir.h), for
// `videogen-plan DIR`; i2v-14b (Wan2.1-I2V-14B-480P) is loadable and servable.
// Exits 0 when written, 2 on usage errors, 1 on I/O errors.
#include <cstdio>
#include <optional>
#include <string>

#include "engine/synth/sparse_model_dir.h"

namespace {

int Usage() {
  std::fprintf(stderr, "usage: videogen-make-sparse DIR --model i2v-14b|t2v-a14b|i2v-a14b|ti2v-5b\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir;
  std::optional<videogen::synth::SparseModel> model;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--model" && i + 1 < argc) {
      model = videogen::synth::ParseSparseModel(argv[++i]);
      if (!model) return Usage();
    } else if (dir.empty() && !arg.empty() && arg[0] != '-') {
      dir = arg;
    } else {
      return Usage();
    }
  }
  if (dir.empty() || !model) return Usage();
  const absl::Status status = videogen::synth::WriteSparseModelDir(dir, *model);
  if (!status.ok()) {
    std::fprintf(stderr, "videogen-make-sparse: %s\n", status.ToString().c_str());
    return 1;
  }
  std::printf("videogen-make-sparse: wrote %s (%s)\n", dir.c_str(), videogen::synth::SparseModelName(*model));
  return 0;
}
