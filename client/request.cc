#include "client/request.h"

#include <fstream>
#include <random>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/str_format.h"
#include "engine/common/status_macros.h"

namespace videogen::client {
namespace {

// The whole file, or NotFound("<field>: cannot read ...").
absl::StatusOr<std::string> ReadFileBytes(const char* field, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream bytes;
  if (in) bytes << in.rdbuf();
  if (!in || in.bad()) return absl::NotFoundError(absl::StrCat(field, ": cannot read \"", path, "\""));
  return bytes.str();
}

bool ParseDimension(absl::string_view text, uint32_t* out) {
  if (text.empty() || text.size() > 9) return false;
  for (char c : text) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  uint32_t value = 0;
  if (!absl::SimpleAtoi(text, &value) || value == 0) return false;
  *out = value;
  return true;
}

}  // namespace

absl::StatusOr<Size> ParseSize(absl::string_view text) {
  const size_t x = text.find_first_of("xX");
  Size size;
  if (x == absl::string_view::npos || !ParseDimension(text.substr(0, x), &size.width) ||
      !ParseDimension(text.substr(x + 1), &size.height)) {
    return absl::InvalidArgumentError(
        absl::StrCat("size: expected WIDTHxHEIGHT with positive integers (e.g. 832x480), got \"",
                     text, "\""));
  }
  return size;
}

absl::StatusOr<v1::Sampler> ParseSampler(absl::string_view text) {
  const std::string name = absl::AsciiStrToLower(text);
  if (name == "unipc") return v1::UNIPC;
  if (name == "dpmpp" || name == "dpm++") return v1::DPMPP;
  if (name == "euler") return v1::EULER;
  if (name == "step-distill" || name == "step_distill") return v1::STEP_DISTILL;
  return absl::InvalidArgumentError(
      absl::StrCat("sampler: expected unipc, dpmpp, euler or step-distill, got \"", text, "\""));
}

absl::StatusOr<v1::VideoFormat> ParseFormat(absl::string_view text) {
  const std::string name = absl::AsciiStrToLower(text);
  if (name == "mp4") return v1::MP4_H264;
  if (name == "webm") return v1::WEBM_VP9;
  return absl::InvalidArgumentError(
      absl::StrCat("format: expected mp4 or webm, got \"", text, "\""));
}

v1::VideoFormat FormatForPath(absl::string_view path) {
  return absl::EndsWithIgnoreCase(path, ".webm") ? v1::WEBM_VP9 : v1::MP4_H264;
}

absl::StatusOr<v1::GenerateVideoRequest> BuildGenerateRequest(const GenerateFlags& flags) {
  if (flags.prompt.empty()) return absl::InvalidArgumentError("prompt: must not be empty");
  if (flags.output_path.empty()) {
    return absl::InvalidArgumentError("output: -o/--output is required");
  }
  v1::GenerateVideoRequest request;
  request.set_model(flags.model);
  request.set_prompt(flags.prompt);
  if (flags.negative_prompt) request.set_negative_prompt(*flags.negative_prompt);
  if (!flags.image_path.empty()) {
    ASSIGN_OR_RETURN(*request.mutable_image(), ReadFileBytes("image", flags.image_path));
  }
  if (!flags.last_frame_path.empty()) {
    ASSIGN_OR_RETURN(*request.mutable_last_frame(), ReadFileBytes("last_frame", flags.last_frame_path));
  }
  if (!flags.size.empty()) {
    if (flags.max_area) {
      return absl::InvalidArgumentError("size: --size and --max-area are mutually exclusive");
    }
    ASSIGN_OR_RETURN(const Size size, ParseSize(flags.size));
    request.set_width(size.width);
    request.set_height(size.height);
  }
  if (flags.max_area) request.set_max_area(*flags.max_area);
  if (flags.frames) request.set_num_frames(*flags.frames);
  if (flags.fps) request.set_fps(*flags.fps);
  if (flags.steps) request.set_steps(*flags.steps);
  if (flags.guidance) request.set_guidance_scale(*flags.guidance);
  if (flags.shift) request.set_shift(*flags.shift);
  if (!flags.sampler.empty()) {
    ASSIGN_OR_RETURN(const v1::Sampler sampler, ParseSampler(flags.sampler));
    request.set_sampler(sampler);
  }
  for (const std::string& lora : flags.loras) {
    v1::AdapterUse* adapter = request.add_adapters();
    const size_t colon = lora.rfind(':');
    double strength = 0;
    if (colon != std::string::npos && absl::SimpleAtod(lora.substr(colon + 1), &strength)) {
      adapter->set_name(lora.substr(0, colon));
      adapter->set_strength(strength);
    } else {
      adapter->set_name(lora);
    }
    if (adapter->name().empty()) {
      return absl::InvalidArgumentError(absl::StrCat("lora: \"", lora, "\" names no adapter (NAME[:STRENGTH])"));
    }
  }
  if (!flags.timesteps.empty()) {
    for (absl::string_view part : absl::StrSplit(flags.timesteps, ',')) {
      uint32_t t = 0;
      if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(part), &t)) {
        return absl::InvalidArgumentError(
            absl::StrCat("timesteps: expected comma-separated integers such as 1000,750,500,250, got \"",
                         flags.timesteps, "\""));
      }
      request.add_timesteps(t);
    }
  }
  if (flags.seed) request.set_seed(*flags.seed);
  if (!flags.format.empty()) {
    ASSIGN_OR_RETURN(const v1::VideoFormat format, ParseFormat(flags.format));
    request.set_format(format);
  } else {
    request.set_format(FormatForPath(flags.output_path));
  }
  if (flags.quality) request.set_quality(*flags.quality);
  request.set_priority(flags.priority);
  request.set_client_request_id(flags.request_id.empty() ? RandomRequestId() : flags.request_id);
  return request;
}

std::string RandomRequestId() {
  std::random_device rd;
  std::string id;
  for (int i = 0; i < 4; ++i) absl::StrAppendFormat(&id, "%08x", rd());
  return id;
}

}  // namespace videogen::client
