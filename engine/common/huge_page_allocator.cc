#include "engine/common/huge_page_allocator.h"

#include <sys/mman.h>

#include <atomic>
#include <cstdint>
#include <fstream>
#include <mutex>
#include <unordered_map>

#include <c10/core/CPUAllocator.h>

#include "absl/strings/str_cat.h"
#include "engine/common/huge_page_allocator_adapter.h"

namespace videogen {
namespace {

constexpr size_t kHugePage = size_t{2} << 20;

// Live mapped blocks and the allocator small requests go to. Never destroyed:
// tensors freed during static destruction still reach HugePageDelete.
struct State {
  std::mutex mu;
  std::unordered_map<void*, size_t> live;  // block -> mapped length
  uint64_t blocks = 0;
  uint64_t mapped_bytes = 0;
  std::atomic<size_t> min_bytes{HugePageAllocatorOptions{}.min_bytes};
  std::atomic<c10::Allocator*> fallback{nullptr};
  std::once_flag install;
  std::atomic<bool> installed{false};
};

State& Global() {
  static State* state = new State();
  return *state;
}

// Maps `n` bytes rounded up to 2 MiB at a 2 MiB boundary and asks for huge
// pages; *length receives the mapped length. Null when mmap fails.
void* MapHuge(size_t n, size_t* length) {
  const size_t rounded = (n + kHugePage - 1) / kHugePage * kHugePage;
  const size_t span = rounded + kHugePage;
  void* raw = mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) return nullptr;
  const uintptr_t start = reinterpret_cast<uintptr_t>(raw);
  const uintptr_t aligned = (start + kHugePage - 1) & ~(kHugePage - 1);
  if (aligned > start) munmap(raw, aligned - start);
  const uintptr_t used_end = aligned + rounded, end = start + span;
  if (end > used_end) munmap(reinterpret_cast<void*>(used_end), end - used_end);
  // Best effort: EINVAL where the kernel has no THP; the block is then ordinary pages.
  madvise(reinterpret_cast<void*>(aligned), rounded, MADV_HUGEPAGE);
  *length = rounded;
  return reinterpret_cast<void*>(aligned);
}

}  // namespace

namespace internal {

c10::DataPtr HugePageAllocate(size_t n) {
  State& s = Global();
  if (n >= s.min_bytes.load(std::memory_order_relaxed)) {
    size_t length = 0;
    if (void* p = MapHuge(n, &length)) {
      std::lock_guard<std::mutex> lock(s.mu);
      s.live.emplace(p, length);
      ++s.blocks;
      s.mapped_bytes += length;
      return {p, p, &HugePageDelete, c10::Device(c10::DeviceType::CPU)};
    }
  }
  // Small requests, and large ones mmap refused: the previous allocator (which
  // raises LibTorch's out-of-memory error when it fails too).
  return s.fallback.load()->allocate(n);
}

void HugePageDelete(void* p) {
  State& s = Global();
  size_t length = 0;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    const auto it = s.live.find(p);
    if (it != s.live.end()) {
      length = it->second;
      s.mapped_bytes -= length;
      s.live.erase(it);
    }
  }
  if (length > 0) {
    munmap(p, length);
  } else {
    s.fallback.load()->raw_deleter()(p);  // raw_allocate() of a small block
  }
}

}  // namespace internal

absl::Status InstallHugePageAllocator(const HugePageAllocatorOptions& options) {
  if (options.min_bytes < kHugePage) {
    return absl::InvalidArgumentError(
        absl::StrCat("min_bytes: at least ", kHugePage, " (2 MiB), got ", options.min_bytes));
  }
  State& s = Global();
  s.min_bytes.store(options.min_bytes);
  absl::Status status;
  std::call_once(s.install, [&] {
    c10::Allocator* ours = internal::HugePageTorchAllocator();
    s.fallback.store(c10::GetCPUAllocator());
    c10::SetCPUAllocator(ours, /*priority=*/0);
    if (c10::GetCPUAllocator() != ours) {
      status = absl::InternalError("LibTorch kept another CPU allocator of higher priority");
      return;
    }
    s.installed.store(true);
  });
  if (!status.ok()) return status;
  if (!s.installed.load()) return absl::InternalError("the huge page allocator could not be installed");
  return absl::OkStatus();
}

bool HugePageAllocatorInstalled() { return Global().installed.load(); }

std::string TransparentHugePageMode() {
  std::ifstream in("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string line;
  if (!std::getline(in, line)) return "";
  const size_t open = line.find('['), close = line.find(']');
  if (open == std::string::npos || close == std::string::npos || close < open) return "";
  return line.substr(open + 1, close - open - 1);
}

HugePageAllocatorStats GetHugePageAllocatorStats() {
  State& s = Global();
  std::lock_guard<std::mutex> lock(s.mu);
  return {s.blocks, s.mapped_bytes};
}

}  // namespace videogen
