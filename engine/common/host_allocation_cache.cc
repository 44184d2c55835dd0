#include "engine/common/host_allocation_cache.h"

#include <sys/mman.h>

#include <algorithm>
#include <list>
#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

#include <c10/core/CPUAllocator.h>

#include "absl/strings/str_cat.h"
#include "engine/common/host_allocation_cache_adapter.h"
#include "engine/common/host_memory.h"

namespace videogen {
namespace {

constexpr size_t kPage = 4096;
constexpr size_t kHugePageMin = size_t{4} << 20;

size_t RoundToPages(size_t n) { return (n + kPage - 1) / kPage * kPage; }

// The cache proper: page-rounded anonymous mappings, free lists by exact size.
class HostBlockCache {
 public:
  void SetOptions(const HostAllocationCacheOptions& options) {
    std::vector<std::pair<void*, size_t>> drop;
    {
      std::lock_guard<std::mutex> lock(mu_);
      options_ = options;
      if (options_.max_cached_bytes == 0) options_.max_cached_bytes = HostMemoryLimitBytes() / 8;
      TakeAllLocked(drop);
    }
    Unmap(drop);
  }

  size_t min_bytes() {
    std::lock_guard<std::mutex> lock(mu_);
    return options_.min_bytes;
  }

  // A block of at least n bytes (n >= min_bytes), or nullptr when mmap fails.
  void* Allocate(size_t n) {
    const size_t bytes = RoundToPages(n);
    std::vector<std::pair<void*, size_t>> drop;
    bool huge = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = by_size_.find(bytes);
      if (it != by_size_.end() && !it->second.empty()) {
        const auto block = it->second.back();  // the most recently freed of this size
        it->second.pop_back();
        void* p = block->first;
        by_age_.erase(block);
        cached_bytes_ -= bytes;
        live_[p] = bytes;
        ++stats_.hits;
        return p;
      }
      // A miss: give back at least `bytes` of cached blocks (least recently
      // freed first) before mapping, so that mapped bytes never exceed the
      // largest live total reached so far.
      ++stats_.misses;
      size_t evicted = 0;
      while (evicted < bytes && !by_age_.empty()) {
        const auto block = by_age_.begin();
        auto& same = by_size_[block->second];
        same.erase(std::find(same.begin(), same.end(), block));
        evicted += block->second;
        drop.push_back(*block);
        by_age_.erase(block);
      }
      cached_bytes_ -= evicted;
      mapped_bytes_ -= evicted;
      huge = options_.huge_pages && bytes >= kHugePageMin;
    }
    Unmap(drop);
    void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return nullptr;
    if (huge) madvise(p, bytes, MADV_HUGEPAGE);
    std::lock_guard<std::mutex> lock(mu_);
    live_[p] = bytes;
    mapped_bytes_ += bytes;
    return p;
  }

  // Takes back a block of ours (true) or says it is not ours (false).
  bool Free(void* p) {
    size_t bytes = 0;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = live_.find(p);
      if (it == live_.end()) return false;
      bytes = it->second;
      live_.erase(it);
      if (cached_bytes_ + bytes <= options_.max_cached_bytes) {
        by_size_[bytes].push_back(by_age_.insert(by_age_.end(), {p, bytes}));
        cached_bytes_ += bytes;
        return true;
      }
      mapped_bytes_ -= bytes;
    }
    munmap(p, bytes);
    return true;
  }

  void ReleaseAll() {
    std::vector<std::pair<void*, size_t>> drop;
    {
      std::lock_guard<std::mutex> lock(mu_);
      TakeAllLocked(drop);
    }
    Unmap(drop);
  }

  HostAllocationCacheStats Stats() {
    std::lock_guard<std::mutex> lock(mu_);
    HostAllocationCacheStats s = stats_;
    s.cached_bytes = cached_bytes_;
    s.mapped_bytes = mapped_bytes_;
    return s;
  }

 private:
  // Moves every cached block to `drop` (unmapped by the caller, outside mu_).
  void TakeAllLocked(std::vector<std::pair<void*, size_t>>& drop) {
    drop.insert(drop.end(), by_age_.begin(), by_age_.end());
    mapped_bytes_ -= cached_bytes_;
    by_age_.clear();
    by_size_.clear();
    cached_bytes_ = 0;
  }

  static void Unmap(const std::vector<std::pair<void*, size_t>>& blocks) {
    for (const auto& [p, bytes] : blocks) munmap(p, bytes);
  }

  std::mutex mu_;
  HostAllocationCacheOptions options_;                      // guarded by mu_
  using Cached = std::list<std::pair<void*, size_t>>;        // (block, bytes), least recently freed first
  Cached by_age_;                                              // guarded by mu_
  std::unordered_map<size_t, std::vector<Cached::iterator>> by_size_;  // guarded by mu_
  std::unordered_map<void*, size_t> live_;                  // guarded by mu_
  size_t cached_bytes_ = 0;                                 // guarded by mu_
  size_t mapped_bytes_ = 0;                                 // guarded by mu_
  HostAllocationCacheStats stats_;                          // guarded by mu_
};

// Never destroyed: tensors may be freed during static destruction.
HostBlockCache& Cache() {
  static HostBlockCache* cache = new HostBlockCache();
  return *cache;
}

std::once_flag g_install_once;
bool g_installed = false;

}  // namespace

namespace internal {

c10::DataPtr HostCacheAllocate(size_t n) {
  c10::Allocator* fallback = c10::GetDefaultCPUAllocator();
  if (n < Cache().min_bytes()) return fallback->allocate(n);
  void* p = Cache().Allocate(n);
  if (p == nullptr) return fallback->allocate(n);  // throws LibTorch's out-of-memory error when that fails too
  return {p, p, &HostCacheDelete, c10::Device(c10::DeviceType::CPU)};
}

void HostCacheDelete(void* p) {
  if (p == nullptr || Cache().Free(p)) return;
  c10::GetDefaultCPUAllocator()->raw_deleter()(p);
}

}  // namespace internal

absl::Status InstallHostAllocationCache(const HostAllocationCacheOptions& options) {
  if (options.min_bytes == 0) return absl::InvalidArgumentError("min_bytes: must be > 0");
  Cache().SetOptions(options);
  std::call_once(g_install_once, [] {
    c10::Allocator* allocator = internal::HostCacheAllocator();
    if (allocator == nullptr) return;  // not available with this LibTorch
    c10::SetCPUAllocator(allocator, /*priority=*/1);
    g_installed = true;
  });
  return absl::OkStatus();
}

bool HostAllocationCacheInstalled() { return g_installed; }

void ReleaseHostAllocationCache() { Cache().ReleaseAll(); }

HostAllocationCacheStats GetHostAllocationCacheStats() { return Cache().Stats(); }

}  // namespace videogen
