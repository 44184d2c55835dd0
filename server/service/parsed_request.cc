#include "server/service/parsed_request.h"

#include <grpcpp/impl/codegen/proto_buffer_reader.h>

#include <optional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/unknown_field_set.h"

namespace videogen::service {

namespace {

// Well-formed UTF-8: no overlong forms, surrogates or code points above U+10FFFF.
bool IsValidUtf8(absl::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    int n = 0;
    uint32_t cp = 0;
    uint32_t min = 0;
    if ((c & 0xE0) == 0xC0) {
      n = 1, cp = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2, cp = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3, cp = c & 0x07, min = 0x10000;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;  // truncated sequence
    for (int k = 1; k <= n; ++k) {
      const unsigned char d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n + 1;
  }
  return true;
}

// The path of the first string field of `bytes` (a `type` message) that is
// not valid UTF-8; nullopt when none is, or when `bytes` is not even wire format.
std::optional<std::string> InvalidUtf8Field(const google::protobuf::Descriptor& type, absl::string_view bytes,
                                            const std::string& prefix) {
  google::protobuf::UnknownFieldSet fields;
  if (!fields.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) return std::nullopt;
  for (int i = 0; i < fields.field_count(); ++i) {
    const google::protobuf::UnknownField& field = fields.field(i);
    if (field.type() != google::protobuf::UnknownField::TYPE_LENGTH_DELIMITED) continue;
    const google::protobuf::FieldDescriptor* descriptor = type.FindFieldByNumber(field.number());
    if (descriptor == nullptr) continue;
    const std::string name = absl::StrCat(prefix, descriptor->name());
    if (descriptor->type() == google::protobuf::FieldDescriptor::TYPE_STRING &&
        !IsValidUtf8(field.length_delimited())) {
      return name;
    }
    if (descriptor->type() == google::protobuf::FieldDescriptor::TYPE_MESSAGE) {
      if (auto inner = InvalidUtf8Field(*descriptor->message_type(), field.length_delimited(), name + ".")) {
        return inner;
      }
    }
  }
  return std::nullopt;
}

// Why `bytes` does not parse as a `message`.
absl::Status DescribeFailure(const google::protobuf::Message& message, const std::string& bytes) {
  if (auto field = InvalidUtf8Field(*message.GetDescriptor(), bytes, "")) {
    return absl::InvalidArgumentError(absl::StrCat(*field, ": not valid UTF-8 (string fields must be)"));
  }
  return absl::InvalidArgumentError(absl::StrCat("request: not a valid ", message.GetDescriptor()->full_name(),
                                                 " message (malformed protobuf encoding)"));
}

}  // namespace

absl::Status ParseRequest(grpc::ByteBuffer* buffer, google::protobuf::Message* message) {
  if (buffer == nullptr || !buffer->Valid()) return absl::InvalidArgumentError("request: no message was sent");
  bool parsed = false;
  {
    grpc::ProtoBufferReader reader(buffer);
    parsed = reader.status().ok() && message->ParseFromZeroCopyStream(&reader);
  }
  absl::Status status;
  if (!parsed) {
    std::vector<grpc::Slice> slices;
    std::string bytes;
    if (buffer->Dump(&slices).ok()) {
      for (const grpc::Slice& slice : slices) bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
    }
    status = DescribeFailure(*message, bytes);
  }
  buffer->Clear();
  return status;
}

}  // namespace videogen::service
