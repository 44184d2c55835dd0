#include "engine/synth/pth_writer.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <set>

#include <caffe2/serialize/inline_container.h>

#include "absl/strings/str_cat.h"
#include "engine/common/torch_status.h"

namespace videogen::synth {
namespace {

absl::StatusOr<const char*> StorageClass(torch::ScalarType type) {
  switch (type) {
    case torch::kFloat32: return "FloatStorage";
    case torch::kFloat16: return "HalfStorage";
    case torch::kBFloat16: return "BFloat16Storage";
    case torch::kFloat64: return "DoubleStorage";
    case torch::kInt64: return "LongStorage";
    case torch::kInt32: return "IntStorage";
    case torch::kUInt8: return "ByteStorage";
    case torch::kInt8: return "CharStorage";
    case torch::kBool: return "BoolStorage";
    default: return absl::InvalidArgumentError(absl::StrCat("unsupported dtype ", c10::toString(type)));
  }
}

// The protocol-2 opcodes torch.save emits for a state dict.
class Pickler {
 public:
  Pickler() { out_ += "\x80\x02"; }
  void Op(char c) { out_.push_back(c); }
  void Global(const std::string& module, const std::string& name) { out_ += "c" + module + "\n" + name + "\n"; }
  void Str(const std::string& s) {
    Op('X');
    const uint32_t n = static_cast<uint32_t>(s.size());
    out_.append(reinterpret_cast<const char*>(&n), 4);
    out_ += s;
  }
  void Int(int64_t v) {
    if (v >= INT32_MIN && v <= INT32_MAX) {
      const int32_t x = static_cast<int32_t>(v);
      Op('J');
      out_.append(reinterpret_cast<const char*>(&x), 4);
    } else {
      Op('\x8a');  // LONG1, 8 little-endian bytes
      Op('\x08');
      out_.append(reinterpret_cast<const char*>(&v), 8);
    }
  }
  void IntTuple(torch::IntArrayRef values) {
    Op('(');
    for (int64_t v : values) Int(v);
    Op('t');
  }
  void EmptyOrderedDict() {
    Global("collections", "OrderedDict");
    Op(')');
    Op('R');
  }
  // _rebuild_tensor_v2(persistent_load(('storage', cls, key, 'cpu', numel)), 0, size, stride, False, OrderedDict())
  void Tensor(const char* storage_class, const std::string& key, const torch::Tensor& t) {
    Tensor(storage_class, key, t.numel(), t.sizes(), t.strides());
  }
  void Tensor(const char* storage_class, const std::string& key, int64_t numel, torch::IntArrayRef sizes,
              torch::IntArrayRef strides) {
    Global("torch._utils", "_rebuild_tensor_v2");
    Op('(');
    Op('(');
    Str("storage");
    Global("torch", storage_class);
    Str(key);
    Str("cpu");
    Int(numel);
    Op('t');
    Op('Q');
    Int(0);
    IntTuple(sizes);
    IntTuple(strides);
    Op('\x89');  // NEWFALSE
    EmptyOrderedDict();
    Op('t');
    Op('R');
  }
  std::string Finish() { return out_ + "."; }

 private:
  std::string out_;
};

}  // namespace

absl::Status WritePth(const std::string& path, const std::vector<io::NamedTensor>& tensors) {
  Pickler pickle;
  pickle.EmptyOrderedDict();
  pickle.Op('(');
  std::vector<torch::Tensor> storages;
  std::set<std::string> names;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const io::NamedTensor& nt = tensors[i];
    if (!names.insert(nt.name).second) return absl::InvalidArgumentError(absl::StrCat(nt.name, ": duplicate name"));
    auto cls = StorageClass(nt.tensor.scalar_type());
    if (!cls.ok()) return absl::InvalidArgumentError(absl::StrCat(nt.name, ": ", cls.status().message()));
    const torch::Tensor t = nt.tensor.detach().to(torch::kCPU).contiguous();
    pickle.Str(nt.name);
    pickle.Tensor(*cls, std::to_string(i), t);
    storages.push_back(t);
  }
  pickle.Op('u');  // SETITEMS
  const std::string bytes = pickle.Finish();
  return TorchCall(absl::StrCat("writing ", path), [&] {
    caffe2::serialize::PyTorchStreamWriter writer(path);
    writer.writeRecord("data.pkl", bytes.data(), bytes.size());
    for (size_t i = 0; i < storages.size(); ++i) {
      const torch::Tensor& t = storages[i];
      writer.writeRecord("data/" + std::to_string(i), t.data_ptr(), t.numel() * t.element_size());
    }
    writer.writeEndOfFile();
  });
}

}  // namespace videogen::synth

namespace videogen::synth {

absl::Status WriteSparsePth(const std::string& path, const std::vector<SyntheticTensor>& tensors) {
  Pickler pickle;
  pickle.EmptyOrderedDict();
  pickle.Op('(');
  std::set<std::string> names;
  std::vector<uint64_t> sizes;
  uint64_t largest = 1;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const SyntheticTensor& t = tensors[i];
    if (!names.insert(t.name).second) return absl::InvalidArgumentError(absl::StrCat(t.name, ": duplicate name"));
    auto cls = StorageClass(io::TorchScalarType(t.dtype));
    if (!cls.ok()) return absl::InvalidArgumentError(absl::StrCat(t.name, ": ", cls.status().message()));
    std::vector<int64_t> strides(t.shape.size(), 1);
    int64_t numel = 1;
    for (size_t d = t.shape.size(); d-- > 0;) {
      strides[d] = numel;
      numel *= t.shape[d];
    }
    pickle.Str(t.name);
    pickle.Tensor(*cls, std::to_string(i), numel, t.shape, strides);
    sizes.push_back(static_cast<uint64_t>(numel * io::DTypeSize(t.dtype)));
    largest = std::max(largest, sizes.back());
  }
  pickle.Op('u');  // SETITEMS
  const std::string bytes = pickle.Finish();
  // Records are read from a never-written anonymous mapping (the kernel's
  // zero page: no memory used); the writer skips over them, leaving holes.
  void* zeros = ::mmap(nullptr, largest, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (zeros == MAP_FAILED) return absl::InternalError(absl::StrCat("mmap of ", largest, " bytes failed"));
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) {
    ::munmap(zeros, largest);
    return absl::InternalError(absl::StrCat("cannot create ", path));
  }
  const char* zero_begin = static_cast<const char*>(zeros);
  bool failed = false;
  auto write = [&](const void* buf, size_t n) -> size_t {
    const char* p = static_cast<const char*>(buf);
    if (p >= zero_begin && p + n <= zero_begin + largest) {
      if (::lseek(fd, static_cast<off_t>(n), SEEK_CUR) < 0) failed = true;
      return n;
    }
    for (size_t done = 0; done < n;) {
      const ssize_t w = ::write(fd, p + done, n - done);
      if (w <= 0) {
        failed = true;
        return done;
      }
      done += static_cast<size_t>(w);
    }
    return n;
  };
  absl::Status status = TorchCall(absl::StrCat("writing ", path), [&] {
    caffe2::serialize::PyTorchStreamWriter writer(write);
    writer.writeRecord("data.pkl", bytes.data(), bytes.size());
    for (size_t i = 0; i < sizes.size(); ++i) writer.writeRecord("data/" + std::to_string(i), zeros, sizes[i]);
    writer.writeEndOfFile();
  });
  // A trailing hole would not extend the file.
  const off_t end = ::lseek(fd, 0, SEEK_CUR);
  if (end < 0 || ::ftruncate(fd, end) != 0) failed = true;
  if (::close(fd) != 0) failed = true;
  ::munmap(zeros, largest);
  if (status.ok() && failed) status = absl::InternalError(absl::StrCat("cannot write ", path));
  return status;
}

}  // namespace videogen::synth
