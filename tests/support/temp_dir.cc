#include "tests/support/temp_dir.h"

#include <unistd.h>

#include <gtest/gtest.h>

namespace videogen::testing {

ScopedTempDir::ScopedTempDir(const std::string& prefix) {
  const ::testing::TestInfo* test = ::testing::UnitTest::GetInstance()->current_test_info();
  path_ = std::filesystem::temp_directory_path() /
          (prefix + "_" + std::to_string(::getpid()) + "_" + (test != nullptr ? test->name() : "suite"));
  std::filesystem::remove_all(path_);
  std::filesystem::create_directories(path_);
}

ScopedTempDir::~ScopedTempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

}  // namespace videogen::testing
