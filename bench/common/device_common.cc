#include <cstdlib>

#include <torch/cuda.h>

#include "absl/strings/str_cat.h"
#include "bench/common/device.h"

namespace videogen::bench {

absl::StatusOr<torch::Device> ParseDevice(const std::string& text) {
  if (text == "cpu") return torch::Device(torch::kCPU);
  if (text != "cuda" && text.rfind("cuda:", 0) != 0) {
    return absl::InvalidArgumentError(absl::StrCat("--device: expected cpu, cuda or cuda:N, got '", text, "'"));
  }
  const int index = text == "cuda" ? 0 : std::atoi(text.c_str() + 5);
  const int count = static_cast<int>(torch::cuda::device_count());
  if (index < 0 || index >= count) {
    return absl::InvalidArgumentError(
        absl::StrCat("--device: ", text, ": no such CUDA device (", count, " visible to this LibTorch)"));
  }
  return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(index));
}

}  // namespace videogen::bench
