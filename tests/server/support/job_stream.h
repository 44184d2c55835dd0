// Test support: reading a JobEvent stream to its end.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "videogen/v1/videogen.grpc.pb.h"

namespace videogen::testing {

struct JobStream {
  std::vector<v1::JobEvent> events;
  grpc::Status status;
  std::string video;  // chunks reassembled (offsets checked contiguous from the first)
  bool chunks_contiguous = true;
  size_t max_chunk = 0;
  uint64_t first_offset = 0;
  const v1::Completed* completed() const;
  const v1::Failed* failed() const;
  std::string job_id() const;  // from the first event
};

// Reads every event until the stream ends.
JobStream ReadAll(grpc::ClientReaderInterface<v1::JobEvent>* reader);

// Reads events until `stop(event)` returns true (the stream stays open);
// returns the events read, or stops at the end of the stream.
template <typename Pred>
std::vector<v1::JobEvent> ReadUntil(grpc::ClientReaderInterface<v1::JobEvent>* reader, Pred stop) {
  std::vector<v1::JobEvent> events;
  v1::JobEvent e;
  while (reader->Read(&e)) {
    events.push_back(e);
    if (stop(e)) break;
  }
  return events;
}

// Runs GenerateVideo to its end.
JobStream Generate(v1::VideoGeneration::Stub& stub, const v1::GenerateVideoRequest& request,
                   grpc::ClientContext* context = nullptr);
// Runs WatchJob to its end.
JobStream Watch(v1::VideoGeneration::Stub& stub, const std::string& job_id, uint64_t from_offset = 0);

}  // namespace videogen::testing
