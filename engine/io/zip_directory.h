// The central directory of a zip archive held in a mapped file (zip64 aware).
// Internal to engine/io (the .pth reader). The torch.save writer defers the
// sizes of its local headers to data descriptors, so the central directory is
// where record sizes live.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "engine/io/mapped_file.h"

namespace videogen::io {

// A record as the zip's central directory describes it.
struct ZipEntry {
  uint16_t method = 0;  // 0: stored
  uint64_t size = 0;    // uncompressed bytes
};

// Every record of `file`, by its full name inside the archive. Reads only the
// mapping; thread-compatible. DataLoss naming the file when there is no
// end-of-central-directory record (truncated) or the directory is corrupt.
absl::StatusOr<std::map<std::string, ZipEntry>> ReadZipCentralDirectory(const MappedFile& file);

}  // namespace videogen::io
