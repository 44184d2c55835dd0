#include "bench/common/op_flops.h"

#include <ATen/record_function.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>
#include <memory>
#include <vector>

namespace videogen::bench {

namespace {

thread_local double g_flops = 0;
thread_local int g_convolution_depth = 0;  // aten::convolution calls open on this thread

bool Named(const at::RecordFunction& f, const char* name) { return std::strcmp(f.name(), name) == 0; }

// 2 * elements * weight.numel() / weight.size(0): for a convolution the
// output elements times the MACs of each ([out, in / groups, k...]); for a
// transposed one the input elements times the outputs each feeds
// ([in, out / groups, k...]).
double ConvFlops(const at::Tensor& weight, const at::Tensor& elements) {
  return 2.0 * static_cast<double>(elements.numel()) * static_cast<double>(weight.numel()) / weight.size(0);
}

// videogen::WinogradConv(input [B, C_in, T_in, H, W], transformed weights
// [16, C_out, kt * C_in]): the direct convolution's count, 2 * B * C_out *
// (T_in - kt + 1) * H * W * kt * C_in * 9, not the fewer products it runs.
double WinogradFlops(const at::RecordFunction& f) {
  const auto inputs = f.inputs();
  if (inputs.size() < 2 || !inputs[0].isTensor() || !inputs[1].isTensor()) return 0;
  const at::Tensor& x = inputs[0].toTensor();
  const at::Tensor& u = inputs[1].toTensor();
  if (x.dim() != 5 || u.dim() != 3 || x.size(1) == 0) return 0;
  const int64_t kt = u.size(2) / x.size(1);
  const double outputs = static_cast<double>(x.size(0)) * u.size(1) * (x.size(2) - kt + 1) * x.size(3) * x.size(4);
  return 2.0 * outputs * static_cast<double>(u.size(2)) * 9.0;
}

std::unique_ptr<at::ObserverContext> OnStart(const at::RecordFunction& f) {
  if (Named(f, "aten::convolution")) ++g_convolution_depth;
  if (Named(f, "videogen::WinogradConv")) g_flops += WinogradFlops(f);
  return nullptr;
}

void OnEnd(const at::RecordFunction& f, at::ObserverContext*) {
  const bool convolution = Named(f, "aten::convolution");
  if (convolution) --g_convolution_depth;
  // aten::mkldnn_convolution counts only when called directly (the VAE's
  // causal convs): inside aten::convolution it is the same work.
  const bool direct_mkldnn = Named(f, "aten::mkldnn_convolution") && g_convolution_depth == 0;
  if (!convolution && !direct_mkldnn) return;
  const auto inputs = f.inputs();
  const auto outputs = f.outputs();
  const size_t needed = convolution ? 9 : 7;
  if (inputs.size() < needed || outputs.empty() || !outputs[0].isTensor() || !inputs[1].isTensor()) return;
  const bool transposed = convolution && inputs[6].toBool();
  g_flops += ConvFlops(inputs[1].toTensor(), transposed ? inputs[0].toTensor() : outputs[0].toTensor());
}

}  // namespace

double CountConvFlops(const std::function<void()>& fn) {
  g_flops = 0;
  g_convolution_depth = 0;
  const at::CallbackHandle handle = at::addThreadLocalCallback(at::RecordFunctionCallback(&OnStart, &OnEnd)
                                                                   .needsInputs(true)
                                                                   .needsOutputs(true)
                                                                   .scopes({at::RecordScope::FUNCTION}));
  fn();
  at::removeCallback(handle);
  return g_flops;
}

double Seconds(const std::function<void()>& fn) {
  const auto t0 = std::chrono::steady_clock::now();
  fn();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

double MedianSeconds(const std::function<void()>& fn, int repeats) {
  std::vector<double> s;
  for (int i = 0; i < repeats; ++i) s.push_back(Seconds(fn));
  if (s.empty()) return 0;
  std::sort(s.begin(), s.end());
  return s[s.size() / 2];
}

bool ResetPeakRss() {
  std::ofstream f("/proc/self/clear_refs");
  f << "5";
  return static_cast<bool>(f.flush());
}

}  // namespace videogen::bench
