// Winograd F(2x2, 3x3) convolution for the VAE's float32 (kt, 3, 3)
// convolutions on the CPU (stride 1, spatial zero padding 1; the temporal
// padding of a causal conv is already in its input).
//
// Each 2x2 output tile costs 16 * kt products per channel pair instead of the
// direct convolution's 36 * kt (2.25x fewer): per block of tiles, the input
// tiles are transformed (adds only), then for each of the 16 transformed
// positions and each output frame one GEMM [C_out x kt*C_in] x [kt*C_in x
// tiles] (oneDNN's sgemm, FloatGemm) contracts channels and temporal taps
// together, and the output transform (adds only) gives the 2x2 tiles plus the
// bias. The float32 direct convolution runs at the GEMM rate on these
// machines, so fewer products are what makes it faster.
//
// The result is the direct convolution's up to float32 rounding: the
// transforms reorder the sums. winograd_conv_test.cc holds it within 2e-6 of
// the float64 convolution (max error over max |output|); the golden VAE and
// pipeline fixtures stay inside their float32 tolerance (vae_decode rel_l2
// 1.70e-06 -> 1.59e-06).
#pragma once

#include <cstdint>

#include <torch/types.h>

namespace videogen::models::vae {

// True when WinogradConv computes at::conv3d(input, weight, bias, stride,
// padding) for these arguments: input [B, C_in, T_in, H, W] and weight
// [C_out, C_in, kt, 3, 3] both float32 on the CPU, C_in >= 1, 1 <= kt <= T_in, stride
// (1, 1, 1), padding (0, 1, 1), no autograd (grad mode off, or neither
// tensor requires grad); oneDNN's sgemm is in the process
// (FloatGemmAvailable()); and VIDEOGEN_WINOGRAD is not "0" in the
// environment at the first call (the off switch, for comparison).
bool WinogradApplies(const torch::Tensor& input, const torch::Tensor& weight, at::IntArrayRef stride,
                     at::IntArrayRef padding);

// weight [C_out, C_in, kt, 3, 3] (CPU) -> the transformed weights WinogradConv
// takes, [16, C_out, kt * C_in] float32 (G g G^T per tap, computed in float64).
// Callers transform per call and keep nothing: a cache (16/9 of each kernel,
// per conv) added 0.7 GB to Wan2.1's decoder and 3.6 GB to Wan2.2's (peak-RSS
// growth of a 256x256 decode, measured), memory the planner does not count;
// per call the transform is 4.7% of a 416x240 decode's time (bench_vae
// --profile), less at larger frames (the convolutions grow, it does not).
torch::Tensor WinogradWeights(const torch::Tensor& weight);

struct WinogradOptions {
  // The first `zero_frames` input frames are known to be zero (a causal
  // conv's left padding before its first chunk): their taps are skipped, and
  // those frames are not read.
  int64_t zero_frames = 0;
  // 2x2 tiles one task transforms and multiplies at once (> 0), or 0: about
  // 147,456 / (kt * C_in), 64 to 512, so that one GEMM's right-hand side
  // (kt * C_in x tiles floats) takes half of a 1 MiB L2 (measured on Zen 5:
  // 512 tiles best at C_in 96, 192-384 at 192, 128-192 at 384), fewer when
  // that would leave a thread without a task.
  int64_t tiles_per_task = 0;
};

// input [B, C_in, T_in, H, W] float32 (made contiguous), `transformed` =
// WinogradWeights(weight) with weight's kt, bias [C_out] or undefined ->
// [B, C_out, T_in - kt + 1, H, W]: conv3d with stride 1 and padding (0, 1, 1).
// Tasks of up to 4 output frames x a block of tiles run on LibTorch's
// threads; each thread holds 16 x (frames + kt - 1) x C_in x tiles floats of
// transformed input and 16 x frames x C_out x tiles of products (about 20-35
// MB at the Wan VAEs' 96-384 channels with the default tiles).
torch::Tensor WinogradConv(const torch::Tensor& input, const torch::Tensor& transformed, int64_t kt,
                           const torch::Tensor& bias, const WinogradOptions& options = {});

}  // namespace videogen::models::vae
