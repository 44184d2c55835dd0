// Golden fixtures in the format of shared/golden/README.md: a directory with
// fixture.json, weights, inputs.safetensors and outputs.safetensors.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/types.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/io/tensor_source.h"

namespace videogen::verify {

using TensorMap = std::map<std::string, torch::Tensor>;

struct Tolerance {
  double max_abs = 0;
  double rel_l2 = 0;
  bool exact = false;
};

// Immutable after LoadFixture.
struct Fixture {
  std::string dir;        // the fixture directory
  std::string name;       // fixture.json "name" (falls back to the directory name)
  std::string component;  // fixture.json "component"
  nlohmann::json meta;    // the whole fixture.json
  TensorMap inputs;       // empty when "inputs" is null
  TensorMap expected;     // outputs.safetensors
  std::map<std::string, Tolerance> tolerances;  // per output tensor

  // Path of weight file `component` ("" for a single "weights" string), resolved
  // against dir. NotFound when absent.
  absl::StatusOr<std::string> WeightsPath(const std::string& component = "") const;
  // Input tensor `name`, NotFound naming the fixture when absent.
  absl::StatusOr<torch::Tensor> Input(const std::string& name) const;
  // Inputs named `prefix`_0, `prefix`_1, ... in index order (the official list arguments).
  std::vector<torch::Tensor> InputList(const std::string& prefix) const;
};

// Reads fixture.json and the input/output tensors (copied out of the files).
// NotFound / DataLoss / InvalidArgument naming the file on problems.
absl::StatusOr<Fixture> LoadFixture(const std::string& dir);

// The SentencePiece model of a tokenizer or pipeline fixture: config.tokenizer_model,
// else a string `tokenizer_model` or `spiece_model` in config or at the top
// level, relative to the fixture directory. InvalidArgument when none is named.
absl::StatusOr<std::string> SpieceModelPath(const Fixture& fixture);

struct TensorComparison {
  std::string name;
  double max_abs = 0;
  double rel_l2 = 0;
  bool pass = false;
  std::string problem;  // shape/dtype mismatch or missing output
};

// Compares `actual` against fixture.expected with the per-tensor tolerances
// (float64 accumulation; integer tensors must be identical). Every expected
// tensor is compared; extra actual tensors are ignored.
std::vector<TensorComparison> CompareOutputs(const Fixture& fixture, const TensorMap& actual);

// Checks that `actual` is bit-identical to `reference` on every tensor of
// `reference` (the same weights read from another container format, e.g. the
// fixture's weights.pth beside weights.safetensors). DataLoss naming `path`
// and the first differing output otherwise.
absl::Status CheckSameOutputs(const TensorMap& reference, const TensorMap& actual, const std::string& path);

}  // namespace videogen::verify
