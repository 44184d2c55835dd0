// Host memory figures of this process and machine, from /proc and the cgroup.
#pragma once

#include <cstdint>

namespace videogen {

// Resident set size of this process now (VmRSS) and its peak (VmHWM), bytes; 0 if unknown.
uint64_t ProcessRssBytes();
uint64_t ProcessPeakRssBytes();

// Memory this process may use: MemTotal of /proc/meminfo, limited by the
// cgroup v2 memory.max (or v1 memory.limit_in_bytes) when one is set.
uint64_t HostMemoryLimitBytes();

// MemAvailable of /proc/meminfo, bytes; 0 if unknown.
uint64_t HostMemoryAvailableBytes();

}  // namespace videogen
