#include "tests/server/support/job_stream.h"

namespace videogen::testing {

const v1::Completed* JobStream::completed() const {
  for (const auto& e : events) {
    if (e.has_completed()) return &e.completed();
  }
  return nullptr;
}

const v1::Failed* JobStream::failed() const {
  for (const auto& e : events) {
    if (e.has_failed()) return &e.failed();
  }
  return nullptr;
}

std::string JobStream::job_id() const { return events.empty() ? "" : events.front().job_id(); }

JobStream ReadAll(grpc::ClientReaderInterface<v1::JobEvent>* reader) {
  JobStream s;
  v1::JobEvent e;
  bool first_chunk = true;
  while (reader->Read(&e)) {
    if (e.has_video_chunk()) {
      if (first_chunk) {
        s.first_offset = e.video_chunk().offset();
        first_chunk = false;
      }
      if (e.video_chunk().offset() != s.first_offset + s.video.size()) s.chunks_contiguous = false;
      s.max_chunk = std::max(s.max_chunk, e.video_chunk().data().size());
      s.video += e.video_chunk().data();
    }
    s.events.push_back(e);
  }
  s.status = reader->Finish();
  return s;
}

JobStream Generate(v1::VideoGeneration::Stub& stub, const v1::GenerateVideoRequest& request,
                   grpc::ClientContext* context) {
  grpc::ClientContext local;
  if (context == nullptr) {
    local.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    context = &local;
  }
  auto reader = stub.GenerateVideo(context, request);
  return ReadAll(reader.get());
}

JobStream Watch(v1::VideoGeneration::Stub& stub, const std::string& job_id, uint64_t from_offset) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  v1::WatchJobRequest request;
  request.set_job_id(job_id);
  request.set_from_offset(from_offset);
  auto reader = stub.WatchJob(&context, request);
  return ReadAll(reader.get());
}

}  // namespace videogen::testing
