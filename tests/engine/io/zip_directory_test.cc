#include "engine/io/zip_directory.h"
#include "tests/support/temp_dir.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <caffe2/serialize/inline_container.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace videogen::io {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class ZipDirectoryTest : public ::testing::Test {
 protected:
  videogen::testing::ScopedTempDir tmp_{"vg_zipdir"};
  const fs::path dir_ = tmp_.path();
};

TEST_F(ZipDirectoryTest, ListsEveryRecordWithItsSize) {
  const std::string path = (dir_ / "ckpt.pth").string();
  {
    caffe2::serialize::PyTorchStreamWriter writer(path);
    const std::string pickle = "pickle bytes";
    const std::string data(1000, 'x');
    writer.writeRecord("data.pkl", pickle.data(), pickle.size());
    writer.writeRecord("data/0", data.data(), data.size());
    writer.writeEndOfFile();
  }
  auto file = MappedFile::Open(path);
  ASSERT_TRUE(file.ok()) << file.status();
  auto entries = ReadZipCentralDirectory(**file);
  ASSERT_TRUE(entries.ok()) << entries.status();
  auto find = [&](const std::string& suffix) -> const ZipEntry* {
    for (const auto& [name, e] : *entries) {
      if (name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
        return &e;
      }
    }
    return nullptr;
  };
  const ZipEntry* pkl = find("/data.pkl");
  const ZipEntry* data = find("/data/0");
  ASSERT_NE(pkl, nullptr);
  ASSERT_NE(data, nullptr);
  EXPECT_EQ(pkl->size, 12u);
  EXPECT_EQ(data->size, 1000u);
  EXPECT_EQ(data->method, 0);
}

TEST_F(ZipDirectoryTest, NotAZipIsDataLossNamingTheFile) {
  const std::string path = (dir_ / "junk.pth").string();
  std::ofstream(path) << std::string(100, 'j');
  auto file = MappedFile::Open(path);
  ASSERT_TRUE(file.ok()) << file.status();
  auto entries = ReadZipCentralDirectory(**file);
  EXPECT_EQ(entries.status().code(), absl::StatusCode::kDataLoss) << entries.status();
  EXPECT_THAT(entries.status().message(), HasSubstr(path));
  EXPECT_THAT(entries.status().message(), HasSubstr("end-of-central-directory"));
}

// Found by fuzz_pth in CI: a file shorter than one central-directory record
// whose end record points at an entry made `size - 46` wrap and the reader load
// from far outside the mapping. Every bound is now checked without wrapping.
TEST_F(ZipDirectoryTest, AnEndRecordPointingPastATinyFileIsDataLoss) {
  const std::string path = (dir_ / "tiny.pth").string();
  std::string bytes(4, '\0');
  bytes += std::string("PK\x05\x06", 4);                // end-of-central-directory signature
  bytes += std::string(6, '\0');                          // disk numbers, entries on this disk
  bytes += std::string("\x01\x00", 2);                   // one entry
  bytes += std::string(4, '\0');                          // directory size
  bytes += std::string("\xf0\xff\xff\xff", 4);         // directory offset near 4 GiB
  bytes += std::string(2, '\0');                          // comment length
  std::ofstream(path, std::ios::binary) << bytes;
  auto file = MappedFile::Open(path);
  ASSERT_TRUE(file.ok()) << file.status();
  auto entries = ReadZipCentralDirectory(**file);
  EXPECT_EQ(entries.status().code(), absl::StatusCode::kDataLoss) << entries.status();
  EXPECT_THAT(entries.status().message(), HasSubstr("corrupt zip central directory"));
}

}  // namespace
}  // namespace videogen::io
