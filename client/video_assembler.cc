#include "client/video_assembler.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace videogen::client {

struct VideoAssembler::Hasher {
  Hasher() : ctx(EVP_MD_CTX_new()) { EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr); }
  ~Hasher() { EVP_MD_CTX_free(ctx); }
  void Update(absl::string_view data) { EVP_DigestUpdate(ctx, data.data(), data.size()); }
  std::string Hex() const {
    EVP_MD_CTX* copy = EVP_MD_CTX_new();
    EVP_MD_CTX_copy_ex(copy, ctx);
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(copy, digest, &len);
    EVP_MD_CTX_free(copy);
    return absl::BytesToHexString(
        absl::string_view(reinterpret_cast<const char*>(digest), len));
  }
  EVP_MD_CTX* ctx;
};

std::string Sha256Hex(absl::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr);
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(digest), len));
}

absl::StatusOr<std::unique_ptr<VideoAssembler>> VideoAssembler::Create(
    const VideoAssemblerOptions& options) {
  if (options.output_path.empty()) {
    return std::unique_ptr<VideoAssembler>(new VideoAssembler("", "", -1));
  }
  std::string templ = absl::StrCat(options.output_path, ".partial-XXXXXX");
  std::vector<char> buf(templ.begin(), templ.end());
  buf.push_back('\0');
  const int fd = mkstemp(buf.data());
  if (fd < 0) {
    const int err = errno;
    const std::string message =
        absl::StrCat("output: cannot create \"", buf.data(), "\": ", strerror(err));
    if (err == EACCES || err == EPERM || err == EROFS) return absl::PermissionDeniedError(message);
    if (err == ENOENT || err == ENOTDIR) return absl::NotFoundError(message);
    return absl::InternalError(message);
  }
  // mkstemp creates 0600; a video is an ordinary file (0666 minus umask).
  const mode_t mask = umask(0);
  umask(mask);
  fchmod(fd, 0666 & ~mask);
  return std::unique_ptr<VideoAssembler>(new VideoAssembler(options.output_path, buf.data(), fd));
}

VideoAssembler::VideoAssembler(std::string output_path, std::string temp_path, int fd)
    : output_path_(std::move(output_path)),
      temp_path_(std::move(temp_path)),
      fd_(fd),
      hasher_(std::make_unique<Hasher>()) {}

VideoAssembler::~VideoAssembler() { Abort(); }

void VideoAssembler::Abort() {
  if (fd_ >= 0) {
    close(fd_);
    fd_ = -1;
  }
  if (!done_ && !temp_path_.empty()) unlink(temp_path_.c_str());
  done_ = true;
}

absl::Status VideoAssembler::Append(uint64_t offset, absl::string_view data) {
  if (done_) return absl::FailedPreconditionError("video: already finished");
  if (offset > received_) {
    return absl::DataLossError(absl::StrCat("video: chunk at offset ", offset, " leaves a gap after ",
                                            received_, " bytes received"));
  }
  const uint64_t known = received_ - offset;
  if (known >= data.size()) return absl::OkStatus();  // entirely resent
  data.remove_prefix(static_cast<size_t>(known));
  hasher_->Update(data);
  if (fd_ >= 0) {
    const char* p = data.data();
    size_t left = data.size();
    while (left > 0) {
      const ssize_t n = write(fd_, p, left);
      if (n < 0) {
        if (errno == EINTR) continue;
        return absl::InternalError(
            absl::StrCat("output: write to \"", temp_path_, "\" failed: ", strerror(errno)));
      }
      p += n;
      left -= static_cast<size_t>(n);
    }
  }
  received_ += data.size();
  return absl::OkStatus();
}

std::string VideoAssembler::Sha256Hex() const { return hasher_->Hex(); }

absl::Status VideoAssembler::Finish(uint64_t expected_bytes, absl::string_view expected_sha256) {
  if (done_) return absl::FailedPreconditionError("video: already finished");
  if (received_ != expected_bytes) {
    Abort();
    return absl::DataLossError(absl::StrCat("bytes: received ", received_,
                                            " bytes but the server announced ", expected_bytes));
  }
  const std::string actual = hasher_->Hex();
  if (actual != expected_sha256) {
    Abort();
    return absl::DataLossError(absl::StrCat("sha256: received video hashes to ", actual,
                                            " but the server announced ", expected_sha256));
  }
  if (fd_ >= 0) {
    const bool synced = fsync(fd_) == 0;
    const bool closed = close(fd_) == 0;
    fd_ = -1;
    if (!synced || !closed) {
      const std::string err = strerror(errno);
      Abort();
      return absl::InternalError(absl::StrCat("output: flushing \"", temp_path_, "\" failed: ", err));
    }
    if (rename(temp_path_.c_str(), output_path_.c_str()) != 0) {
      const std::string err = strerror(errno);
      Abort();
      return absl::InternalError(absl::StrCat("output: renaming to \"", output_path_, "\" failed: ", err));
    }
  }
  done_ = true;
  return absl::OkStatus();
}

}  // namespace videogen::client
