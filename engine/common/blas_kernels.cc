#include "engine/common/blas_kernels.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "engine/common/runtime.h"

namespace videogen {
namespace {

// First value of `field` in /proc/cpuinfo ("" when absent).
std::string CpuInfoField(const std::string& field) {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);) {
    if (line.compare(0, field.size(), field) != 0) continue;
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    const std::string name = line.substr(0, line.find_last_not_of(" \t", colon - 1) + 1);
    if (name != field) continue;
    const size_t start = line.find_first_not_of(' ', colon + 1);
    return start == std::string::npos ? "" : line.substr(start);
  }
  return "";
}

uint64_t Fnv1a64(const std::string& s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

std::string EnvOr(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::string(v) : fallback;
}

absl::Status MakeDirs(const std::string& dir) {
  for (size_t pos = 1; pos != std::string::npos;) {
    pos = dir.find('/', pos + 1);
    const std::string prefix = dir.substr(0, pos);
    if (mkdir(prefix.c_str(), 0755) != 0 && errno != EEXIST) {
      return absl::InternalError(absl::StrCat("mkdir ", prefix, ": ", std::strerror(errno)));
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::string VideogenCacheDir() {
  const std::string explicit_dir = EnvOr("VIDEOGEN_CACHE_DIR", "");
  if (!explicit_dir.empty()) return explicit_dir;
  const std::string xdg = EnvOr("XDG_CACHE_HOME", "");
  if (!xdg.empty()) return xdg + "/videogen";
  return EnvOr("HOME", "/tmp") + "/.cache/videogen";
}

std::string BlasMachineKey() {
  const std::string blas = LoadedBlasLibrary();
  struct stat st {};
  const bool have = !blas.empty() && stat(blas.c_str(), &st) == 0;
  return absl::StrCat("cpu=", CpuInfoField("model name"), ";flags=", CpuInfoField("flags"), ";blas=", blas,
                      ";blas_size=", have ? static_cast<int64_t>(st.st_size) : 0,
                      ";blas_mtime=", have ? static_cast<int64_t>(st.st_mtime) : 0);
}

std::string BlasKernelCachePath(const std::string& key) {
  return absl::StrCat(VideogenCacheDir(), "/blas-arch-", absl::StrFormat("%016x", Fnv1a64(key)));
}

absl::StatusOr<BlasKernelChoice> ReadBlasKernelChoice(const std::string& path, const std::string& key) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": no cached BLAS kernel choice"));
  std::map<std::string, std::string> fields;
  for (std::string line; std::getline(in, line);) {
    const size_t eq = line.find('=');
    if (eq != std::string::npos) fields[line.substr(0, eq)] = line.substr(eq + 1);
  }
  if (fields["key"] != key) return absl::NotFoundError(absl::StrCat(path, ": written for another machine key"));
  BlasKernelChoice choice;
  choice.source = BlasKernelChoice::Source::kCache;
  choice.value = fields["BLIS_ARCH_TYPE"];
  choice.name = fields["name"];
  choice.gflops = std::atof(fields["gflops"].c_str());
  choice.threads = std::atoi(fields["threads"].c_str());
  if (choice.value.empty() || choice.value.find_first_not_of("0123456789") != std::string::npos) {
    return absl::DataLossError(absl::StrCat(path, ": BLIS_ARCH_TYPE must be an arch id, got '", choice.value, "'"));
  }
  return choice;
}

absl::Status WriteBlasKernelChoice(const std::string& path, const std::string& key, const BlasKernelChoice& choice) {
  const size_t slash = path.rfind('/');
  if (slash != std::string::npos && slash > 0) {
    if (absl::Status s = MakeDirs(path.substr(0, slash)); !s.ok()) return s;
  }
  const std::string tmp = absl::StrCat(path, ".tmp.", getpid());
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << "key=" << key << "\nBLIS_ARCH_TYPE=" << choice.value << "\nname=" << choice.name
        << "\ngflops=" << absl::StrFormat("%.1f", choice.gflops) << "\nthreads=" << choice.threads << "\n";
    if (!out.flush()) return absl::InternalError(absl::StrCat("write ", tmp, ": ", std::strerror(errno)));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    std::remove(tmp.c_str());
    return absl::InternalError(absl::StrCat("rename ", tmp, " to ", path, ": ", std::strerror(err)));
  }
  return absl::OkStatus();
}

BlasKernelChoice CurrentBlasKernelChoice() {
  const std::string key = BlasMachineKey();
  absl::StatusOr<BlasKernelChoice> cached = ReadBlasKernelChoice(BlasKernelCachePath(key), key);
  const char* env = std::getenv("BLIS_ARCH_TYPE");
  if (env == nullptr || *env == '\0') return {};
  BlasKernelChoice choice;
  choice.source = BlasKernelChoice::Source::kEnvironment;
  choice.value = env;
  if (cached.ok() && cached->value == choice.value) {
    choice.name = cached->name;
    choice.gflops = cached->gflops;
    choice.threads = cached->threads;
  }
  return choice;
}

BlasKernelChoice ApplyBlasKernelChoice() {
  const char* env = std::getenv("BLIS_ARCH_TYPE");
  if (env != nullptr && *env != '\0') return CurrentBlasKernelChoice();
  const std::string key = BlasMachineKey();
  absl::StatusOr<BlasKernelChoice> cached = ReadBlasKernelChoice(BlasKernelCachePath(key), key);
  if (!cached.ok()) return {};
  setenv("BLIS_ARCH_TYPE", cached->value.c_str(), 1);
  return *cached;
}

std::string DescribeBlasKernelChoice(const BlasKernelChoice& choice) {
  switch (choice.source) {
    case BlasKernelChoice::Source::kNone:
      return "default (no cached choice; run videogen-blas-check --select)";
    case BlasKernelChoice::Source::kEnvironment:
    case BlasKernelChoice::Source::kCache:
      break;
  }
  std::string out = absl::StrCat(choice.name.empty() ? "unknown" : choice.name, " (BLIS_ARCH_TYPE=", choice.value,
                                 choice.source == BlasKernelChoice::Source::kCache ? ", from cache" : ", from environment");
  if (choice.gflops > 0) {
    absl::StrAppend(&out, absl::StrFormat(", %.1f GFLOP/s at selection", choice.gflops));
    if (choice.threads > 0) absl::StrAppend(&out, " with ", choice.threads, " thread(s)");
  }
  return out + ")";
}

int ApplyBlasThreads(int threads) {
  static std::string written;  // the value this function last set
  const char* env = std::getenv("BLIS_NUM_THREADS");
  if (env != nullptr && *env != '\0' && written != env) return std::max(1, std::atoi(env));
  const int count = threads == 0 ? UsableCores() : std::max(1, threads);
  written = std::to_string(count);
  setenv("BLIS_NUM_THREADS", written.c_str(), 1);
  return count;
}

std::set<std::string> CpuFlags() {
  std::set<std::string> flags;
  std::istringstream in(CpuInfoField("flags"));
  for (std::string f; in >> f;) flags.insert(f);
  return flags;
}

bool CpuAllowsBlisKernelSet(const std::string& name, const std::set<std::string>& flags) {
  // Instruction sets each BLIS 0.9 x86 sub-configuration's kernels use
  // (as BLIS's own bli_cpuid.c checks them).
  static const std::map<std::string, std::vector<std::string>> kNeeds = {
      {"skx", {"avx", "fma", "avx512f", "avx512dq", "avx512bw", "avx512vl"}},
      {"knl", {"avx", "fma", "avx512f", "avx512pf", "avx512er", "avx512cd"}},
      {"knc", {"knc-only"}},
      {"haswell", {"avx", "fma", "avx2"}},
      {"zen3", {"avx", "fma", "avx2"}},
      {"zen2", {"avx", "fma", "avx2"}},
      {"zen", {"avx", "fma", "avx2"}},
      {"sandybridge", {"avx"}},
      {"penryn", {"ssse3"}},
      {"excavator", {"avx", "fma", "fma4", "avx2"}},
      {"steamroller", {"avx", "fma", "fma4"}},
      {"piledriver", {"avx", "fma", "fma4"}},
      {"bulldozer", {"avx", "fma4"}},
      {"generic", {}},
  };
  const auto it = kNeeds.find(name);
  if (it == kNeeds.end()) return true;
  for (const std::string& need : it->second) {
    if (flags.count(need) == 0) return false;
  }
  return true;
}

}  // namespace videogen
