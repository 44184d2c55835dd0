// The test-only fake models (`--model fake` / `fake-i2v`). Exactly one of
// fake_models.cc (links videogen::server_testing) and no_fake_models.cc
// (without them) is built into videogen-server, as the CMake option
// VIDEOGEN_FAKE_MODELS chooses.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "engine/pipeline/api/generator.h"
#include "server/exe/model_factory.h"

namespace videogen::server {

// Whether this build serves the fake models.
bool FakeModelsBuiltIn();

// A FakeVideoGenerator for `flags.model` (kFake or kFakeI2V) on `device`, with
// flags.fake_step_time and flags.fake_fail_prompt. InvalidArgument("model: ...")
// in a build without fake models.
absl::StatusOr<std::unique_ptr<pipeline::VideoGenerator>> CreateFakeGenerator(const ModelFlags& flags,
                                                                              const std::string& device);

}  // namespace videogen::server
