#include "engine/common/huge_page_allocator.h"

#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <fstream>
#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

#include <c10/core/CPUAllocator.h>

#include "absl/strings/str_cat.h"
#include "engine/common/huge_page_allocator_adapter.h"

namespace videogen {
namespace {

constexpr size_t kHugePage = size_t{2} << 20;

struct Block {
  void* p;
  size_t length;
};

// Live mapped blocks, the cache of freed ones and the allocator small requests
// go to. Never destroyed: tensors freed during static destruction still reach
// HugePageDelete.
struct State {
  std::mutex mu;
  std::unordered_map<void*, size_t> live;  // block -> mapped length
  std::vector<Block> cached;               // freed blocks, oldest first
  uint64_t blocks = 0;
  uint64_t mapped_bytes = 0;
  uint64_t peak_mapped_bytes = 0;
  uint64_t high_water = 0;  // most bytes of live blocks at once since start-up
  uint64_t cached_bytes = 0;
  uint64_t reused = 0;
  std::atomic<size_t> min_bytes{HugePageAllocatorOptions{}.min_bytes};
  std::atomic<size_t> cache_bytes{HugePageAllocatorOptions{}.cache_bytes};
  std::atomic<c10::Allocator*> fallback{nullptr};
  std::once_flag install;
  std::atomic<bool> installed{false};
};

State& Global() {
  static State* state = new State();
  return *state;
}

size_t RoundToHugePages(size_t n) { return (n + kHugePage - 1) / kHugePage * kHugePage; }

// Maps `rounded` bytes (a multiple of 2 MiB) at a 2 MiB boundary and asks for
// huge pages. Null when mmap fails.
void* MapHuge(size_t rounded) {
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
  return reinterpret_cast<void*>(aligned);
}

// Moves the oldest cached blocks to *out (for unmapping outside the lock)
// until at most `keep` cached bytes remain. Requires s.mu.
void EvictLocked(State& s, size_t keep, std::vector<Block>* out) {
  size_t count = 0;
  while (count < s.cached.size() && s.cached_bytes > keep) s.cached_bytes -= s.cached[count++].length;
  out->insert(out->end(), s.cached.begin(), s.cached.begin() + count);
  s.cached.erase(s.cached.begin(), s.cached.begin() + count);
}

void Unmap(const std::vector<Block>& blocks) {
  for (const Block& b : blocks) munmap(b.p, b.length);
}

// A cached block of exactly `length` bytes (the most recently freed), or null
// after evicting into *evicted the oldest others until the live blocks, this
// request and what stays cached fit in the high-water mark of live blocks
// (or the new one it makes): so mapped + cached bytes never exceed that
// mark, and a request that raises it keeps nothing cached. Requires s.mu.
void* TakeCachedLocked(State& s, size_t length, std::vector<Block>* evicted) {
  for (size_t i = s.cached.size(); i-- > 0;) {
    if (s.cached[i].length != length) continue;
    void* p = s.cached[i].p;
    s.cached.erase(s.cached.begin() + static_cast<std::ptrdiff_t>(i));
    s.cached_bytes -= length;
    ++s.reused;
    return p;
  }
  const uint64_t live_after = s.mapped_bytes + length;
  EvictLocked(s, s.high_water > live_after ? s.high_water - live_after : 0, evicted);
  return nullptr;
}

}  // namespace

namespace internal {

c10::DataPtr HugePageAllocate(size_t n) {
  State& s = Global();
  if (n >= s.min_bytes.load(std::memory_order_relaxed)) {
    const size_t length = RoundToHugePages(n);
    std::vector<Block> evicted;
    void* p = nullptr;
    {
      // Counted as mapped at once, so concurrent requests see each other's bytes.
      std::lock_guard<std::mutex> lock(s.mu);
      p = TakeCachedLocked(s, length, &evicted);
      s.mapped_bytes += length;
      s.peak_mapped_bytes = std::max(s.peak_mapped_bytes, s.mapped_bytes);
      s.high_water = std::max(s.high_water, s.mapped_bytes);
    }
    Unmap(evicted);  // before mapping: the new block's pages replace these
    const bool fresh = p == nullptr;
    if (fresh) p = MapHuge(length);
    std::lock_guard<std::mutex> lock(s.mu);
    if (p != nullptr) {
      s.live.emplace(p, length);
      if (fresh) ++s.blocks;
      return {p, p, &HugePageDelete, c10::Device(c10::DeviceType::CPU)};
    }
    s.mapped_bytes -= length;  // mmap refused
  }
  // Small requests, and large ones mmap refused: the previous allocator (which
  // raises LibTorch's out-of-memory error when it fails too).
  return s.fallback.load()->allocate(n);
}

void HugePageDelete(void* p) {
  State& s = Global();
  bool mapped = false;
  std::vector<Block> evicted;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    const auto it = s.live.find(p);
    if (it != s.live.end()) {
      mapped = true;
      const size_t length = it->second;
      s.mapped_bytes -= length;
      s.live.erase(it);
      const size_t cap = s.cache_bytes.load(std::memory_order_relaxed);
      if (length <= cap) {
        s.cached.push_back({p, length});
        s.cached_bytes += length;
        if (s.cached_bytes > cap) EvictLocked(s, cap, &evicted);
      } else {
        evicted.push_back({p, length});
      }
    }
  }
  if (mapped) {
    Unmap(evicted);
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
  s.cache_bytes.store(options.cache_bytes);
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
  return {s.blocks, s.mapped_bytes, s.cached_bytes, s.reused, s.peak_mapped_bytes, s.high_water};
}

void ResetHugePagePeak() {
  State& s = Global();
  std::lock_guard<std::mutex> lock(s.mu);
  s.peak_mapped_bytes = s.mapped_bytes;
}

void ReleaseHugePageCache() {
  State& s = Global();
  std::vector<Block> evicted;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    evicted.swap(s.cached);
    s.cached_bytes = 0;
  }
  Unmap(evicted);
}

}  // namespace videogen
