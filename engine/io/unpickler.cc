#include "engine/io/unpickler.h"

#include <algorithm>
#include <cstring>
#include <iterator>
#include <map>
#include <optional>

#include "absl/strings/str_cat.h"
#include "engine/io/little_endian.h"

namespace videogen::io {

std::string KindName(const PyValue& v) {
  switch (v.kind) {
    case PyValue::Kind::kNone: return "None";
    case PyValue::Kind::kBool: return "bool";
    case PyValue::Kind::kInt: return "int";
    case PyValue::Kind::kFloat: return "float";
    case PyValue::Kind::kString: return "str";
    case PyValue::Kind::kTuple: return "tuple";
    case PyValue::Kind::kList: return "list";
    case PyValue::Kind::kDict: return "dict";
    case PyValue::Kind::kGlobal: return absl::StrCat("global ", v.s, ".", v.s2);
    case PyValue::Kind::kStorageType: return "storage type";
    case PyValue::Kind::kStorage: return "storage";
    case PyValue::Kind::kTensor: return "tensor";
    case PyValue::Kind::kOpaque: return v.s;
  }
  return "?";
}

namespace {

PyRef Make(PyValue::Kind k) { return std::make_shared<PyValue>(k); }
PyRef MakeInt(int64_t v) {
  PyRef r = Make(PyValue::Kind::kInt);
  r->i = v;
  return r;
}
PyRef MakeString(std::string s) {
  PyRef r = Make(PyValue::Kind::kString);
  r->s = std::move(s);
  return r;
}

std::optional<DType> StorageDType(const std::string& class_name) {
  static const std::pair<const char*, DType> kTypes[] = {
      {"DoubleStorage", DType::kF64}, {"FloatStorage", DType::kF32},    {"HalfStorage", DType::kF16},
      {"BFloat16Storage", DType::kBF16}, {"LongStorage", DType::kI64},  {"IntStorage", DType::kI32},
      {"ShortStorage", DType::kI16},  {"CharStorage", DType::kI8},      {"ByteStorage", DType::kU8},
      {"BoolStorage", DType::kBool},  {"UntypedStorage", DType::kU8},   {"Float8_e4m3fnStorage", DType::kF8E4M3},
      {"Float8_e5m2Storage", DType::kF8E5M2}};
  for (const auto& [name, dtype] : kTypes) {
    if (class_name == name) return dtype;
  }
  return std::nullopt;
}

// Interprets the subset of pickle protocols 2-4 that torch.save emits. Errors
// are returned as plain messages; the caller adds file and record and the code.
class PickleMachine {
 public:
  PickleMachine(const uint8_t* data, size_t size) : data_(data), size_(size) {}

  // On failure returns nullptr and sets error() / invalid() (true: well-formed
  // but not a tensor mapping; false: corrupt).
  PyRef Run() {
    while (error_.empty()) {
      if (pos_ >= size_) {
        Fail("pickle ends without STOP (truncated?)");
        break;
      }
      const size_t at = pos_;
      const uint8_t op = data_[pos_++];
      if (op == '.') {
        if (stack_.size() != 1) {
          Fail(absl::StrCat("STOP with ", stack_.size(), " values on the stack"));
          break;
        }
        return stack_.back();
      }
      Step(op, at);
    }
    return nullptr;
  }
  const std::string& error() const { return error_; }
  bool invalid() const { return invalid_; }

 private:
  using K = PyValue::Kind;

  void Fail(std::string msg) {
    if (error_.empty()) error_ = std::move(msg);
  }
  void Invalid(std::string msg) {
    if (error_.empty()) invalid_ = true;
    Fail(std::move(msg));
  }
  bool Need(size_t n) {
    if (size_ - pos_ < n) {
      Fail(absl::StrCat("pickle truncated at byte ", pos_));
      return false;
    }
    return true;
  }
  const uint8_t* Take(size_t n) {
    if (!Need(n)) return nullptr;
    const uint8_t* p = data_ + pos_;
    pos_ += n;
    return p;
  }
  std::optional<std::string> Line() {
    const void* nl = std::memchr(data_ + pos_, '\n', size_ - pos_);
    if (nl == nullptr) {
      Fail("unterminated GLOBAL");
      return std::nullopt;
    }
    const size_t end = static_cast<const uint8_t*>(nl) - data_;
    std::string s(reinterpret_cast<const char*>(data_ + pos_), end - pos_);
    pos_ = end + 1;
    return s;
  }
  PyRef Pop() {
    if (stack_.size() <= Floor()) {
      Fail("pickle stack underflow");
      return Make(K::kNone);
    }
    PyRef v = std::move(stack_.back());
    stack_.pop_back();
    return v;
  }
  size_t Floor() const { return marks_.empty() ? 0 : marks_.back(); }
  // Pops everything above the innermost mark, and the mark.
  std::vector<PyRef> PopMark() {
    if (marks_.empty()) {
      Fail("pickle uses a missing MARK");
      return {};
    }
    const size_t start = marks_.back();
    marks_.pop_back();
    std::vector<PyRef> out(std::make_move_iterator(stack_.begin() + start), std::make_move_iterator(stack_.end()));
    stack_.resize(start);
    return out;
  }
  void Push(PyRef v) { stack_.push_back(std::move(v)); }
  void PushString(const uint8_t* p, size_t n) {
    if (p != nullptr) Push(MakeString(std::string(reinterpret_cast<const char*>(p), n)));
  }
  void PushTuple(std::vector<PyRef> items) {
    PyRef t = Make(K::kTuple);
    t->items = std::move(items);
    Push(std::move(t));
  }
  void Memo(uint64_t id) {
    if (stack_.empty()) return Fail("memo PUT on an empty stack");
    memo_[id] = stack_.back();
  }
  void Get(uint64_t id) {
    auto it = memo_.find(id);
    if (it == memo_.end()) return Fail(absl::StrCat("memo GET of unknown id ", id));
    Push(it->second);
  }
  void SetItems(const PyRef& target, std::vector<PyRef> kv) {
    if (target->kind != K::kDict) return Invalid(absl::StrCat("SETITEM on a ", KindName(*target)));
    if (kv.size() % 2 != 0) return Fail("SETITEMS with an odd number of values");
    for (size_t i = 0; i < kv.size(); i += 2) {
      auto& d = target->dict;
      auto same = [&](const std::pair<PyRef, PyRef>& e) {
        return e.first->kind == kv[i]->kind && e.first->s == kv[i]->s && e.first->i == kv[i]->i;
      };
      auto it = std::find_if(d.begin(), d.end(), same);
      if (it != d.end()) {
        it->second = kv[i + 1];
      } else {
        d.emplace_back(kv[i], kv[i + 1]);
      }
    }
  }
  void Global(std::string module, std::string name) {
    if (module == "torch") {
      if (auto dtype = StorageDType(name)) {
        PyRef t = Make(K::kStorageType);
        t->dtype = *dtype;
        t->s2 = name;
        return Push(std::move(t));
      }
    }
    PyRef g = Make(K::kGlobal);
    g->s = std::move(module);
    g->s2 = std::move(name);
    Push(std::move(g));
  }

  static bool IntTuple(const PyValue& v, std::vector<int64_t>* out) {
    if (v.kind != K::kTuple && v.kind != K::kList) return false;
    out->clear();
    for (const PyRef& e : v.items) {
      if (e->kind != K::kInt) return false;
      out->push_back(e->i);
    }
    return true;
  }

  // The result of calling global `fn` with `args`.
  PyRef Call(const PyRef& fn, const PyRef& args, int depth = 0) {
    if (args->kind != K::kTuple) {
      Fail("REDUCE arguments are not a tuple");
      return Make(K::kNone);
    }
    const auto& a = args->items;
    if (fn->kind == K::kGlobal) {
      const std::string& m = fn->s;
      const std::string& n = fn->s2;
      if (m == "collections" && n == "OrderedDict") {
        PyRef d = Make(K::kDict);
        if (!a.empty()) {  // OrderedDict([(k, v), ...])
          if (a[0]->kind != K::kList && a[0]->kind != K::kTuple) {
            Invalid("OrderedDict() of a non-sequence");
            return d;
          }
          std::vector<PyRef> kv;
          for (const PyRef& pair : a[0]->items) {
            if (pair->kind != K::kTuple || pair->items.size() != 2) {
              Invalid("OrderedDict() item is not a pair");
              return d;
            }
            kv.push_back(pair->items[0]);
            kv.push_back(pair->items[1]);
          }
          SetItems(d, std::move(kv));
        }
        return d;
      }
      if (m == "torch._utils" && (n == "_rebuild_tensor_v2" || n == "_rebuild_tensor")) {
        PyRef t = Make(K::kTensor);
        if (a.size() < 4 || a[0]->kind != K::kStorage || a[1]->kind != K::kInt || !IntTuple(*a[2], &t->size) ||
            !IntTuple(*a[3], &t->stride) || t->size.size() != t->stride.size()) {
          Fail(absl::StrCat(n, " with malformed arguments"));
          return t;
        }
        t->items = {a[0]};
        t->i = a[1]->i;
        return t;
      }
      if (m == "torch._utils" && (n == "_rebuild_parameter" || n == "_rebuild_parameter_with_state")) {
        if (a.empty() || a[0]->kind != K::kTensor) {
          Fail(absl::StrCat(n, " of a non-tensor"));
          return Make(K::kNone);
        }
        return a[0];
      }
      if (m == "torch._tensor" && n == "_rebuild_from_type_v2" && depth == 0) {
        // (func, new_type, args, state): a tensor subclass; keep the plain tensor.
        if (a.size() < 3) {
          Fail("_rebuild_from_type_v2 with malformed arguments");
          return Make(K::kNone);
        }
        return Call(a[0], a[2], depth + 1);
      }
    }
    PyRef o = Make(K::kOpaque);
    o->s = fn->kind == K::kGlobal ? absl::StrCat(fn->s, ".", fn->s2, "(...)") : absl::StrCat("call of ", KindName(*fn));
    return o;
  }

  PyRef PersistentLoad(const PyRef& pid) {
    const auto& a = pid->items;
    if (pid->kind != K::kTuple || a.size() < 5 || a[0]->kind != K::kString || a[0]->s != "storage" ||
        a[2]->kind != K::kString || a[4]->kind != K::kInt || a[4]->i < 0) {
      Fail("unsupported persistent id (expected ('storage', type, key, location, numel))");
      return Make(K::kNone);
    }
    if (a[1]->kind != K::kStorageType) {
      Invalid(absl::StrCat("storage '", a[2]->s, "' has unsupported type ", KindName(*a[1])));
      return Make(K::kNone);
    }
    PyRef s = Make(K::kStorage);
    s->dtype = a[1]->dtype;
    s->s = a[2]->s;
    s->i = a[4]->i;
    return s;
  }

  void Step(uint8_t op, size_t at) {
    switch (op) {
      case 0x80: Take(1); break;                                  // PROTO
      case 0x95: Take(8); break;                                  // FRAME
      case '(': marks_.push_back(stack_.size()); break;           // MARK
      case '0': Pop(); break;                                     // POP
      case '1': PopMark(); break;                                 // POP_MARK
      case '2':                                                   // DUP
        if (stack_.empty()) return Fail("DUP on an empty stack");
        Push(stack_.back());
        break;
      case 'N': Push(Make(K::kNone)); break;
      case 0x88: case 0x89: {                                     // NEWTRUE, NEWFALSE
        PyRef b = Make(K::kBool);
        b->i = op == 0x88;
        Push(std::move(b));
        break;
      }
      case 'K': if (const uint8_t* p = Take(1)) Push(MakeInt(p[0])); break;
      case 'M': if (const uint8_t* p = Take(2)) Push(MakeInt(Le16(p))); break;
      case 'J': if (const uint8_t* p = Take(4)) Push(MakeInt(static_cast<int32_t>(Le32(p)))); break;
      case 0x8a: {                                                // LONG1
        const uint8_t* n = Take(1);
        if (n == nullptr) return;
        if (n[0] > 8) return Fail("LONG1 wider than 64 bits");
        const uint8_t* p = Take(n[0]);
        if (p == nullptr) return;
        uint64_t v = 0;
        for (int k = n[0] - 1; k >= 0; --k) v = (v << 8) | p[k];
        if (n[0] > 0 && n[0] < 8 && (p[n[0] - 1] & 0x80) != 0) v |= ~uint64_t{0} << (8 * n[0]);  // sign-extend
        Push(MakeInt(static_cast<int64_t>(v)));
        break;
      }
      case 'G': {                                                 // BINFLOAT (big endian)
        const uint8_t* p = Take(8);
        if (p == nullptr) return;
        uint64_t bits = 0;
        for (int k = 0; k < 8; ++k) bits = (bits << 8) | p[k];
        PyRef f = Make(K::kFloat);
        std::memcpy(&f->f, &bits, 8);
        Push(std::move(f));
        break;
      }
      case 'X': case 'B': {                                       // BINUNICODE, BINBYTES
        const uint8_t* n = Take(4);
        if (n != nullptr) PushString(Take(Le32(n)), Le32(n));
        break;
      }
      case 0x8c: case 'C': case 'U': {                            // SHORT_BINUNICODE, SHORT_BINBYTES, SHORT_BINSTRING
        const uint8_t* n = Take(1);
        if (n != nullptr) PushString(Take(n[0]), n[0]);
        break;
      }
      case 'T': {                                                 // BINSTRING
        const uint8_t* n = Take(4);
        if (n != nullptr) PushString(Take(Le32(n)), Le32(n));
        break;
      }
      case 0x8d: case 0x8e: {                                     // BINUNICODE8, BINBYTES8
        const uint8_t* n = Take(8);
        if (n == nullptr) return;
        if (Le64(n) > size_) return Fail("string longer than the pickle");
        PushString(Take(Le64(n)), Le64(n));
        break;
      }
      case ')': PushTuple({}); break;
      case 't': PushTuple(PopMark()); break;
      case 0x85: case 0x86: case 0x87: {                          // TUPLE1..3
        const size_t n = op - 0x84;
        if (stack_.size() < Floor() + n) return Fail("TUPLEn on a short stack");
        std::vector<PyRef> items(stack_.end() - n, stack_.end());
        stack_.resize(stack_.size() - n);
        PushTuple(std::move(items));
        break;
      }
      case ']': Push(Make(K::kList)); break;
      case 'l': {
        PyRef l = Make(K::kList);
        l->items = PopMark();
        Push(std::move(l));
        break;
      }
      case 'a': case 'e': {                                       // APPEND, APPENDS
        std::vector<PyRef> items;
        if (op == 'a') {
          items.push_back(Pop());
        } else {
          items = PopMark();
        }
        if (stack_.empty()) return Fail("APPEND without a list");
        PyRef& list = stack_.back();
        if (list->kind != K::kList) return Invalid(absl::StrCat("APPEND to a ", KindName(*list)));
        for (PyRef& v : items) list->items.push_back(std::move(v));
        break;
      }
      case '}': Push(Make(K::kDict)); break;
      case 'd': {
        PyRef d = Make(K::kDict);
        SetItems(d, PopMark());
        Push(std::move(d));
        break;
      }
      case 's': case 'u': {                                       // SETITEM, SETITEMS
        std::vector<PyRef> kv;
        if (op == 's') {
          PyRef v = Pop();
          PyRef k = Pop();
          kv = {std::move(k), std::move(v)};
        } else {
          kv = PopMark();
        }
        if (stack_.empty()) return Fail("SETITEM without a dict");
        SetItems(stack_.back(), std::move(kv));
        break;
      }
      case 'q': if (const uint8_t* p = Take(1)) Memo(p[0]); break;   // BINPUT
      case 'r': if (const uint8_t* p = Take(4)) Memo(Le32(p)); break;  // LONG_BINPUT
      case 0x94: Memo(memo_.size()); break;                          // MEMOIZE
      case 'h': if (const uint8_t* p = Take(1)) Get(p[0]); break;    // BINGET
      case 'j': if (const uint8_t* p = Take(4)) Get(Le32(p)); break; // LONG_BINGET
      case 'c': {                                                 // GLOBAL
        auto module = Line();
        if (!module) return;
        auto name = Line();
        if (!name) return;
        Global(std::move(*module), std::move(*name));
        break;
      }
      case 0x93: {                                                // STACK_GLOBAL
        PyRef name = Pop();
        PyRef module = Pop();
        if (module->kind != K::kString || name->kind != K::kString) return Fail("STACK_GLOBAL of non-strings");
        Global(module->s, name->s);
        break;
      }
      case 'R': {                                                 // REDUCE
        PyRef args = Pop();
        PyRef fn = Pop();
        if (error_.empty()) Push(Call(fn, args));
        break;
      }
      case 0x81: {                                                // NEWOBJ: cls.__new__(cls, *args)
        Pop();
        PyRef cls = Pop();
        PyRef o = Make(K::kOpaque);
        o->s = cls->kind == K::kGlobal ? absl::StrCat(cls->s, ".", cls->s2, " object") : "object";
        Push(std::move(o));
        break;
      }
      case 'b': {                                                 // BUILD: state of dicts/tensors is ignored
        Pop();
        if (stack_.empty()) return Fail("BUILD without an object");
        break;
      }
      case 'Q': {                                                 // BINPERSID
        PyRef pid = Pop();
        if (error_.empty()) Push(PersistentLoad(pid));
        break;
      }
      default:
        Fail(absl::StrCat("unsupported pickle opcode 0x", absl::Hex(op), " at byte ", at));
    }
  }

  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
  std::vector<PyRef> stack_;
  std::vector<size_t> marks_;
  std::map<uint64_t, PyRef> memo_;
  std::string error_;
  bool invalid_ = false;
};

}  // namespace

absl::StatusOr<PyRef> Unpickle(const uint8_t* data, size_t size) {
  PickleMachine machine(data, size);
  PyRef root = machine.Run();
  if (root != nullptr) return root;
  if (machine.invalid()) return absl::InvalidArgumentError(machine.error());
  return absl::DataLossError(machine.error());
}

}  // namespace videogen::io
