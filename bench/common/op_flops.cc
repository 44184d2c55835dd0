#include "bench/common/op_flops.h"

#include <ATen/record_function.h>

#include <chrono>
#include <cstring>
#include <fstream>

namespace videogen::bench {

double CountConvFlops(const std::function<void()>& fn) {
  static thread_local double flops = 0;
  flops = 0;
  auto end = [](const at::RecordFunction& f, at::ObserverContext*) {
    if (std::strcmp(f.name(), "aten::convolution") != 0) return;
    const auto inputs = f.inputs();
    const auto outputs = f.outputs();
    if (inputs.size() < 9 || outputs.empty() || !outputs[0].isTensor() || !inputs[1].isTensor()) return;
    const at::Tensor& weight = inputs[1].toTensor();
    const bool transposed = inputs[6].toBool();
    // weight: [out, in / groups, k...] (transposed: [in, out / groups, k...]).
    const double per_output = static_cast<double>(weight.numel()) / weight.size(transposed ? 1 : 0) *
                              (transposed ? 1.0 / inputs[8].toInt() : 1.0);
    flops += 2.0 * outputs[0].toTensor().numel() * per_output;
  };
  const at::CallbackHandle handle = at::addThreadLocalCallback(
      at::RecordFunctionCallback(nullptr, end).needsInputs(true).needsOutputs(true).scopes({at::RecordScope::FUNCTION}));
  fn();
  at::removeCallback(handle);
  return flops;
}

double Seconds(const std::function<void()>& fn) {
  const auto t0 = std::chrono::steady_clock::now();
  fn();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

bool ResetPeakRss() {
  std::ofstream f("/proc/self/clear_refs");
  f << "5";
  return static_cast<bool>(f.flush());
}

}  // namespace videogen::bench
