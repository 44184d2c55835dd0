#include "engine/io/pth.h"

#include "absl/strings/str_cat.h"

namespace videogen::io {

// TODO(in progress): the native .pth reader lands next.
absl::StatusOr<std::unique_ptr<TensorSource>> OpenPth(const std::string& path) {
  return absl::UnimplementedError(absl::StrCat(path, ": .pth reading not implemented yet"));
}

}  // namespace videogen::io
