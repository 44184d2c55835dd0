// Counting the FLOPs a piece of LibTorch code runs, for GFLOP/s figures.
#pragma once

#include <cstdint>
#include <functional>

namespace videogen::bench {

// FLOPs of every convolution that `fn` runs on this thread (aten::convolution,
// and aten::mkldnn_convolution called directly, as the VAE's causal convs
// do): 2 * output elements * (input channels / groups) * kernel volume
// (multiply and add; bias not counted; transposed: 2 * input elements *
// (output channels / groups) * kernel volume). videogen::WinogradConv counts
// as the direct convolution it computes. Runs `fn` once.
double CountConvFlops(const std::function<void()>& fn);

// Wall seconds of one call of `fn`.
double Seconds(const std::function<void()>& fn);

// The median wall seconds of `repeats` calls of `fn` (0 when repeats <= 0).
double MedianSeconds(const std::function<void()>& fn, int repeats);

// Resets this process's peak RSS (VmHWM) to its current RSS; false when the
// kernel refuses (/proc/self/clear_refs).
bool ResetPeakRss();

}  // namespace videogen::bench
