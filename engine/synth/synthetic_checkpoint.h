// Synthetic checkpoints with real tensor names and shapes, for benchmarks and
// for planning tests: safetensors files in the official (optionally sharded)
// layout whose data is either pseudo-random or left as file holes (sparse
// files: real headers, no disk used for the data).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/io/tensor_source.h"

namespace videogen::synth {

struct SyntheticTensor {
  std::string name;
  io::DType dtype = io::DType::kF32;
  std::vector<int64_t> shape;
};

enum class SyntheticData {
  kRandom,  // uniform in [-0.05, 0.05] (float dtypes), deterministic per seed
  kHoles,   // never written: the files are sparse (ftruncate)
};

struct SyntheticCheckpointOptions {
  std::string dir;                                 // created if absent
  std::string stem = "diffusion_pytorch_model";    // official DiT file stem
  // Shards are cut before a tensor that would make a shard exceed this many
  // data bytes; one shard -> "<stem>.safetensors", several ->
  // "<stem>-0000i-of-0000n.safetensors" + "<stem>.safetensors.index.json".
  uint64_t max_shard_bytes = 10'000'000'000ull;
  SyntheticData data = SyntheticData::kRandom;
  uint64_t seed = 1;
};

// Writes `tensors` (names unique) and returns the path to open with
// io::OpenCheckpoint (the index when sharded). InvalidArgument for an empty
// list, duplicate names or an empty dir; Internal on I/O errors (naming the file).
absl::StatusOr<std::string> WriteSyntheticCheckpoint(const std::vector<SyntheticTensor>& tensors,
                                                     const SyntheticCheckpointOptions& options);

}  // namespace videogen::synth
