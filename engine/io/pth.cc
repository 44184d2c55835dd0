#include "engine/io/pth.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <utility>
#include <vector>

#include <ATen/ATen.h>
#include <c10/util/Exception.h>
#include <caffe2/serialize/inline_container.h>
#include <caffe2/serialize/read_adapter_interface.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/common/status_macros.h"
#include "engine/common/torch_status.h"
#include "engine/io/mapped_file.h"
#include "engine/io/unpickler.h"
#include "engine/io/zip_directory.h"

namespace videogen::io {
namespace {

// caffe2's PyTorchStreamReader over the mapping.
class MappedReadAdapter final : public caffe2::serialize::ReadAdapterInterface {
 public:
  explicit MappedReadAdapter(std::shared_ptr<const MappedFile> file) : file_(std::move(file)) {}
  size_t size() const override { return file_->size(); }
  size_t read(uint64_t pos, void* buf, size_t n, const char* /*what*/) const override {
    // An empty read may come with a null buffer (LibTorch's reader on a
    // 0-byte record; fuzz_pth, UBSan): memcpy must not see it.
    if (pos >= file_->size() || n == 0) return 0;
    n = std::min<uint64_t>(n, file_->size() - pos);
    std::memcpy(buf, file_->data() + pos, n);
    return n;
  }

 private:
  std::shared_ptr<const MappedFile> file_;
};

struct PthEntry {
  TensorInfo info;
  uint64_t storage_begin = 0;  // absolute file offset of the storage record's data
  int64_t storage_offset = 0;  // elements
  std::vector<int64_t> stride;
  uint64_t span_bytes = 0;     // bytes from the first to one past the last element
};

// Flattens `dict` into `out` ("prefix" + key); InvalidArgument naming the key.
absl::Status Flatten(const PyValue& dict, const std::string& prefix, const std::string& path,
                     std::vector<std::pair<std::string, PyRef>>* out, int depth) {
  if (depth > 64) return absl::InvalidArgumentError(absl::StrCat(path, ": mappings nested too deeply at '", prefix, "'"));
  for (const auto& [k, v] : dict.dict) {
    if (k->kind != PyValue::Kind::kString) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": key of kind ", KindName(*k), " under '", prefix, "' (expected tensor names)"));
    }
    const std::string name = prefix + k->s;
    if (v->kind == PyValue::Kind::kDict) {
      RETURN_IF_ERROR(Flatten(*v, name + ".", path, out, depth + 1));
    } else if (v->kind == PyValue::Kind::kTensor) {
      out->emplace_back(name, v);
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": '", name, "' holds a ", KindName(*v), ", not a tensor (expected a state_dict)"));
    }
  }
  return absl::OkStatus();
}

class PthSource final : public TensorSource {
 public:
  static absl::StatusOr<std::unique_ptr<TensorSource>> Create(const std::string& path) {
    ASSIGN_OR_RETURN(std::shared_ptr<const MappedFile> file, MappedFile::Open(path));
    auto loss = [&](const std::string& what) { return absl::DataLossError(absl::StrCat(path, ": ", what)); };
    static const uint8_t kLegacyMagic[] = {0x80, 0x02, 0x8a, 0x0a};
    if (file->size() >= 4 && std::memcmp(file->data(), kLegacyMagic, 4) == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": legacy (pre-1.6, non-zip) torch.save format; re-save it with torch.save"));
    }

    // Record sizes are checked before LibTorch's reader touches a record: it
    // allocates a record's declared size, so a stored record claiming more
    // bytes than the whole file holds is refused here (fuzz_pth: a 1 KB file
    // asked for 3.8 GB). Compressed records are refused further down. A
    // directory our reader cannot parse is refused too, never left to
    // LibTorch's: fuzz_pth found a size of 0xFFFFFFFF without its zip64 field,
    // which ours rejects and LibTorch's reader took as 4 GiB to allocate.
    const absl::StatusOr<std::map<std::string, ZipEntry>> directory = ReadZipCentralDirectory(*file);
    if (!directory.ok()) return directory.status();
    for (const auto& [record, entry] : *directory) {
      if (entry.method == 0 && entry.size > file->size()) {
        return loss(absl::StrCat("record '", record, "' claims ", entry.size, " bytes, more than the file's ",
                                 file->size()));
      }
    }

    // Zip directory, pickle bytes, and the data offset of every record we need.
    std::unique_ptr<caffe2::serialize::PyTorchStreamReader> reader;
    std::string pickle;
    try {
      reader = std::make_unique<caffe2::serialize::PyTorchStreamReader>(std::make_shared<MappedReadAdapter>(file));
      if (!reader->hasRecord("data.pkl")) return loss("no 'data.pkl' record (not a torch.save checkpoint)");
      auto [ptr, n] = reader->getRecord("data.pkl");
      pickle.assign(static_cast<const char*>(ptr.get()), n);
    } catch (const c10::Error& e) {
      return loss(absl::StrCat("not a readable PyTorch zip: ", FirstLine(e.what_without_backtrace())));
    } catch (const std::exception& e) {
      return loss(absl::StrCat("not a readable PyTorch zip: ", FirstLine(e.what())));
    }

    absl::StatusOr<PyRef> unpickled = Unpickle(reinterpret_cast<const uint8_t*>(pickle.data()), pickle.size());
    if (!unpickled.ok()) {
      const std::string error(unpickled.status().message());
      if (absl::IsInvalidArgument(unpickled.status())) {
        return absl::InvalidArgumentError(absl::StrCat(path, ": data.pkl: ", error));
      }
      return loss(absl::StrCat("record 'data.pkl': ", error));
    }
    const PyRef root = *std::move(unpickled);
    if (root->kind != PyValue::Kind::kDict) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": holds a pickled ", KindName(*root), ", not a mapping of names to tensors"));
    }
    std::vector<std::pair<std::string, PyRef>> named;
    RETURN_IF_ERROR(Flatten(*root, "", path, &named, 0));

    auto source = std::unique_ptr<PthSource>(new PthSource(file));
    std::map<std::string, uint64_t> record_begin;                // storage key -> data offset
    std::map<std::string, uint64_t> record_size;   // storage key -> stored bytes
    std::string archive;  // "<archive>/", the directory holding data.pkl
    for (const auto& [record, unused] : *directory) {
      const size_t slash = record.find('/');
      if (slash != std::string::npos && record.compare(slash, std::string::npos, "/data.pkl") == 0) {
        archive = record.substr(0, slash + 1);
      }
    }
    for (auto& [name, t] : named) {
      const PyValue& storage = *t->items[0];
      const std::string suffix = absl::StrCat("data/", storage.s);
      if (record_begin.count(storage.s) == 0) {
        uint64_t begin = 0;
        try {
          if (!reader->hasRecord(suffix)) return loss(absl::StrCat("tensor '", name, "': record '", suffix, "' is missing"));
          begin = reader->getRecordOffset(suffix);
        } catch (const c10::Error& e) {
          return loss(absl::StrCat("record '", suffix, "': ", FirstLine(e.what_without_backtrace())));
        }
        auto entry = directory->find(archive + suffix);
        if (entry == directory->end()) return loss(absl::StrCat("record '", suffix, "' is not in the central directory"));
        if (entry->second.method != 0) {
          return absl::InvalidArgumentError(absl::StrCat(path, ": record '", suffix, "' is compressed (method ",
                                                         entry->second.method, "); only stored records can be mapped"));
        }
        record_begin[storage.s] = begin;
        record_size[storage.s] = entry->second.size;
      }
      const uint64_t begin = record_begin[storage.s];
      const int64_t item = DTypeSize(storage.dtype);
      const uint64_t storage_bytes = static_cast<uint64_t>(storage.i) * item;
      const uint64_t stored = record_size[storage.s];
      if (storage_bytes > stored || begin > file->size() || stored > file->size() - begin) {
        return loss(absl::StrCat("tensor '", name, "': storage record '", suffix, "' holds ", stored,
                                 " bytes at offset ", begin, " of ", file->size(), ", needs ", storage_bytes,
                                 " (truncated?)"));
      }
      // The view must lie inside its storage.
      PthEntry e;
      e.info.name = name;
      e.info.dtype = storage.dtype;
      e.info.shape = t->size;
      e.info.file = path;
      e.storage_begin = begin;
      e.storage_offset = t->i;
      e.stride = t->stride;
      int64_t numel = 1, last = t->i;
      bool valid = t->i >= 0;
      for (size_t d = 0; d < t->size.size(); ++d) {
        valid = valid && t->size[d] >= 0 && t->stride[d] >= 0;
        numel *= t->size[d];
        if (t->size[d] > 0) last += (t->size[d] - 1) * t->stride[d];
      }
      if (!valid || (numel > 0 && last >= storage.i)) {
        return loss(absl::StrCat("tensor '", name, "': view (offset ", t->i, ", shape [", absl::StrJoin(t->size, ", "),
                                 "], stride [", absl::StrJoin(t->stride, ", "), "]) exceeds its ", storage.i,
                                 "-element storage '", storage.s, "'"));
      }
      e.info.nbytes = static_cast<uint64_t>(numel) * item;
      e.span_bytes = numel > 0 ? static_cast<uint64_t>(last - t->i + 1) * item : 0;
      source->entries_.push_back(std::move(e));
    }
    std::sort(source->entries_.begin(), source->entries_.end(),
              [](const PthEntry& a, const PthEntry& b) { return a.info.name < b.info.name; });
    for (size_t i = 0; i < source->entries_.size(); ++i) {
      if (i > 0 && source->entries_[i].info.name == source->entries_[i - 1].info.name) {
        return absl::InvalidArgumentError(
            absl::StrCat(path, ": tensor name '", source->entries_[i].info.name, "' occurs twice after flattening"));
      }
      source->infos_.push_back(source->entries_[i].info);
    }
    return std::unique_ptr<TensorSource>(std::move(source));
  }

  const std::vector<TensorInfo>& tensors() const override { return infos_; }

  absl::StatusOr<torch::Tensor> Read(std::string_view name) const override {
    const PthEntry* e = Lookup(name);
    if (e == nullptr) return absl::NotFoundError(absl::StrCat("no tensor '", std::string(name), "' in ", Describe()));
    std::shared_ptr<const MappedFile> file = file_;
    return TorchCall(absl::StrCat("reading '", std::string(name), "'"), [&]() -> torch::Tensor {
      const auto options = torch::TensorOptions().dtype(TorchScalarType(e->info.dtype));
      if (e->info.nbytes == 0) return torch::empty(e->info.shape, options);
      const int64_t item = DTypeSize(e->info.dtype);
      uint8_t* first = const_cast<uint8_t*>(file->data() + e->storage_begin + e->storage_offset * item);
      if (reinterpret_cast<uintptr_t>(first) % item != 0) {
        // Misaligned record (not written by torch.save): copy the span, then view it.
        torch::Tensor span = torch::empty({static_cast<int64_t>(e->span_bytes) / item}, options);
        std::memcpy(span.data_ptr(), first, e->span_bytes);
        return span.as_strided(e->info.shape, e->stride).contiguous();
      }
      torch::Tensor view = torch::from_blob(first, e->info.shape, e->stride, [file](void*) {}, options);
      return view.is_contiguous() ? view : view.contiguous();
    });
  }

  void Release(std::string_view name) const override {
    if (const PthEntry* e = Lookup(name)) {
      file_->Release(e->storage_begin + e->storage_offset * DTypeSize(e->info.dtype), e->span_bytes);
    }
  }

  std::string Describe() const override { return file_->path(); }

 private:
  explicit PthSource(std::shared_ptr<const MappedFile> file) : file_(std::move(file)) {}

  static std::string FirstLine(const std::string& s) { return s.substr(0, s.find('\n')); }

  const PthEntry* Lookup(std::string_view name) const {
    auto it = std::lower_bound(entries_.begin(), entries_.end(), name,
                               [](const PthEntry& e, std::string_view n) { return e.info.name < n; });
    return (it != entries_.end() && it->info.name == name) ? &*it : nullptr;
  }

  const std::shared_ptr<const MappedFile> file_;
  std::vector<PthEntry> entries_;  // sorted by name
  std::vector<TensorInfo> infos_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<TensorSource>> OpenPth(const std::string& path) { return PthSource::Create(path); }

}  // namespace videogen::io
