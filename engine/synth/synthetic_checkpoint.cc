#include "engine/synth/synthetic_checkpoint.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "engine/common/status_macros.h"

namespace videogen::synth {
namespace {

using json = nlohmann::json;

uint64_t Bytes(const SyntheticTensor& t) {
  uint64_t n = static_cast<uint64_t>(io::DTypeSize(t.dtype));
  for (int64_t d : t.shape) n *= static_cast<uint64_t>(d);
  return n;
}

absl::Status Errno(const std::string& what, const std::string& path) {
  return absl::InternalError(absl::StrCat(path, ": ", what, ": ", std::strerror(errno)));
}

// Fills `n` bytes of dtype `dtype` with pseudo-random values (xorshift).
void FillRandom(io::DType dtype, uint64_t& state, char* out, size_t n) {
  auto next = [&state] {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  if (dtype == io::DType::kF32) {
    float* f = reinterpret_cast<float*>(out);
    for (size_t i = 0; i < n / 4; ++i) f[i] = (static_cast<float>(next() >> 40) / 16777216.0f - 0.5f) * 0.1f;
  } else if (dtype == io::DType::kBF16) {
    uint16_t* h = reinterpret_cast<uint16_t*>(out);
    for (size_t i = 0; i < n / 2; ++i) {
      const float v = (static_cast<float>(next() >> 40) / 16777216.0f - 0.5f) * 0.1f;
      uint32_t u;
      std::memcpy(&u, &v, 4);
      h[i] = static_cast<uint16_t>(u >> 16);
    }
  } else {
    std::memset(out, 0, n);
  }
}

absl::Status WriteShard(const std::string& path, const std::vector<const SyntheticTensor*>& tensors,
                        const SyntheticCheckpointOptions& options, uint64_t& rng) {
  json header = json::object();
  uint64_t offset = 0;
  for (const SyntheticTensor* t : tensors) {
    const uint64_t n = Bytes(*t);
    header[t->name] = {{"dtype", io::DTypeName(t->dtype)}, {"shape", t->shape}, {"data_offsets", {offset, offset + n}}};
    offset += n;
  }
  header["__metadata__"] = {{"format", "pt"}};
  std::string text = header.dump();
  while ((8 + text.size()) % 8 != 0) text.push_back(' ');
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("open", path);
  auto write_all = [&](const char* p, size_t n) -> bool {
    while (n > 0) {
      const ssize_t w = ::write(fd, p, n);
      if (w <= 0) return false;
      p += w;
      n -= static_cast<size_t>(w);
    }
    return true;
  };
  const uint64_t hn = text.size();
  bool ok = write_all(reinterpret_cast<const char*>(&hn), 8) && write_all(text.data(), text.size());
  const uint64_t data_start = 8 + hn;
  if (ok && options.data == SyntheticData::kRandom) {
    std::vector<char> buf(8 << 20);
    for (const SyntheticTensor* t : tensors) {
      for (uint64_t left = Bytes(*t); ok && left > 0;) {
        const size_t n = static_cast<size_t>(std::min<uint64_t>(left, buf.size()));
        FillRandom(t->dtype, rng, buf.data(), n);
        ok = write_all(buf.data(), n);
        left -= n;
      }
    }
  }
  if (ok && options.data == SyntheticData::kHoles) ok = ::ftruncate(fd, static_cast<off_t>(data_start + offset)) == 0;
  if (!ok) {
    const absl::Status s = Errno("write", path);
    ::close(fd);
    return s;
  }
  if (::close(fd) != 0) return Errno("close", path);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> WriteSyntheticCheckpoint(const std::vector<SyntheticTensor>& tensors,
                                                     const SyntheticCheckpointOptions& options) {
  if (tensors.empty()) return absl::InvalidArgumentError("tensors: at least one tensor is required");
  if (options.dir.empty()) return absl::InvalidArgumentError("dir: must be set");
  std::set<std::string> names;
  for (const SyntheticTensor& t : tensors) {
    if (!names.insert(t.name).second) return absl::InvalidArgumentError(absl::StrCat("tensors: duplicate '", t.name, "'"));
  }
  std::error_code ec;
  std::filesystem::create_directories(options.dir, ec);
  if (ec) return absl::InternalError(absl::StrCat(options.dir, ": ", ec.message()));

  std::vector<std::vector<const SyntheticTensor*>> shards(1);
  uint64_t in_shard = 0, total = 0;
  for (const SyntheticTensor& t : tensors) {
    const uint64_t n = Bytes(t);
    if (!shards.back().empty() && in_shard + n > options.max_shard_bytes) {
      shards.emplace_back();
      in_shard = 0;
    }
    shards.back().push_back(&t);
    in_shard += n;
    total += n;
  }
  uint64_t rng = options.seed * 0x9E3779B97F4A7C15ull + 1;
  const std::filesystem::path dir(options.dir);
  if (shards.size() == 1) {
    const std::string path = (dir / (options.stem + ".safetensors")).string();
    RETURN_IF_ERROR(WriteShard(path, shards[0], options, rng));
    return path;
  }
  json weight_map = json::object();
  for (size_t i = 0; i < shards.size(); ++i) {
    const std::string file = absl::StrFormat("%s-%05d-of-%05d.safetensors", options.stem, i + 1, shards.size());
    RETURN_IF_ERROR(WriteShard((dir / file).string(), shards[i], options, rng));
    for (const SyntheticTensor* t : shards[i]) weight_map[t->name] = file;
  }
  const std::string index = (dir / (options.stem + ".safetensors.index.json")).string();
  std::ofstream out(index, std::ios::trunc);
  out << json{{"metadata", {{"total_size", total}}}, {"weight_map", weight_map}}.dump(2);
  if (!out.flush()) return absl::InternalError(absl::StrCat(index, ": write failed"));
  return index;
}

}  // namespace videogen::synth
