#include "server/exe/model_factory.h"

#include "absl/strings/str_cat.h"
#include "engine/common/status_macros.h"
#include "engine/common/torch_status.h"
#include "engine/memory/placement.h"
#include "engine/pipeline/tiny_model.h"
#include "engine/pipeline/wan_generator.h"
#include "server/testing/fake_video_generator.h"

namespace videogen::server {
namespace {

absl::StatusOr<std::unique_ptr<pipeline::VideoGenerator>> LoadWan(const ModelFlags& flags, const std::string& dir,
                                                                  const std::string& id, const std::string& device) {
  pipeline::ModelLoadOptions options;
  options.model_dir = dir;
  options.id = id;
  ASSIGN_OR_RETURN(options.load.placement, memory::ParsePlacement(flags.placement));
  options.load.gpu_memory = flags.gpu_memory;
  options.load.host_memory = flags.host_memory;
  ASSIGN_OR_RETURN(options.load.device, TorchCall(absl::StrCat("devices: ", device), [&] { return torch::Device(device); }));
  ASSIGN_OR_RETURN(std::unique_ptr<pipeline::WanGenerator> generator, pipeline::WanGenerator::Create(options));
  return std::unique_ptr<pipeline::VideoGenerator>(std::move(generator));
}

}  // namespace

absl::StatusOr<std::unique_ptr<pipeline::VideoGenerator>> CreateGenerator(const ModelFlags& flags,
                                                                          const std::string& device) {
  if (!flags.model_dir.empty()) return LoadWan(flags, flags.model_dir, "", device);
  if (flags.model == "fake" || flags.model == "fake-i2v") {
    testing::FakeVideoGeneratorOptions options;
    options.id = flags.model;
    options.type = flags.model == "fake" ? pipeline::ModelType::kT2V : pipeline::ModelType::kI2V;
    const std::optional<Device> parsed = ParseDevice(device);
    if (!parsed) return absl::InvalidArgumentError(absl::StrCat("devices: unknown device '", device, "'"));
    options.device = *parsed;
    options.step_time = flags.fake_step_time;
    options.fail_prompt = flags.fake_fail_prompt;
    return std::make_unique<testing::FakeVideoGenerator>(options);
  }
  if (flags.model == "tiny" || flags.model == "tiny-t2v") {
    pipeline::TinyModelOptions tiny;
    tiny.type = flags.model == "tiny" ? pipeline::ModelType::kI2V : pipeline::ModelType::kT2V;
    ASSIGN_OR_RETURN(const std::string dir, pipeline::EnsureTinyModel(pipeline::DefaultCacheDir(), tiny));
    return LoadWan(flags, dir, flags.model, device);
  }
  return absl::InvalidArgumentError(absl::StrCat("model: unknown model \"", flags.model,
                                                 "\" (tiny (i2v), tiny-t2v, or the test-only fake / fake-i2v)"));
}

}  // namespace videogen::server
