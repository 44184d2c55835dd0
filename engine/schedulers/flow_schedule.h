// Schedule arithmetic shared by the official Wan samplers (UniPC, DPM++),
// reproducing the reference's numpy float64 / float32 steps bit for bit.
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <vector>

#include <torch/types.h>

namespace videogen::schedulers {

// The first `count` values of numpy.linspace(start, stop, num) in float64:
// start + i * ((stop - start) / (num - 1)). Preconditions: num >= 2, count < num.
std::vector<double> NumpyLinspaceHead(double start, double stop, int64_t num, int64_t count);

// sigmas[i] = shift * s / (1 + (shift - 1) * s), in float64.
void ShiftSigmas(double shift, std::vector<double>& sigmas);

// The official constructors' sigma_max: the training sigmas 1 - linspace(1, 1/N, N)
// reversed, stored as float32 and shifted with the constructor `shift` in float32;
// returns sigmas[0] (as Python's .item()). sigma_min is always 0.
double TrainingSigmaMax(int num_train_timesteps, double shift);

// timesteps = int64(sigma * N) (truncation) [S]; sigmas = float32(concat(sigmas, [0])) [S + 1].
void DiscretizeSchedule(const std::vector<double>& sigmas, int num_train_timesteps,
                        torch::Tensor* timesteps, torch::Tensor* sigmas_out);

}  // namespace videogen::schedulers
