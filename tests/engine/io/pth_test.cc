#include "engine/io/pth.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <caffe2/serialize/inline_container.h>
#include <gtest/gtest.h>

#include "engine/io/safetensors.h"

namespace videogen::io {
namespace {

namespace fs = std::filesystem;

std::string Golden(const std::string& rel) {
  const char* dir = std::getenv("VIDEOGEN_GOLDEN_DIR");
  return (fs::path(dir != nullptr && *dir != '\0' ? dir : "../shared/golden") / rel).string();
}

// Writes the protocol-2 opcodes torch.save emits, for hand-made checkpoints.
class PickleWriter {
 public:
  PickleWriter() { out_ += "\x80\x02"; }
  PickleWriter& Op(char c) { out_.push_back(c); return *this; }
  PickleWriter& Mark() { return Op('('); }
  PickleWriter& Global(const std::string& module, const std::string& name) {
    out_ += "c" + module + "\n" + name + "\n";
    return *this;
  }
  PickleWriter& Str(const std::string& s) {
    Op('X');
    const uint32_t n = static_cast<uint32_t>(s.size());
    out_.append(reinterpret_cast<const char*>(&n), 4);
    out_ += s;
    return *this;
  }
  PickleWriter& Int(int32_t v) {
    Op('J');
    out_.append(reinterpret_cast<const char*>(&v), 4);
    return *this;
  }
  PickleWriter& IntTuple(const std::vector<int32_t>& v) {
    Mark();
    for (int32_t x : v) Int(x);
    return Op('t');
  }
  PickleWriter& EmptyOrderedDict() { return Global("collections", "OrderedDict").Op(')').Op('R'); }
  // _rebuild_tensor_v2(storage(key, numel), offset, size, stride, False, OrderedDict())
  PickleWriter& Tensor(const std::string& storage_class, const std::string& key, int32_t numel, int32_t offset,
                       const std::vector<int32_t>& size, const std::vector<int32_t>& stride) {
    Global("torch._utils", "_rebuild_tensor_v2").Mark();
    Mark().Str("storage").Global("torch", storage_class).Str(key).Str("cpu").Int(numel).Op('t').Op('Q');
    Int(offset).IntTuple(size).IntTuple(stride).Op('\x89').EmptyOrderedDict();
    return Op('t').Op('R');
  }
  std::string Finish() { return out_ + "."; }

 private:
  std::string out_;
};

class PthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("vg_pth_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Path(const std::string& name) const { return (dir_ / name).string(); }

  // A torch.save-style zip holding `pickle` and the given storage records.
  std::string WriteZip(const std::string& name, const std::string& pickle,
                       const std::vector<std::pair<std::string, at::Tensor>>& records, bool compress = false) {
    const std::string path = Path(name);
    caffe2::serialize::PyTorchStreamWriter writer(path);
    writer.writeRecord("data.pkl", pickle.data(), pickle.size());
    for (const auto& [key, t] : records) {
      writer.writeRecord("data/" + key, t.data_ptr(), t.numel() * t.element_size(), compress);
    }
    writer.writeEndOfFile();
    return path;
  }

  fs::path dir_;
};

void ExpectSameAsSafetensors(const std::string& pth, const std::string& safetensors) {
  auto a = OpenPth(pth);
  ASSERT_TRUE(a.ok()) << a.status();
  auto b = OpenSafetensors(safetensors);
  ASSERT_TRUE(b.ok()) << b.status();
  ASSERT_EQ((*a)->tensors().size(), (*b)->tensors().size());
  for (size_t i = 0; i < (*a)->tensors().size(); ++i) {
    const TensorInfo& ia = (*a)->tensors()[i];
    const TensorInfo& ib = (*b)->tensors()[i];
    ASSERT_EQ(ia.name, ib.name);
    EXPECT_EQ(ia.dtype, ib.dtype) << ia.name;
    EXPECT_EQ(ia.shape, ib.shape) << ia.name;
    EXPECT_EQ(ia.nbytes, ib.nbytes) << ia.name;
    EXPECT_EQ(ia.file, pth);
    auto ta = (*a)->Read(ia.name);
    auto tb = (*b)->Read(ib.name);
    ASSERT_TRUE(ta.ok() && tb.ok()) << ia.name;
    EXPECT_TRUE(at::equal(*ta, *tb)) << ia.name;
  }
}

TEST_F(PthTest, T5WeightsEqualSafetensors) {
  ExpectSameAsSafetensors(Golden("t5_encoder/weights.pth"), Golden("t5_encoder/weights.safetensors"));
}

TEST_F(PthTest, VaeWeightsEqualSafetensors) {
  ExpectSameAsSafetensors(Golden("vae_encode/weights.pth"), Golden("vae_encode/weights.safetensors"));
}

TEST_F(PthTest, ClipWeightsEqualSafetensors) {
  ExpectSameAsSafetensors(Golden("clip_visual/weights.pth"), Golden("clip_visual/weights.safetensors"));
}

TEST_F(PthTest, Bf16WeightsAreRoundedFp32) {
  auto bf16 = OpenPth(Golden("t5_encoder/weights_bf16.pth"));
  ASSERT_TRUE(bf16.ok()) << bf16.status();
  auto fp32 = OpenSafetensors(Golden("t5_encoder/weights.safetensors"));
  ASSERT_TRUE(fp32.ok()) << fp32.status();
  ASSERT_EQ((*bf16)->tensors().size(), (*fp32)->tensors().size());
  for (const TensorInfo& info : (*fp32)->tensors()) {
    const TensorInfo* b = (*bf16)->Find(info.name);
    ASSERT_NE(b, nullptr) << info.name;
    EXPECT_EQ(b->dtype, DType::kBF16);
    auto tb = (*bf16)->Read(info.name);
    ASSERT_TRUE(tb.ok()) << tb.status();
    EXPECT_EQ(tb->scalar_type(), at::kBFloat16);
    EXPECT_TRUE(at::equal(*tb, (*fp32)->Read(info.name)->to(at::kBFloat16))) << info.name;
  }
}

// [begin, end) of the mappings of `path` in this process.
std::vector<std::pair<uintptr_t, uintptr_t>> MappingsOf(const std::string& path) {
  const std::string canonical = fs::canonical(path).string();
  std::ifstream maps("/proc/self/maps");
  std::vector<std::pair<uintptr_t, uintptr_t>> out;
  for (std::string line; std::getline(maps, line);) {
    if (line.size() < canonical.size() || line.compare(line.size() - canonical.size(), canonical.size(), canonical) != 0) {
      continue;
    }
    std::istringstream in(line);
    std::string range;
    in >> range;
    const size_t dash = range.find('-');
    out.emplace_back(std::stoull(range.substr(0, dash), nullptr, 16), std::stoull(range.substr(dash + 1), nullptr, 16));
  }
  return out;
}

TEST_F(PthTest, TensorsAreViewsIntoTheFileMapping) {
  const std::string path = Golden("vae_encode/weights.pth");
  auto src = OpenPth(path);
  ASSERT_TRUE(src.ok()) << src.status();
  const auto maps = MappingsOf(path);
  ASSERT_FALSE(maps.empty()) << "the file is not mapped";
  for (const TensorInfo& info : (*src)->tensors()) {
    auto t = (*src)->Read(info.name);
    ASSERT_TRUE(t.ok());
    const auto p = reinterpret_cast<uintptr_t>(t->data_ptr());
    bool inside = false;
    for (const auto& [b, e] : maps) inside = inside || (p >= b && p + info.nbytes <= e);
    EXPECT_TRUE(inside) << info.name << " was copied out of the mapping";
    (*src)->Release(info.name);
  }
}

TEST_F(PthTest, SharedStoragesViewsNestingAndParameters) {
  // Storage "0": 12 floats 0..11, shared by a [3, 4] tensor, its rows 1..2 (a
  // contiguous view at offset 4), a strided [2, 2] view at offset 5 and its
  // transpose; storage "1" holds 4 halfs.
  const at::Tensor s0 = at::arange(12, at::kFloat);
  const at::Tensor s1 = at::arange(4, at::kFloat).to(at::kHalf);
  PickleWriter w;
  w.EmptyOrderedDict().Mark();
  w.Str("full").Tensor("FloatStorage", "0", 12, 0, {3, 4}, {4, 1});
  w.Str("rows").Tensor("FloatStorage", "0", 12, 4, {2, 4}, {4, 1});
  w.Str("view").Tensor("FloatStorage", "0", 12, 5, {2, 2}, {4, 1});
  w.Str("transposed").Tensor("FloatStorage", "0", 12, 0, {4, 3}, {1, 4});
  w.Str("sub").Op('}').Mark();
  w.Str("half").Tensor("HalfStorage", "1", 4, 0, {4}, {1});
  w.Str("param").Global("torch._utils", "_rebuild_parameter").Mark();
  w.Tensor("FloatStorage", "0", 12, 11, {}, {}).Op('\x88').EmptyOrderedDict().Op('t').Op('R');
  w.Op('u').Op('u');
  // state_dict's _metadata, restored through BUILD.
  w.Op('}').Str("_metadata").EmptyOrderedDict().Op('s').Op('b');
  const std::string path = WriteZip("views.pth", w.Finish(), {{"0", s0}, {"1", s1}});

  auto src = OpenPth(path);
  ASSERT_TRUE(src.ok()) << src.status();
  std::vector<std::string> names;
  for (const TensorInfo& t : (*src)->tensors()) names.push_back(t.name);
  EXPECT_EQ(names, (std::vector<std::string>{"full", "rows", "sub.half", "sub.param", "transposed", "view"}));
  const at::Tensor full = *(*src)->Read("full");
  const at::Tensor rows = *(*src)->Read("rows");
  EXPECT_TRUE(at::equal(full, s0.reshape({3, 4})));
  EXPECT_TRUE(at::equal(rows, s0.reshape({3, 4}).slice(0, 1, 3)));
  EXPECT_EQ(rows.data_ptr<float>(), full.data_ptr<float>() + 4);  // one shared storage, no copies
  const at::Tensor view = *(*src)->Read("view");
  EXPECT_TRUE(view.is_contiguous());
  EXPECT_TRUE(at::equal(view, s0.reshape({3, 4}).slice(0, 1, 3).slice(1, 1, 3)));
  EXPECT_EQ((*src)->Find("view")->nbytes, 16u);
  const at::Tensor transposed = *(*src)->Read("transposed");
  EXPECT_TRUE(transposed.is_contiguous());
  EXPECT_TRUE(at::equal(transposed, s0.reshape({3, 4}).t()));
  EXPECT_TRUE(at::equal(*(*src)->Read("sub.half"), s1));
  EXPECT_EQ((*src)->Find("sub.half")->dtype, DType::kF16);
  EXPECT_EQ((*src)->Read("sub.param")->item<float>(), 11.0f);
  EXPECT_EQ((*src)->Read("missing").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(PthTest, NonTensorValueIsInvalidArgumentNamingTheKey) {
  PickleWriter w;
  w.Op('}').Mark().Str("weight").Tensor("FloatStorage", "0", 2, 0, {2}, {1});
  w.Str("epoch").Int(3).Op('u');
  const std::string path = WriteZip("epoch.pth", w.Finish(), {{"0", at::ones({2})}});
  auto src = OpenPth(path);
  EXPECT_EQ(src.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(src.status().message()).find("'epoch'"), std::string::npos) << src.status();
}

TEST_F(PthTest, UnknownGlobalIsInvalidArgumentNamingIt) {
  PickleWriter w;
  w.Op('}').Str("model").Global("mymodule", "MyModel").Op(')').Op('R').Op('s');
  auto src = OpenPth(WriteZip("model.pth", w.Finish(), {}));
  EXPECT_EQ(src.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(src.status().message()).find("mymodule.MyModel"), std::string::npos) << src.status();
}

TEST_F(PthTest, RootThatIsNotAMappingIsInvalidArgument) {
  PickleWriter w;
  w.Mark().Tensor("FloatStorage", "0", 2, 0, {2}, {1}).Op('l');
  auto src = OpenPth(WriteZip("list.pth", w.Finish(), {{"0", at::ones({2})}}));
  EXPECT_EQ(src.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(src.status().message()).find("list"), std::string::npos) << src.status();
}

TEST_F(PthTest, ViewBeyondItsStorageIsDataLoss) {
  PickleWriter w;
  w.Op('}').Str("w").Tensor("FloatStorage", "0", 4, 2, {3}, {1}).Op('s');
  auto src = OpenPth(WriteZip("short.pth", w.Finish(), {{"0", at::ones({4})}}));
  EXPECT_EQ(src.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(std::string(src.status().message()).find("'w'"), std::string::npos) << src.status();
}

TEST_F(PthTest, StorageLargerThanItsRecordIsDataLoss) {
  PickleWriter w;
  w.Op('}').Str("w").Tensor("FloatStorage", "0", 8, 0, {8}, {1}).Op('s');
  auto src = OpenPth(WriteZip("small_record.pth", w.Finish(), {{"0", at::ones({4})}}));
  EXPECT_EQ(src.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(std::string(src.status().message()).find("data/0"), std::string::npos) << src.status();
}

TEST_F(PthTest, MissingStorageRecordIsDataLossNamingIt) {
  PickleWriter w;
  w.Op('}').Str("w").Tensor("FloatStorage", "7", 2, 0, {2}, {1}).Op('s');
  const std::string path = WriteZip("no_record.pth", w.Finish(), {});
  auto src = OpenPth(path);
  EXPECT_EQ(src.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(std::string(src.status().message()).find("data/7"), std::string::npos) << src.status();
  EXPECT_NE(std::string(src.status().message()).find(path), std::string::npos) << src.status();
}

TEST_F(PthTest, CompressedStorageRecordIsInvalidArgument) {
  PickleWriter w;
  w.Op('}').Str("w").Tensor("FloatStorage", "0", 4096, 0, {4096}, {1}).Op('s');
  auto src = OpenPth(WriteZip("deflated.pth", w.Finish(), {{"0", at::zeros({4096})}}, /*compress=*/true));
  EXPECT_EQ(src.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(src.status().message()).find("compressed"), std::string::npos) << src.status();
}

// fuzz_pth: data.pkl's central record says 0xFFFFFFFF bytes (the zip64
// marker) without a zip64 field. LibTorch's reader took that as 4 GiB to
// allocate; the directory is refused first, as DataLoss naming the file.
TEST_F(PthTest, Zip64SizeMarkerWithoutItsFieldIsDataLossBeforeAnyAllocation) {
  PickleWriter w;
  w.Op('}');
  const std::string path = WriteZip("marker.pth", w.Finish(), {});
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  const size_t record = bytes.find(std::string("PK\x01\x02", 4));
  ASSERT_NE(record, std::string::npos);
  ASSERT_NE(bytes.find("data.pkl", record), std::string::npos);
  bytes.replace(record + 24, 4, std::string(4, '\xff'));  // uncompressed size
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  auto src = OpenPth(path);
  EXPECT_EQ(src.status().code(), absl::StatusCode::kDataLoss) << src.status();
  EXPECT_NE(std::string(src.status().message()).find(path), std::string::npos) << src.status();
  EXPECT_NE(std::string(src.status().message()).find("zip64"), std::string::npos) << src.status();
}

TEST_F(PthTest, TruncatedFileIsDataLossNamingIt) {
  const std::string original = Golden("t5_encoder/weights.pth");
  const auto size = fs::file_size(original);
  for (const uintmax_t keep : {size / 2, size - 10, uintmax_t{100}}) {
    const std::string path = Path("truncated_" + std::to_string(keep) + ".pth");
    fs::copy_file(original, path);
    fs::resize_file(path, keep);
    auto src = OpenPth(path);
    EXPECT_EQ(src.status().code(), absl::StatusCode::kDataLoss) << keep << ": " << src.status();
    EXPECT_NE(std::string(src.status().message()).find(path), std::string::npos) << src.status();
  }
}

TEST_F(PthTest, GarbageFileIsDataLossNamingIt) {
  const std::string path = Path("garbage.pth");
  {
    std::ofstream out(path, std::ios::binary);
    for (int i = 0; i < 4096; ++i) out.put(static_cast<char>((i * 7919) % 251));
  }
  auto src = OpenPth(path);
  EXPECT_EQ(src.status().code(), absl::StatusCode::kDataLoss) << src.status();
  EXPECT_NE(std::string(src.status().message()).find(path), std::string::npos) << src.status();

  const std::string empty = Path("empty.pth");
  std::ofstream(empty).close();
  EXPECT_EQ(OpenPth(empty).status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(PthTest, CorruptPickleIsDataLossNamingTheRecord) {
  PickleWriter w;
  w.Op('}').Str("w").Op('s');  // SETITEM with a missing value, then an unterminated stream
  std::string pickle = w.Finish();
  pickle.pop_back();
  auto src = OpenPth(WriteZip("bad_pickle.pth", pickle, {}));
  EXPECT_EQ(src.status().code(), absl::StatusCode::kDataLoss) << src.status();
  EXPECT_NE(std::string(src.status().message()).find("data.pkl"), std::string::npos) << src.status();
}

TEST_F(PthTest, MissingFileIsNotFound) {
  EXPECT_EQ(OpenPth(Path("nope.pth")).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(OpenCheckpoint(Path("nope.pth")).status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace videogen::io
