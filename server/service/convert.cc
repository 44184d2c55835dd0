#include "server/service/convert.h"

#include <algorithm>
#include <string_view>
#include <utility>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include "engine/common/status_macros.h"
#include "engine/media/image_decoder.h"
#include "server/service/request_validation.h"
#include "server/service/sha256.h"

namespace videogen::service {

namespace {

void SetDuration(absl::Duration d, google::protobuf::Duration* out) {
  const int64_t nanos = absl::ToInt64Nanoseconds(d);
  out->set_seconds(nanos / 1'000'000'000);
  out->set_nanos(static_cast<int32_t>(nanos % 1'000'000'000));
}

pipeline::Sampler ToSampler(v1::Sampler s) {
  switch (s) {
    case v1::EULER:
      return pipeline::Sampler::kEuler;
    case v1::DPMPP:
      return pipeline::Sampler::kDpmPP;
    case v1::STEP_DISTILL:
      return pipeline::Sampler::kStepDistill;
    default:
      return pipeline::Sampler::kUniPC;
  }
}

v1::Sampler ToProto(pipeline::Sampler s) {
  switch (s) {
    case pipeline::Sampler::kEuler:
      return v1::EULER;
    case pipeline::Sampler::kDpmPP:
      return v1::DPMPP;
    case pipeline::Sampler::kStepDistill:
      return v1::STEP_DISTILL;
    case pipeline::Sampler::kUniPC:
      return v1::UNIPC;
  }
  return v1::UNIPC;
}

void ToProto(const pipeline::GenerationDefaults& d, v1::ModelDefaults* out) {
  out->set_width(static_cast<uint32_t>(d.width));
  out->set_height(static_cast<uint32_t>(d.height));
  out->set_max_area(static_cast<uint64_t>(d.max_area));
  out->set_num_frames(static_cast<uint32_t>(d.num_frames));
  out->set_steps(static_cast<uint32_t>(d.steps));
  out->set_guidance_scale(d.guidance_scale);
  if (d.guidance_scale_high_noise) out->set_guidance_scale_high_noise(*d.guidance_scale_high_noise);
  out->set_expert_boundary(d.expert_boundary);
  out->set_shift(d.shift);
  out->set_sampler(ToProto(d.sampler));
  for (int t : d.timesteps) out->add_timesteps(static_cast<uint32_t>(t));
  out->set_fps(d.fps);
}

// The names the API uses (the encoder's muxer and codec names).
const char* ContainerName(jobs::Container container) {
  switch (container) {
    case jobs::Container::kMp4:
      return "mp4";
    case jobs::Container::kWebm:
      return "webm";
  }
  return "";
}

const char* CodecName(jobs::Codec codec) {
  switch (codec) {
    case jobs::Codec::kH264:
      return "h264";
    case jobs::Codec::kVp9:
      return "vp9";
  }
  return "";
}

const char* ModelStateName(ModelState state) {
  switch (state) {
    case ModelState::kWarming:
      return "warming";
    case ModelState::kReady:
      return "ready";
    case ModelState::kFailed:
      return "failed";
  }
  return "";
}

// Decodes an input image field within the limits; errors name `field`.
absl::StatusOr<pipeline::RgbImage> DecodeRequestImage(const char* field, const std::string& bytes,
                                                      const RequestLimits& limits) {
  media::ImageLimits image_limits;
  image_limits.max_width = limits.max_image_width;
  image_limits.max_height = limits.max_image_height;
  image_limits.max_pixels = limits.max_image_pixels;
  image_limits.max_bytes = limits.max_image_bytes;
  auto image = media::DecodeImage(std::string_view(bytes.data(), bytes.size()), image_limits);
  if (!image.ok()) return RenameImageField(image.status(), field);
  return image;
}

}  // namespace

absl::StatusOr<jobs::JobSpec> ToJobSpec(const v1::GenerateVideoRequest& r, const RequestLimits& limits,
                                        uint64_t seed_if_absent,
                                        std::optional<CancelToken::Clock::time_point> deadline) {
  jobs::JobSpec spec;
  spec.model = r.model();
  spec.priority = r.priority();
  spec.client_request_id = r.client_request_id();
  spec.deadline = deadline;
  pipeline::GenerationRequest& g = spec.request;
  g.prompt = r.prompt();
  if (r.has_negative_prompt()) g.negative_prompt = r.negative_prompt();
  if (!r.image().empty()) {
    ASSIGN_OR_RETURN(g.image, DecodeRequestImage("image", r.image(), limits));
  }
  if (!r.last_frame().empty()) {
    ASSIGN_OR_RETURN(g.last_image, DecodeRequestImage("last_frame", r.last_frame(), limits));
  }
  if (r.has_width()) g.width = static_cast<int>(r.width());
  if (r.has_height()) g.height = static_cast<int>(r.height());
  if (r.has_max_area()) g.max_area = static_cast<int64_t>(r.max_area());
  if (r.has_num_frames()) g.num_frames = static_cast<int>(r.num_frames());
  if (r.has_steps()) g.steps = static_cast<int>(r.steps());
  if (r.has_guidance_scale()) g.guidance_scale = r.guidance_scale();
  if (r.has_shift()) g.shift = r.shift();
  if (r.sampler() != v1::SAMPLER_UNSPECIFIED) g.sampler = ToSampler(r.sampler());
  for (const v1::AdapterUse& a : r.adapters()) g.adapters.push_back({a.name(), a.has_strength() ? a.strength() : 1.0});
  for (uint32_t t : r.timesteps()) g.timesteps.push_back(static_cast<int>(std::min<uint32_t>(t, 1u << 30)));
  g.seed = r.has_seed() ? r.seed() : seed_if_absent;
  spec.output.format = r.format() == v1::WEBM_VP9 ? jobs::OutputFormat::kWebmVp9 : jobs::OutputFormat::kMp4H264;
  if (r.has_quality()) spec.output.quality = static_cast<int>(r.quality());
  if (r.has_fps()) spec.output.fps = r.fps();
  spec.fingerprint = RequestFingerprint(r);
  v1::GenerateVideoRequest persisted = r;
  persisted.set_seed(g.seed);
  if (!persisted.SerializeToString(&spec.persisted_request)) {
    return absl::InternalError("request: cannot be serialized for the job store");
  }
  return spec;
}

std::string RequestFingerprint(const v1::GenerateVideoRequest& request) {
  v1::GenerateVideoRequest parameters = request;
  parameters.clear_client_request_id();
  parameters.clear_cancel_job_with_call();
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream raw(&bytes);
    google::protobuf::io::CodedOutputStream out(&raw);
    out.SetSerializationDeterministic(true);
    parameters.SerializeToCodedStream(&out);
  }
  return Sha256Hex(bytes);
}

absl::StatusOr<jobs::JobSpec> FromPersistedRequest(const std::string& persisted, const RequestLimits& limits,
                                                   std::optional<CancelToken::Clock::time_point> deadline) {
  v1::GenerateVideoRequest r;
  if (!r.ParseFromString(persisted)) return absl::DataLossError("request: the stored request does not parse");
  if (!r.has_seed()) return absl::DataLossError("request: the stored request has no seed");
  return ToJobSpec(r, limits, r.seed(), deadline);
}

v1::Stage ToProto(pipeline::Stage stage) {
  switch (stage) {
    case pipeline::Stage::kTextEncoding:
      return v1::TEXT_ENCODING;
    case pipeline::Stage::kImageEncoding:
      return v1::IMAGE_ENCODING;
    case pipeline::Stage::kDenoising:
      return v1::DENOISING;
    case pipeline::Stage::kVaeDecoding:
      return v1::VAE_DECODING;
    case pipeline::Stage::kVideoEncoding:
      return v1::VIDEO_ENCODING;
  }
  return v1::STAGE_UNSPECIFIED;
}

v1::JobState ToProto(jobs::JobState state) {
  switch (state) {
    case jobs::JobState::kQueued:
      return v1::QUEUED;
    case jobs::JobState::kRunning:
      return v1::RUNNING;
    case jobs::JobState::kSucceeded:
      return v1::SUCCEEDED;
    case jobs::JobState::kFailed:
      return v1::FAILED;
    case jobs::JobState::kCancelled:
      return v1::CANCELLED;
  }
  return v1::JOB_STATE_UNSPECIFIED;
}

void ToProto(const jobs::JobProgress& p, v1::Progress* out) {
  out->set_stage(ToProto(p.stage));
  out->set_step(static_cast<uint32_t>(p.step));
  out->set_total_steps(static_cast<uint32_t>(p.total_steps));
  out->set_expert(pipeline::ExpertName(p.expert));
  SetDuration(p.elapsed, out->mutable_elapsed());
  SetDuration(p.eta, out->mutable_eta());
}

void ToProto(const jobs::JobResult& r, v1::Completed* out) {
  out->set_container(ContainerName(r.container));
  out->set_codec(CodecName(r.codec));
  out->set_width(static_cast<uint32_t>(r.width));
  out->set_height(static_cast<uint32_t>(r.height));
  out->set_frames(static_cast<uint32_t>(r.frames));
  out->set_fps(r.fps);
  out->set_bytes(r.bytes.size());
  out->set_sha256(r.sha256);
  out->set_seed(r.seed);
  for (const auto& t : r.timings) {
    v1::StageTiming* timing = out->add_timings();
    timing->set_stage(ToProto(t.stage));
    SetDuration(t.duration, timing->mutable_duration());
  }
}

void ToProto(const absl::Status& s, v1::Failed* out) {
  out->set_code(static_cast<int32_t>(s.code()));
  out->set_message(std::string(s.message()));
}

void ToProto(const jobs::Job& job, v1::Job* out) {
  const jobs::JobSnapshot s = job.Snapshot();
  out->set_job_id(job.id());
  out->set_model(job.spec().model);
  out->set_state(ToProto(s.state));
  const int64_t created_ns = absl::ToUnixNanos(job.created());
  out->mutable_created()->set_seconds(created_ns / 1'000'000'000);
  out->mutable_created()->set_nanos(static_cast<int32_t>(created_ns % 1'000'000'000));
  if (!s.stages.empty()) ToProto(s.stages.back(), out->mutable_progress());
  if (s.result) ToProto(*s.result, out->mutable_result());
  if (!s.error.ok()) ToProto(s.error, out->mutable_error());
  out->set_client_request_id(job.spec().client_request_id);
  out->set_attempt(static_cast<uint32_t>(s.attempt));
}

void ToProto(const pipeline::ModelDescription& m, ModelState state, v1::Model* out) {
  out->set_id(m.id);
  out->set_type(pipeline::ModelTypeName(m.type));
  out->set_variant(m.variant);
  out->set_description(m.description);
  out->set_state(ModelStateName(state));
  ToProto(m.defaults, out->mutable_defaults());
  out->mutable_admitted()->set_max_frames(static_cast<uint32_t>(m.admitted.max_frames));
  out->mutable_admitted()->set_max_area(static_cast<uint64_t>(m.admitted.max_area));
  for (const auto& g : m.resident) {
    v1::ResidentTensorGroup* r = out->add_resident();
    r->set_component(ComponentName(g.component));
    r->set_dtype(StorageDTypeName(g.dtype));
    r->set_device(DeviceName(g.device));
    r->set_bytes(g.bytes);
    *out->mutable_plan()->add_placement() = *r;
  }
  out->mutable_plan()->set_offload_mode(OffloadModeName(m.plan.offload_mode));
  for (const auto& [device, bytes] : m.plan.predicted_peak) {
    (*out->mutable_plan()->mutable_predicted_peak_bytes())[DeviceName(device)] = bytes;
  }
  out->mutable_plan()->set_summary(m.plan.summary);
  for (const pipeline::LoadedAdapter& a : m.adapters) {
    v1::LoadedAdapter* adapter = out->add_adapters();
    adapter->set_name(a.name);
    adapter->set_bytes(a.bytes);
  }
}

grpc::Status ToGrpcStatus(const absl::Status& s) {
  if (s.ok()) return grpc::Status::OK;
  std::string message(s.message().substr(0, kMaxStatusMessageBytes));
  if (message.size() < s.message().size()) message.append("...");
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()), std::move(message));
}

}  // namespace videogen::service
