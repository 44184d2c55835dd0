#include "engine/common/heap_reuse.h"

#include <climits>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "absl/strings/str_cat.h"

namespace videogen {

absl::Status ConfigureHeapReuse(const HeapReuseOptions& options) {
  for (const auto& [name, value] : {std::pair{"mmap_threshold_bytes", options.mmap_threshold_bytes},
                                    std::pair{"trim_threshold_bytes", options.trim_threshold_bytes}}) {
    if (value > static_cast<size_t>(INT_MAX)) {
      return absl::InvalidArgumentError(absl::StrCat(name, ": at most ", INT_MAX, ", got ", value));
    }
  }
#if defined(__GLIBC__)
  // mallopt returns 1 on success, 0 on an error.
  if (mallopt(M_ARENA_MAX, 1) != 1) return absl::InternalError("mallopt(M_ARENA_MAX, 1) refused");
  if (mallopt(M_MMAP_THRESHOLD, static_cast<int>(options.mmap_threshold_bytes)) != 1) {
    return absl::InternalError(absl::StrCat("mallopt(M_MMAP_THRESHOLD, ", options.mmap_threshold_bytes, ") refused"));
  }
  if (mallopt(M_TRIM_THRESHOLD, static_cast<int>(options.trim_threshold_bytes)) != 1) {
    return absl::InternalError(absl::StrCat("mallopt(M_TRIM_THRESHOLD, ", options.trim_threshold_bytes, ") refused"));
  }
  return absl::OkStatus();
#else
  return absl::UnimplementedError("heap reuse: the C library is not glibc");
#endif
}

}  // namespace videogen
