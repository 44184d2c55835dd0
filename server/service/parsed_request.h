// Requests the service parses itself. gRPC's generated callback handlers
// answer a request they cannot parse (malformed protobuf, a proto3 string
// field that is not valid UTF-8) with UNIMPLEMENTED and an empty message;
// registered with ParsedRequest<T> as their request type, the handlers always
// get a request and the service answers InvalidArgument naming the problem.
#pragma once

#include <grpcpp/impl/codegen/proto_utils.h>
#include <grpcpp/support/byte_buffer.h>

#include <string>

#include "absl/status/status.h"
#include "google/protobuf/message.h"

namespace videogen::service {

template <typename T>
struct ParsedRequest {
  T message;            // meaningful only when `status` is OK
  absl::Status status;  // OK, or InvalidArgument (see ParseRequest)
};

// Parses `buffer` (may be null: no message was sent) into `message` and
// clears `buffer`. InvalidArgument naming the first string field (as
// "field" or "parent.field") that is not valid UTF-8, else
// "request: not a valid <full message name> ...".
absl::Status ParseRequest(grpc::ByteBuffer* buffer, google::protobuf::Message* message);

}  // namespace videogen::service

namespace grpc {

// Deserialization never fails: the outcome is ParsedRequest::status.
template <typename T>
class SerializationTraits<videogen::service::ParsedRequest<T>, void> {
 public:
  static Status Serialize(const videogen::service::ParsedRequest<T>& request, ByteBuffer* buffer, bool* own_buffer) {
    return GenericSerialize<ProtoBufferWriter, T>(request.message, buffer, own_buffer);
  }
  static Status Deserialize(ByteBuffer* buffer, videogen::service::ParsedRequest<T>* request) {
    request->status = videogen::service::ParseRequest(buffer, &request->message);
    return Status::OK;
  }
};

}  // namespace grpc
