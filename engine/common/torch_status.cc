#include "engine/common/torch_status.h"

#include <new>
#include <string>

#include <c10/util/Exception.h>

#include "absl/strings/str_cat.h"
#include "engine/common/cancel_point.h"

namespace videogen {

absl::Status StatusFromCurrentException(absl::string_view what) {
  try {
    throw;
  } catch (const c10::OutOfMemoryError& e) {
    return absl::ResourceExhaustedError(absl::StrCat(what, ": out of memory: ", e.what_without_backtrace()));
  } catch (const std::bad_alloc& e) {
    return absl::ResourceExhaustedError(absl::StrCat(what, ": out of host memory"));
  } catch (const c10::Error& e) {
    std::string msg = e.what_without_backtrace();
    // CUDA's caching allocator reports OOM through plain c10::Error on some versions.
    if (msg.find("out of memory") != std::string::npos) {
      return absl::ResourceExhaustedError(absl::StrCat(what, ": ", msg));
    }
    return absl::InternalError(absl::StrCat(what, ": ", msg));
  } catch (const CancelledException& e) {
    return absl::Status(e.status().code(), absl::StrCat(what, ": ", e.status().message()));
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat(what, ": ", e.what()));
  } catch (...) {
    return absl::InternalError(absl::StrCat(what, ": unknown exception"));
  }
}

}  // namespace videogen
