// Built with VIDEOGEN_FAKE_MODELS=ON: the fake models are
// testing::FakeVideoGenerator.
#include "server/exe/fake_models.h"

#include "absl/strings/str_cat.h"
#include "server/testing/fake_video_generator.h"

namespace videogen::server {

bool FakeModelsBuiltIn() { return true; }

absl::StatusOr<std::unique_ptr<pipeline::VideoGenerator>> CreateFakeGenerator(const ModelFlags& flags,
                                                                              const std::string& device) {
  testing::FakeVideoGeneratorOptions options;
  options.id = BuiltInModelName(flags.model);
  options.type = flags.model == BuiltInModel::kFake ? pipeline::ModelType::kT2V : pipeline::ModelType::kI2V;
  const std::optional<Device> parsed = ParseDevice(device);
  if (!parsed) return absl::InvalidArgumentError(absl::StrCat("devices: unknown device '", device, "'"));
  options.device = *parsed;
  options.step_time = flags.fake_step_time;
  options.fail_prompt = flags.fake_fail_prompt;
  return std::make_unique<testing::FakeVideoGenerator>(options);
}

}  // namespace videogen::server
