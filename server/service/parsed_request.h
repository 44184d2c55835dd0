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

// Parses `buffer` (may be null: no message was sent) into `message` and
// clears `buffer`. InvalidArgument naming the first string field (as
// "field" or "parent.field") that is not valid UTF-8, else
// "request: not a valid <full message name> ...".
absl::Status ParseRequest(grpc::ByteBuffer* buffer, google::protobuf::Message* message);

// A request as received: gRPC hands the handler its bytes (no copy), and the
// handler parses them with Parse() once the call is authenticated, so a
// request that fails authentication is never parsed nor copied.
template <typename T>
class ParsedRequest {
 public:
  // Parses the received bytes the first time and releases them; later calls
  // return the same outcome: OK, or InvalidArgument (see ParseRequest).
  // Const because gRPC passes handlers a const request; not thread-safe (a
  // request belongs to its call's handler).
  const absl::Status& Parse() const {
    if (!parsed_) {
      status_ = ParseRequest(received_ ? &buffer_ : nullptr, &message_);
      parsed_ = true;
    }
    return status_;
  }
  // The message; meaningful only once Parse() returned OK.
  const T& message() const { return message_; }

 private:
  friend class grpc::SerializationTraits<ParsedRequest<T>, void>;
  mutable grpc::ByteBuffer buffer_;
  bool received_ = false;
  mutable bool parsed_ = false;
  mutable T message_;
  mutable absl::Status status_;
};

}  // namespace videogen::service

namespace grpc {

// Deserialization never fails and does not parse: it keeps the bytes, and
// ParsedRequest::Parse() tells the outcome.
template <typename T>
class SerializationTraits<videogen::service::ParsedRequest<T>, void> {
 public:
  static Status Serialize(const videogen::service::ParsedRequest<T>& request, ByteBuffer* buffer, bool* own_buffer) {
    return GenericSerialize<ProtoBufferWriter, T>(request.message_, buffer, own_buffer);
  }
  static Status Deserialize(ByteBuffer* buffer, videogen::service::ParsedRequest<T>* request) {
    request->received_ = buffer != nullptr;
    if (buffer != nullptr) request->buffer_.Swap(buffer);
    return Status::OK;
  }
};

}  // namespace grpc
