// FuzzGenerateVideoRequest: GenerateVideo request bytes through the service's
// own parsing and transport validation.
#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/slice.h>

#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "server/service/parsed_request.h"
#include "server/service/request_validation.h"
#include "tests/fuzz/fuzz_targets.h"
#include "videogen/v1/videogen.pb.h"

namespace videogen::fuzz {
namespace {

// The text before the first ':' of `message`.
std::string FieldOf(const std::string& message) { return message.substr(0, message.find(':')); }

}  // namespace

std::string FuzzGenerateVideoRequest(const uint8_t* data, size_t size) {
  grpc::Slice slice(data, size);
  grpc::ByteBuffer buffer(&slice, 1);
  v1::GenerateVideoRequest request;
  const absl::Status parsed = service::ParseRequest(&buffer, &request);
  if (!parsed.ok()) {
    static const std::set<std::string> kParseFields = {"request", "model", "prompt", "negative_prompt",
                                                        "client_request_id", "adapters.name"};
    const std::string message(parsed.message());
    if (parsed.code() != absl::StatusCode::kInvalidArgument || kParseFields.count(FieldOf(message)) == 0) {
      return absl::StrCat("ParseRequest: ", parsed.ToString());
    }
    return "";
  }
  const absl::Status valid = service::ValidateRequest(request, service::RequestLimits());
  if (valid.ok()) return "";
  static const std::set<std::string> kFields = {
      "model", "prompt",  "negative_prompt", "width",  "height",   "max_area", "num_frames",
      "steps", "timesteps", "adapters",      "fps",    "sampler",  "format",   "quality",
      "priority", "client_request_id", "image", "last_frame"};
  const std::string message(valid.message());
  if (valid.code() != absl::StatusCode::kInvalidArgument || kFields.count(FieldOf(message)) == 0) {
    return absl::StrCat("ValidateRequest: ", valid.ToString());
  }
  if (message.size() > 2048) return absl::StrCat("ValidateRequest: a message of ", message.size(), " bytes");
  return "";
}

}  // namespace videogen::fuzz
