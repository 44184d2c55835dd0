// Helpers shared by tests that read the golden fixtures (../shared/golden,
// or $VIDEOGEN_GOLDEN_DIR as ctest sets it). Failures are reported through
// GoogleTest (EXPECT), so callers get an empty result instead of a crash.
#pragma once

#include <memory>
#include <string>

#include <torch/types.h>

#include "engine/io/tensor_source.h"

namespace videogen::testing {

// The golden fixtures directory.
std::string GoldenDir();

// OpenCheckpoint(path); nullptr (and a test failure) when it cannot be opened.
std::unique_ptr<io::TensorSource> OpenOrFail(const std::string& path);

// A copy of tensor `name` of the checkpoint at `path`.
torch::Tensor ReadTensor(const std::string& path, const std::string& name);

// ||a - b|| / ||b|| in float64.
double RelL2(const torch::Tensor& a, const torch::Tensor& b);

}  // namespace videogen::testing
