#include "server/exe/model_factory.h"

#include "absl/strings/str_cat.h"
#include "engine/common/status_macros.h"
#include "engine/common/torch_status.h"
#include "engine/memory/placement.h"
#include "engine/pipeline/tiny_model.h"
#include "engine/pipeline/wan_generator.h"
#include "server/exe/fake_models.h"

namespace videogen::server {
namespace {

constexpr BuiltInModel kAllBuiltInModels[] = {
    BuiltInModel::kTiny,         BuiltInModel::kTinyT2V,      BuiltInModel::kTinyFLF2V, BuiltInModel::kTinyTI2V,
    BuiltInModel::kTinyT2VA14B,  BuiltInModel::kTinyI2VA14B,  BuiltInModel::kFake,      BuiltInModel::kFakeI2V};

bool IsFake(BuiltInModel model) { return model == BuiltInModel::kFake || model == BuiltInModel::kFakeI2V; }

absl::StatusOr<std::unique_ptr<pipeline::VideoGenerator>> LoadWan(const ModelFlags& flags, const std::string& dir,
                                                                  const std::string& id, const std::string& device) {
  pipeline::ModelLoadOptions options;
  options.model_dir = dir;
  options.id = id;
  ASSIGN_OR_RETURN(options.load.placement, memory::ParsePlacement(flags.placement));
  for (const std::string& flag : flags.loras) {
    ASSIGN_OR_RETURN(lora::LoraFileSpec spec, lora::ParseLoraFileSpec(flag));
    options.loras.push_back(std::move(spec));
  }
  for (const std::string& flag : flags.loras_low_noise) {
    ASSIGN_OR_RETURN(lora::LoraFileSpec spec, lora::ParseLoraFileSpec(flag));
    options.loras_low_noise.push_back(std::move(spec));
  }
  for (const std::string& flag : flags.adapters) {
    const size_t eq = flag.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == flag.size()) {
      return absl::InvalidArgumentError(absl::StrCat("adapter: '", flag, "' is not NAME=PATH"));
    }
    options.adapters.push_back({flag.substr(0, eq), flag.substr(eq + 1)});
  }
  options.load.gpu_memory = flags.gpu_memory;
  options.load.host_memory = flags.host_memory;
  ASSIGN_OR_RETURN(options.load.device, TorchCall(absl::StrCat("devices: ", device), [&] { return torch::Device(device); }));
  ASSIGN_OR_RETURN(std::unique_ptr<pipeline::WanGenerator> generator, pipeline::WanGenerator::Create(options));
  return std::unique_ptr<pipeline::VideoGenerator>(std::move(generator));
}

absl::StatusOr<std::unique_ptr<pipeline::VideoGenerator>> LoadTiny(const ModelFlags& flags,
                                                                   const std::string& device) {
  pipeline::TinyModelOptions tiny;
  // "tiny" is the i2v one; the others are "tiny-" + TinyTypeName.
  const std::string name = BuiltInModelName(flags.model);
  if (flags.model == BuiltInModel::kTiny || !pipeline::ParseTinyType(name.substr(5), &tiny)) {
    tiny.type = pipeline::ModelType::kI2V;
  }
  ASSIGN_OR_RETURN(const std::string dir, pipeline::EnsureTinyModel(pipeline::DefaultCacheDir(), tiny));
  return LoadWan(flags, dir, BuiltInModelName(flags.model), device);
}

}  // namespace

const char* BuiltInModelName(BuiltInModel model) {
  switch (model) {
    case BuiltInModel::kTiny:
      return "tiny";
    case BuiltInModel::kTinyT2V:
      return "tiny-t2v";
    case BuiltInModel::kTinyFLF2V:
      return "tiny-flf2v";
    case BuiltInModel::kTinyTI2V:
      return "tiny-ti2v";
    case BuiltInModel::kTinyT2VA14B:
      return "tiny-t2v-a14b";
    case BuiltInModel::kTinyI2VA14B:
      return "tiny-i2v-a14b";
    case BuiltInModel::kFake:
      return "fake";
    case BuiltInModel::kFakeI2V:
      return "fake-i2v";
  }
  return "unknown";
}

absl::StatusOr<BuiltInModel> ParseBuiltInModel(absl::string_view name) {
  for (BuiltInModel model : kAllBuiltInModels) {
    if (name == BuiltInModelName(model) && (!IsFake(model) || FakeModelsBuiltIn())) return model;
  }
  return absl::InvalidArgumentError(absl::StrCat("model: unknown model \"", name,
                                                 "\" (tiny (i2v), tiny-t2v, tiny-flf2v, tiny-ti2v, tiny-t2v-a14b, "
                                                 "tiny-i2v-a14b",
                                                 FakeModelsBuiltIn() ? ", or the test-only fake / fake-i2v" : "",
                                                 ")"));
}

absl::StatusOr<std::unique_ptr<pipeline::VideoGenerator>> CreateGenerator(const ModelFlags& flags,
                                                                          const std::string& device) {
  if (!flags.model_dir.empty()) return LoadWan(flags, flags.model_dir, "", device);
  if (IsFake(flags.model)) return CreateFakeGenerator(flags, device);
  return LoadTiny(flags, device);
}

}  // namespace videogen::server
