#include "engine/common/heap_reuse.h"

#include <climits>
#include <iterator>
#include <utility>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "absl/strings/str_cat.h"

namespace videogen {

absl::Status ConfigureHeapReuse(const HeapReuseOptions& options) {
  const std::pair<const char*, size_t> thresholds[] = {{"mmap_threshold_bytes", options.mmap_threshold_bytes},
                                                       {"trim_threshold_bytes", options.trim_threshold_bytes}};
  for (const auto& [name, value] : thresholds) {
    if (value > static_cast<size_t>(INT_MAX)) {
      return absl::InvalidArgumentError(absl::StrCat(name, ": at most ", INT_MAX, ", got ", value));
    }
  }
#if defined(__GLIBC__)
  // mallopt returns 1 on success, 0 on an error; its parameters in the order of `thresholds`.
  if (mallopt(M_ARENA_MAX, 1) != 1) return absl::InternalError("mallopt(M_ARENA_MAX, 1) refused");
  const int params[] = {M_MMAP_THRESHOLD, M_TRIM_THRESHOLD};
  for (size_t i = 0; i < std::size(params); ++i) {
    if (mallopt(params[i], static_cast<int>(thresholds[i].second)) != 1) {
      return absl::InternalError(absl::StrCat("mallopt for ", thresholds[i].first, " = ", thresholds[i].second, " refused"));
    }
  }
  return absl::OkStatus();
#else
  return absl::UnimplementedError("heap reuse: the C library is not glibc");
#endif
}

}  // namespace videogen
