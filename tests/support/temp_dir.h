// A fresh directory for one test: under the system temp directory, named for
// the process and the running test (so parallel ctest runs never collide),
// removed with everything in it when the object goes.
#pragma once

#include <filesystem>
#include <string>

namespace videogen::testing {

class ScopedTempDir {
 public:
  // Creates <tmp>/<prefix>_<pid>_<test name>, emptied first if it exists.
  explicit ScopedTempDir(const std::string& prefix);
  ~ScopedTempDir();
  ScopedTempDir(const ScopedTempDir&) = delete;
  ScopedTempDir& operator=(const ScopedTempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace videogen::testing
