#include "server/exe/model_factory.h"

#include "absl/strings/str_cat.h"
#include "server/testing/fake_video_generator.h"

namespace videogen::server {

absl::StatusOr<std::unique_ptr<pipeline::VideoGenerator>> CreateGenerator(const ModelFlags& flags,
                                                                         const std::string& device) {
  if (!flags.model_dir.empty()) {
    return absl::UnimplementedError("model_dir: loading checkpoints is not linked into this build yet");
  }
  if (flags.model == "fake" || flags.model == "fake-i2v") {
    testing::FakeVideoGeneratorOptions options;
    options.id = flags.model;
    options.type = flags.model == "fake" ? pipeline::ModelType::kT2V : pipeline::ModelType::kI2V;
    options.device = device;
    options.step_time = flags.fake_step_time;
    return std::make_unique<testing::FakeVideoGenerator>(options);
  }
  if (flags.model == "tiny") {
    return absl::UnimplementedError("model: the embedded tiny model is not linked into this build yet");
  }
  return absl::InvalidArgumentError(
      absl::StrCat("model: unknown model \"", flags.model, "\" (tiny, or the test-only fake / fake-i2v)"));
}

}  // namespace videogen::server
