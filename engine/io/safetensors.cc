#include "engine/io/safetensors.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "engine/common/status_macros.h"
#include "engine/common/torch_status.h"
#include "engine/io/mapped_file.h"

namespace videogen::io {
namespace {

using json = nlohmann::json;

absl::StatusOr<DType> ParseDType(const std::string& s) {
  static const std::pair<const char*, DType> kNames[] = {
      {"F64", DType::kF64},     {"F32", DType::kF32},       {"F16", DType::kF16},
      {"BF16", DType::kBF16},   {"F8_E4M3", DType::kF8E4M3}, {"F8_E5M2", DType::kF8E5M2},
      {"I64", DType::kI64},     {"I32", DType::kI32},       {"I16", DType::kI16},
      {"I8", DType::kI8},       {"U8", DType::kU8},         {"BOOL", DType::kBool}};
  for (const auto& [name, dtype] : kNames) {
    if (s == name) return dtype;
  }
  return absl::InvalidArgumentError(absl::StrCat("unsupported dtype '", s, "'"));
}

absl::StatusOr<DType> FromTorch(torch::ScalarType t) {
  switch (t) {
    case torch::kFloat64: return DType::kF64;
    case torch::kFloat32: return DType::kF32;
    case torch::kFloat16: return DType::kF16;
    case torch::kBFloat16: return DType::kBF16;
    case torch::kInt64: return DType::kI64;
    case torch::kInt32: return DType::kI32;
    case torch::kInt16: return DType::kI16;
    case torch::kInt8: return DType::kI8;
    case torch::kUInt8: return DType::kU8;
    case torch::kBool: return DType::kBool;
    default: return absl::InvalidArgumentError(absl::StrCat("cannot store dtype ", c10::toString(t)));
  }
}

struct Entry {
  TensorInfo info;
  size_t begin = 0;  // absolute offset in the file
};

// Parses and validates the header of `file`. `metadata` may be null.
absl::StatusOr<std::vector<Entry>> ParseHeader(const uint8_t* data, size_t size, const std::string& path,
                                               std::map<std::string, std::string>* metadata) {
  auto loss = [&](const std::string& what) { return absl::DataLossError(absl::StrCat(path, ": ", what)); };
  if (size < 8) return loss("too short for a safetensors header");
  uint64_t n = 0;
  std::memcpy(&n, data, 8);
  if (n > size - 8) return loss(absl::StrCat("header length ", n, " exceeds file size ", size, " (truncated?)"));
  json header = json::parse(data + 8, data + 8 + n, nullptr, /*allow_exceptions=*/false);
  if (!header.is_object()) return loss("header is not a JSON object");
  const size_t data_start = 8 + n;
  const size_t data_size = size - data_start;
  std::vector<Entry> entries;
  for (auto it = header.begin(); it != header.end(); ++it) {
    if (it.key() == "__metadata__") {
      if (metadata != nullptr && it.value().is_object()) {
        for (auto m = it.value().begin(); m != it.value().end(); ++m) {
          if (m.value().is_string()) (*metadata)[m.key()] = m.value().get<std::string>();
        }
      }
      continue;
    }
    const json& t = it.value();
    auto bad = [&](const std::string& what) { return loss(absl::StrCat("tensor '", it.key(), "': ", what)); };
    if (!t.is_object() || !t.contains("dtype") || !t.contains("shape") || !t.contains("data_offsets") ||
        !t["dtype"].is_string() || !t["shape"].is_array() || !t["data_offsets"].is_array() ||
        t["data_offsets"].size() != 2) {
      return bad("malformed entry");
    }
    Entry e;
    e.info.name = it.key();
    e.info.file = path;
    auto dtype = ParseDType(t["dtype"].get<std::string>());
    if (!dtype.ok()) return bad(std::string(dtype.status().message()));
    e.info.dtype = *dtype;
    uint64_t numel = 1;
    for (const json& d : t["shape"]) {
      if (!d.is_number_unsigned() && !(d.is_number_integer() && d.get<int64_t>() >= 0)) return bad("bad shape");
      e.info.shape.push_back(d.get<int64_t>());
      numel *= d.get<uint64_t>();
    }
    const json& off = t["data_offsets"];
    if (!off[0].is_number_unsigned() || !off[1].is_number_unsigned()) return bad("bad data_offsets");
    const uint64_t b = off[0].get<uint64_t>(), end = off[1].get<uint64_t>();
    if (end < b || end > data_size) {
      return bad(absl::StrCat("data [", b, ", ", end, ") lies outside the ", data_size,
                              "-byte data section (truncated file?)"));
    }
    e.info.nbytes = end - b;
    if (e.info.nbytes != numel * DTypeSize(e.info.dtype)) {
      return bad(absl::StrCat("shape needs ", numel * DTypeSize(e.info.dtype), " bytes but data_offsets span ",
                              e.info.nbytes));
    }
    e.begin = data_start + b;
    entries.push_back(std::move(e));
  }
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.begin < b.begin; });
  for (size_t i = 1; i < entries.size(); ++i) {
    if (entries[i].begin < entries[i - 1].begin + entries[i - 1].info.nbytes) {
      return loss(absl::StrCat("tensors '", entries[i - 1].info.name, "' and '", entries[i].info.name, "' overlap"));
    }
  }
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.info.name < b.info.name; });
  return entries;
}

// Any number of safetensors files, each mapped; names unique across files.
class SafetensorsSource final : public TensorSource {
 public:
  static absl::StatusOr<std::unique_ptr<TensorSource>> Create(const std::vector<std::string>& paths,
                                                              std::string description) {
    auto source = std::unique_ptr<SafetensorsSource>(new SafetensorsSource(std::move(description)));
    for (const std::string& path : paths) {
      ASSIGN_OR_RETURN(auto file, MappedFile::Open(path));
      ASSIGN_OR_RETURN(auto entries, ParseHeader(file->data(), file->size(), path, nullptr));
      for (Entry& e : entries) {
        source->located_.push_back({std::move(e), file});
      }
    }
    std::sort(source->located_.begin(), source->located_.end(),
              [](const Located& a, const Located& b) { return a.entry.info.name < b.entry.info.name; });
    for (size_t i = 0; i < source->located_.size(); ++i) {
      if (i > 0 && source->located_[i].entry.info.name == source->located_[i - 1].entry.info.name) {
        return absl::DataLossError(absl::StrCat("tensor '", source->located_[i].entry.info.name,
                                                "' appears in both ", source->located_[i - 1].file->path(),
                                                " and ", source->located_[i].file->path()));
      }
      source->infos_.push_back(source->located_[i].entry.info);
    }
    return std::unique_ptr<TensorSource>(std::move(source));
  }

  const std::vector<TensorInfo>& tensors() const override { return infos_; }

  absl::StatusOr<torch::Tensor> Read(std::string_view name) const override {
    const Located* l = Lookup(name);
    if (l == nullptr) return absl::NotFoundError(absl::StrCat("no tensor '", std::string(name), "' in ", Describe()));
    std::shared_ptr<const MappedFile> file = l->file;
    const Entry& e = l->entry;
    return TorchCall(absl::StrCat("reading '", std::string(name), "'"), [&]() -> torch::Tensor {
      const auto options = torch::TensorOptions().dtype(TorchScalarType(e.info.dtype));
      if (e.info.nbytes == 0) return torch::empty(e.info.shape, options);
      void* ptr = const_cast<uint8_t*>(file->data() + e.begin);
      if (reinterpret_cast<uintptr_t>(ptr) % DTypeSize(e.info.dtype) != 0) {
        // Unaligned data (legal in the format): copy instead of viewing.
        torch::Tensor t = torch::empty(e.info.shape, options);
        std::memcpy(t.data_ptr(), ptr, e.info.nbytes);
        return t;
      }
      file->Prefetch(e.begin, e.info.nbytes);  // one call instead of a fault per page as the caller reads
      return torch::from_blob(ptr, e.info.shape, [file](void*) {}, options);
    });
  }

  void Release(std::string_view name) const override {
    if (const Located* l = Lookup(name)) l->file->Release(l->entry.begin, l->entry.info.nbytes);
  }

  std::string Describe() const override { return description_; }

 private:
  struct Located {
    Entry entry;
    std::shared_ptr<const MappedFile> file;
  };
  explicit SafetensorsSource(std::string description) : description_(std::move(description)) {}

  const Located* Lookup(std::string_view name) const {
    auto it = std::lower_bound(located_.begin(), located_.end(), name,
                               [](const Located& l, std::string_view n) { return l.entry.info.name < n; });
    return (it != located_.end() && it->entry.info.name == name) ? &*it : nullptr;
  }

  const std::string description_;
  std::vector<Located> located_;  // sorted by name
  std::vector<TensorInfo> infos_;
};

absl::StatusOr<std::string> ReadTextFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

absl::StatusOr<std::unique_ptr<TensorSource>> OpenSafetensors(const std::string& path) {
  return SafetensorsSource::Create({path}, path);
}

absl::StatusOr<std::unique_ptr<TensorSource>> OpenSafetensorsFiles(const std::vector<std::string>& paths) {
  return SafetensorsSource::Create(paths, absl::StrCat(paths.size(), " safetensors file(s)"));
}

absl::StatusOr<std::unique_ptr<TensorSource>> OpenSafetensorsIndex(const std::string& index_path) {
  ASSIGN_OR_RETURN(std::string text, ReadTextFile(index_path));
  json index = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!index.is_object() || !index.contains("weight_map") || !index["weight_map"].is_object()) {
    return absl::DataLossError(absl::StrCat(index_path, ": no \"weight_map\" object"));
  }
  const std::filesystem::path dir = std::filesystem::path(index_path).parent_path();
  std::vector<std::string> files;
  for (auto it = index["weight_map"].begin(); it != index["weight_map"].end(); ++it) {
    if (!it.value().is_string()) return absl::DataLossError(absl::StrCat(index_path, ": bad entry '", it.key(), "'"));
    const std::string f = (dir / it.value().get<std::string>()).string();
    if (std::find(files.begin(), files.end(), f) == files.end()) files.push_back(f);
  }
  std::sort(files.begin(), files.end());
  ASSIGN_OR_RETURN(auto source, SafetensorsSource::Create(files, absl::StrCat(files.size(), " shards of ", index_path)));
  for (auto it = index["weight_map"].begin(); it != index["weight_map"].end(); ++it) {
    if (source->Find(it.key()) == nullptr) {
      return absl::DataLossError(absl::StrCat(index_path, ": tensor '", it.key(), "' is listed for ",
                                              it.value().get<std::string>(), " but not stored there"));
    }
  }
  return source;
}

absl::StatusOr<std::map<std::string, std::string>> ReadSafetensorsMetadata(const std::string& path) {
  ASSIGN_OR_RETURN(auto file, MappedFile::Open(path));
  std::map<std::string, std::string> metadata;
  RETURN_IF_ERROR(ParseHeader(file->data(), file->size(), path, &metadata).status());
  return metadata;
}

absl::StatusOr<std::vector<TensorInfo>> ReadSafetensorsHeader(const std::string& path) {
  ASSIGN_OR_RETURN(auto file, MappedFile::Open(path));
  ASSIGN_OR_RETURN(auto entries, ParseHeader(file->data(), file->size(), path, nullptr));
  std::vector<TensorInfo> infos;
  for (Entry& e : entries) infos.push_back(std::move(e.info));
  return infos;
}

absl::Status WriteSafetensors(const std::string& path, std::vector<NamedTensor> tensors,
                              const std::map<std::string, std::string>& metadata) {
  std::sort(tensors.begin(), tensors.end(), [](const NamedTensor& a, const NamedTensor& b) { return a.name < b.name; });
  json header = json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  uint64_t offset = 0;
  for (NamedTensor& t : tensors) {
    RETURN_IF_ERROR(TorchCall("preparing " + t.name, [&] { t.tensor = t.tensor.to(torch::kCPU).contiguous(); }));
    DType dtype;
    if (t.dtype_override) {
      dtype = *t.dtype_override;
    } else {
      ASSIGN_OR_RETURN(dtype, FromTorch(t.tensor.scalar_type()));
    }
    const uint64_t nbytes = t.tensor.numel() * t.tensor.element_size();
    header[t.name] = {{"dtype", DTypeName(dtype)}, {"shape", t.tensor.sizes().vec()}, {"data_offsets", {offset, offset + nbytes}}};
    offset += nbytes;
  }
  std::string text = header.dump();
  while ((8 + text.size()) % 8 != 0) text.push_back(' ');
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return absl::PermissionDeniedError(absl::StrCat(tmp, ": cannot create"));
    const uint64_t n = text.size();
    out.write(reinterpret_cast<const char*>(&n), 8);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    for (const NamedTensor& t : tensors) {
      out.write(static_cast<const char*>(t.tensor.data_ptr()),
                static_cast<std::streamsize>(t.tensor.numel() * t.tensor.element_size()));
    }
    if (!out.flush()) return absl::DataLossError(absl::StrCat(tmp, ": write failed"));
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return absl::InternalError(absl::StrCat("rename ", tmp, " -> ", path, ": ", ec.message()));
  return absl::OkStatus();
}

}  // namespace videogen::io
