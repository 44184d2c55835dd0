#include "engine/io/zip_directory.h"

#include "absl/strings/str_cat.h"
#include "engine/io/little_endian.h"

namespace videogen::io {

absl::StatusOr<std::map<std::string, ZipEntry>> ReadZipCentralDirectory(const MappedFile& file) {
  const uint8_t* d = file.data();
  const uint64_t size = file.size();
  auto loss = [&](const std::string& what) { return absl::DataLossError(absl::StrCat(file.path(), ": ", what)); };
  // True when `len` bytes at `pos` lie inside the file; no arithmetic here can wrap.
  auto fits = [size](uint64_t pos, uint64_t len) { return len <= size && pos <= size - len; };
  constexpr uint64_t kEocd = 22;
  if (size < kEocd) return loss("too short for a zip");
  uint64_t eocd = size - kEocd;
  const uint64_t lowest = size > kEocd + 65535 ? size - kEocd - 65535 : 0;
  while (Le32(d + eocd) != 0x06054b50u) {
    if (eocd == lowest) return loss("no zip end-of-central-directory record (truncated?)");
    --eocd;
  }
  uint64_t count = Le16(d + eocd + 10);
  uint64_t cd = Le32(d + eocd + 16);
  if (eocd >= 20 && Le32(d + eocd - 20) == 0x07064b50u) {  // zip64 locator -> zip64 end record
    const uint64_t end64 = Le64(d + eocd - 20 + 8);
    if (!fits(end64, 56) || Le32(d + end64) != 0x06064b50u) return loss("bad zip64 end-of-central-directory record");
    count = Le64(d + end64 + 32);
    cd = Le64(d + end64 + 48);
  }
  std::map<std::string, ZipEntry> entries;
  uint64_t p = cd;
  for (uint64_t i = 0; i < count; ++i) {
    if (!fits(p, 46) || Le32(d + p) != 0x02014b50u) return loss("corrupt zip central directory");
    const uint64_t name_len = Le16(d + p + 28), extra_len = Le16(d + p + 30), comment_len = Le16(d + p + 32);
    if (!fits(p + 46, name_len + extra_len + comment_len)) return loss("corrupt zip central directory");
    ZipEntry e;
    e.method = Le16(d + p + 10);
    e.size = Le32(d + p + 24);
    if (e.size == 0xFFFFFFFFu) {  // zip64 extra field 0x0001 starts with the uncompressed size
      bool found = false;
      const uint64_t extra_end = p + 46 + name_len + extra_len;
      for (uint64_t x = p + 46 + name_len; x + 4 <= extra_end;) {
        const uint16_t id = Le16(d + x), len = Le16(d + x + 2);
        if (x + 4 + len > extra_end) break;  // a field running past the extra block is not read
        if (id == 1 && len >= 8) {
          e.size = Le64(d + x + 4);
          found = true;
        }
        x += 4 + len;
      }
      if (!found) return loss("corrupt zip64 central directory entry");
    }
    entries[std::string(reinterpret_cast<const char*>(d + p + 46), name_len)] = e;
    p += 46 + name_len + extra_len + comment_len;
  }
  return entries;
}

}  // namespace videogen::io
