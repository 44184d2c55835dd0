// Built with VIDEOGEN_FAKE_MODELS=OFF: no fake models (ParseBuiltInModel
// already rejects their names).
#include "absl/strings/str_cat.h"
#include "server/exe/fake_models.h"

namespace videogen::server {

bool FakeModelsBuiltIn() { return false; }

absl::StatusOr<std::unique_ptr<pipeline::VideoGenerator>> CreateFakeGenerator(const ModelFlags& flags,
                                                                              const std::string& device) {
  return absl::InvalidArgumentError(absl::StrCat("model: \"", BuiltInModelName(flags.model),
                                                 "\" is a test-only model, not built into this server"));
}

}  // namespace videogen::server
