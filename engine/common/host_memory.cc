#include "engine/common/host_memory.h"

#include <algorithm>
#include <fstream>
#include <string>

namespace videogen {
namespace {

// The value of `key` (e.g. "VmRSS:") in a /proc file with "key value kB" lines, in bytes.
uint64_t ProcKbField(const char* path, const std::string& key) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.compare(0, key.size(), key) == 0) {
      try {
        return std::stoull(line.substr(key.size())) * 1024;
      } catch (const std::exception&) {
        return 0;
      }
    }
  }
  return 0;
}

// A cgroup limit file holding a byte count or "max"; 0 when absent or unlimited.
uint64_t CgroupLimit(const char* path) {
  std::ifstream in(path);
  std::string value;
  if (!(in >> value) || value == "max") return 0;
  try {
    const uint64_t v = std::stoull(value);
    return v >= (uint64_t{1} << 60) ? 0 : v;  // v1 reports "unlimited" as a huge number
  } catch (const std::exception&) {
    return 0;
  }
}

}  // namespace

uint64_t ProcessRssBytes() { return ProcKbField("/proc/self/status", "VmRSS:"); }
uint64_t ProcessPeakRssBytes() { return ProcKbField("/proc/self/status", "VmHWM:"); }
uint64_t HostMemoryAvailableBytes() { return ProcKbField("/proc/meminfo", "MemAvailable:"); }

uint64_t HostMemoryLimitBytes() {
  uint64_t total = ProcKbField("/proc/meminfo", "MemTotal:");
  for (const char* path : {"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"}) {
    const uint64_t limit = CgroupLimit(path);
    if (limit != 0) total = total == 0 ? limit : std::min(total, limit);
  }
  return total;
}

}  // namespace videogen
