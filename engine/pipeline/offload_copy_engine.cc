#include "engine/pipeline/offload_copy_engine.h"

namespace videogen::pipeline {
namespace {

class CpuCopyEngine final : public CopyEngine {
 public:
  torch::Device device() const override { return torch::kCPU; }
  // A new handle on the same storage: the module's own handle is redirected
  // by set_data while the copy must keep pointing at the weights.
  torch::Tensor HostCopy(const torch::Tensor& t) override { return t.is_cpu() ? t.detach() : t.cpu(); }
  torch::Tensor ToDevice(const torch::Tensor& host) override { return host.clone(); }
  torch::Tensor AllocateSlot(int64_t bytes) override { return torch::empty({bytes}, torch::kUInt8); }
  void BeginCopy(int) override {}
  void Copy(const torch::Tensor& dst, const torch::Tensor& src) override { dst.copy_(src); }
  void EndCopy(int) override {}
  void BeginUse(int) override {}
  void EndUse(int) override {}
};

}  // namespace

std::unique_ptr<CopyEngine> MakeCpuCopyEngine() { return std::make_unique<CpuCopyEngine>(); }

absl::StatusOr<std::unique_ptr<CopyEngine>> MakeCopyEngine(torch::Device device) {
  if (device.is_cpu()) return MakeCpuCopyEngine();
  if (device.is_cuda()) return MakeCudaCopyEngine(device.has_index() ? device.index() : 0);
  return absl::InvalidArgumentError("devices: offload runs on cpu or cuda:N only");
}

}  // namespace videogen::pipeline
