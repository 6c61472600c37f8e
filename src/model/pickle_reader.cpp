#include "model/pickle_reader.hpp"

#include <cstring>
#include <deque>
#include <unordered_map>
#include <vector>

#include "util/error.hpp"

namespace lmac {
namespace {

enum class Global { reconstruct, ndarray, dtype, jax_reconstruct_array };

// One Python object. Values live in an arena owned by the unpickler and refer to each other by pointer, so
// that shared (memoised) and even cyclic structures cost nothing to build or to free.
struct Value {
  enum class Kind { none, boolean, integer, floating, string, bytes, tuple, list, dict, global, dtype, array };
  Kind kind = Kind::none;
  int64_t integer = 0;
  double number = 0;
  ByteView raw;                // string or bytes contents: a view into the input, never copied
  std::vector<Value*> items;   // tuple / list elements; a dict as key, value, key, value, ...
  Global global = Global::ndarray;
  NpyDType dtype;              // for Kind::dtype
  // Kind::array: filled by BUILD.
  bool built = false;
  std::vector<int64_t> shape;
  NpyDType array_dtype;
  Value* data = nullptr;       // bytes (numeric arrays) or list (object arrays)
};

const char* kind_name(Value::Kind k) {
  switch (k) {
    case Value::Kind::none: return "None";
    case Value::Kind::boolean: return "bool";
    case Value::Kind::integer: return "int";
    case Value::Kind::floating: return "float";
    case Value::Kind::string: return "str";
    case Value::Kind::bytes: return "bytes";
    case Value::Kind::tuple: return "tuple";
    case Value::Kind::list: return "list";
    case Value::Kind::dict: return "dict";
    case Value::Kind::global: return "global";
    case Value::Kind::dtype: return "numpy.dtype";
    case Value::Kind::array: return "numpy.ndarray";
  }
  return "?";
}

std::string_view text(const Value* v) { return {reinterpret_cast<const char*>(v->raw.data()), v->raw.size()}; }

class Unpickler {
 public:
  Unpickler(ByteView in, const std::string& where) : in_(in), where_(where) {}

  Value* run() {
    for (;;) {
      op_start_ = pos_;
      uint8_t op = read_u8();
      switch (op) {
        case 0x80: {  // PROTO
          uint8_t version = read_u8();
          if (version > 5) fail("unsupported pickle protocol {}", version);
          break;
        }
        case 0x95: read_bytes(8); break;  // FRAME: a hint for buffered readers, nothing to do
        case '.': {                       // STOP
          Value* v = pop();
          return v;
        }
        case '(': marks_.push_back(stack_.size()); break;
        case '0':  // POP
          if (!marks_.empty() && marks_.back() == stack_.size()) marks_.pop_back();
          else pop();
          break;
        case '1': pop_mark(); break;  // POP_MARK
        case '2': push(top()); break;  // DUP
        case 'N': push(make(Value::Kind::none)); break;
        case 0x88: push(make_int(Value::Kind::boolean, 1)); break;
        case 0x89: push(make_int(Value::Kind::boolean, 0)); break;
        case 'K': push(make_int(Value::Kind::integer, read_u8())); break;
        case 'M': push(make_int(Value::Kind::integer, read_le(2))); break;
        case 'J': push(make_int(Value::Kind::integer, int32_t(uint32_t(read_le(4))))); break;
        case 0x8a: {  // LONG1: little-endian two's complement of n bytes
          size_t n = read_u8();
          if (n > 8) fail("integer of {} bytes is too large", n);
          uint64_t v = n ? read_le(n) : 0;
          if (n > 0 && n < 8 && (v >> (8 * n - 1)) & 1) v |= ~uint64_t(0) << (8 * n);  // sign-extend
          push(make_int(Value::Kind::integer, int64_t(v)));
          break;
        }
        case 'G': {  // BINFLOAT, big-endian
          ByteView b = read_bytes(8);
          uint64_t bits = 0;
          for (uint8_t c : b) bits = bits << 8 | c;
          Value* v = make(Value::Kind::floating);
          std::memcpy(&v->number, &bits, 8);
          push(v);
          break;
        }
        case 0x8c: push_raw(Value::Kind::string, read_u8()); break;       // SHORT_BINUNICODE
        case 'X': push_raw(Value::Kind::string, read_le(4)); break;       // BINUNICODE
        case 0x8d: push_raw(Value::Kind::string, read_le(8)); break;      // BINUNICODE8
        case 'U': push_raw(Value::Kind::string, read_u8()); break;        // SHORT_BINSTRING (Python 2 str)
        case 'T': push_raw(Value::Kind::string, read_le(4)); break;       // BINSTRING
        case 'C': push_raw(Value::Kind::bytes, read_u8()); break;         // SHORT_BINBYTES
        case 'B': push_raw(Value::Kind::bytes, read_le(4)); break;        // BINBYTES
        case 0x8e: push_raw(Value::Kind::bytes, read_le(8)); break;       // BINBYTES8
        case 0x96: push_raw(Value::Kind::bytes, read_le(8)); break;       // BYTEARRAY8
        case ')': push(make(Value::Kind::tuple)); break;
        case 't': push(collect(Value::Kind::tuple, pop_mark())); break;
        case 0x85: push(collect(Value::Kind::tuple, pop_n(1))); break;
        case 0x86: push(collect(Value::Kind::tuple, pop_n(2))); break;
        case 0x87: push(collect(Value::Kind::tuple, pop_n(3))); break;
        case ']': push(make(Value::Kind::list)); break;
        case 'l': push(collect(Value::Kind::list, pop_mark())); break;
        case 'a': {  // APPEND
          Value* item = pop();
          expect_kind(top(), Value::Kind::list, "APPEND")->items.push_back(item);
          break;
        }
        case 'e': {  // APPENDS
          std::vector<Value*> items = pop_mark();
          Value* list = expect_kind(top(), Value::Kind::list, "APPENDS");
          list->items.insert(list->items.end(), items.begin(), items.end());
          break;
        }
        case '}': push(make(Value::Kind::dict)); break;
        case 'd': {  // DICT
          std::vector<Value*> items = pop_mark();
          if (items.size() % 2) fail("DICT with an odd number of items");
          push(collect(Value::Kind::dict, std::move(items)));
          break;
        }
        case 's': {  // SETITEM
          Value* value = pop();
          Value* key = pop();
          Value* dict = expect_kind(top(), Value::Kind::dict, "SETITEM");
          dict->items.push_back(key);
          dict->items.push_back(value);
          break;
        }
        case 'u': {  // SETITEMS
          std::vector<Value*> items = pop_mark();
          if (items.size() % 2) fail("SETITEMS with an odd number of items");
          Value* dict = expect_kind(top(), Value::Kind::dict, "SETITEMS");
          dict->items.insert(dict->items.end(), items.begin(), items.end());
          break;
        }
        case 'q': memo_[read_u8()] = top(); break;               // BINPUT
        case 'r': memo_[read_le(4)] = top(); break;              // LONG_BINPUT
        case 0x94: memo_[memo_.size()] = top(); break;           // MEMOIZE
        case 'h': push(memo_get(read_u8())); break;              // BINGET
        case 'j': push(memo_get(read_le(4))); break;             // LONG_BINGET
        case 'c': {  // GLOBAL "module\nname\n"
          std::string module = read_line();
          std::string name = read_line();
          push(resolve_global(module, name));
          break;
        }
        case 0x93: {  // STACK_GLOBAL
          Value* name = pop();
          Value* module = pop();
          if (module->kind != Value::Kind::string || name->kind != Value::Kind::string) {
            fail("STACK_GLOBAL needs two strings");
          }
          push(resolve_global(std::string(text(module)), std::string(text(name))));
          break;
        }
        case 'R': {  // REDUCE
          Value* args = pop();
          Value* callable = pop();
          push(reduce(callable, args));
          break;
        }
        case 'b': {  // BUILD
          Value* state = pop();
          build(top(), state);
          break;
        }
        default:
          fail("unsupported pickle opcode 0x{:02x}", op);
      }
    }
  }

 private:
  template <typename... Args>
  [[noreturn]] void fail(fmt::format_string<Args...> format, Args&&... args) {
    throw_error(ErrorCode::bad_model, "{}: {} (pickle byte {})", where_,
                fmt::format(format, std::forward<Args>(args)...), op_start_);
  }

  // --- input
  uint8_t read_u8() {
    if (pos_ >= in_.size()) fail("truncated pickle");
    return in_[pos_++];
  }
  uint64_t read_le(size_t n) {
    ByteView b = read_bytes(n);
    uint64_t v = 0;
    for (size_t i = n; i-- > 0;) v = v << 8 | b[i];
    return v;
  }
  ByteView read_bytes(uint64_t n) {
    if (n > in_.size() - pos_) fail("truncated pickle ({} bytes needed, {} left)", n, in_.size() - pos_);
    ByteView b = in_.subspan(pos_, size_t(n));
    pos_ += size_t(n);
    return b;
  }
  std::string read_line() {
    size_t start = pos_;
    while (pos_ < in_.size() && in_[pos_] != '\n') {
      if (pos_ - start > 256) fail("GLOBAL name too long");
      ++pos_;
    }
    if (pos_ >= in_.size()) fail("truncated pickle");
    std::string s(reinterpret_cast<const char*>(in_.data() + start), pos_ - start);
    ++pos_;
    return s;
  }

  // --- values and the stack
  Value* make(Value::Kind kind) {
    Value& v = arena_.emplace_back();
    v.kind = kind;
    return &v;
  }
  Value* make_int(Value::Kind kind, int64_t i) {
    Value* v = make(kind);
    v->integer = i;
    return v;
  }
  void push_raw(Value::Kind kind, uint64_t length) {
    ByteView b = read_bytes(length);
    Value* v = make(kind);
    v->raw = b;
    push(v);
  }
  Value* collect(Value::Kind kind, std::vector<Value*> items) {
    Value* v = make(kind);
    v->items = std::move(items);
    return v;
  }
  void push(Value* v) { stack_.push_back(v); }
  size_t floor() const { return marks_.empty() ? 0 : marks_.back(); }
  Value* top() {
    if (stack_.size() <= floor()) fail("stack underflow");
    return stack_.back();
  }
  Value* pop() {
    Value* v = top();
    stack_.pop_back();
    return v;
  }
  std::vector<Value*> pop_n(size_t n) {
    if (stack_.size() < floor() + n) fail("stack underflow");
    std::vector<Value*> items(stack_.end() - long(n), stack_.end());
    stack_.resize(stack_.size() - n);
    return items;
  }
  std::vector<Value*> pop_mark() {
    if (marks_.empty()) fail("no MARK on the stack");
    size_t m = marks_.back();
    marks_.pop_back();
    std::vector<Value*> items(stack_.begin() + long(m), stack_.end());
    stack_.resize(m);
    return items;
  }
  Value* memo_get(uint64_t index) {
    auto it = memo_.find(index);
    if (it == memo_.end()) fail("memo entry {} is not defined", index);
    return it->second;
  }
  Value* expect_kind(Value* v, Value::Kind kind, const char* op) {
    if (v->kind != kind) fail("{} on a {}", op, kind_name(v->kind));
    return v;
  }

  // --- the five globals, as data
  Value* resolve_global(const std::string& module, const std::string& name) {
    Value* v = make(Value::Kind::global);
    if ((module == "numpy.core.multiarray" || module == "numpy._core.multiarray") && name == "_reconstruct") {
      v->global = Global::reconstruct;
    } else if (module == "numpy" && name == "ndarray") {
      v->global = Global::ndarray;
    } else if (module == "numpy" && name == "dtype") {
      v->global = Global::dtype;
    } else if (module == "jax._src.array" && name == "_reconstruct_array") {
      v->global = Global::jax_reconstruct_array;
    } else {
      throw_error(ErrorCode::bad_model, "forbidden pickle global {}.{} in {}", printable(module), printable(name),
                  where_);
    }
    return v;
  }
  static std::string printable(const std::string& s) {
    std::string out;
    for (char c : s) out += (c >= 0x20 && c < 0x7f) ? c : '?';
    return out;
  }

  Value* item(Value* tuple, size_t i, Value::Kind kind, const char* what) {
    if (tuple->kind != Value::Kind::tuple || i >= tuple->items.size()) fail("malformed {}", what);
    Value* v = tuple->items[i];
    if (v->kind != kind) fail("malformed {}: item {} is a {}, expected a {}", what, i, kind_name(v->kind), kind_name(kind));
    return v;
  }

  Value* reduce(Value* callable, Value* args) {
    if (callable->kind != Value::Kind::global) fail("REDUCE calls a {}, which is not allowed", kind_name(callable->kind));
    if (args->kind != Value::Kind::tuple) fail("REDUCE arguments are a {}, expected a tuple", kind_name(args->kind));
    switch (callable->global) {
      case Global::reconstruct: return reconstruct(args);
      case Global::dtype: {
        Value* descr = item(args, 0, Value::Kind::string, "numpy.dtype call");
        Value* v = make(Value::Kind::dtype);
        v->dtype = parse_npy_descr(text(descr), where_);
        return v;
      }
      case Global::jax_reconstruct_array: {
        // _reconstruct_array(fun, args, arr_state, aval_state): fun(*args).__setstate__(arr_state)
        if (args->items.size() != 4) fail("jax._src.array._reconstruct_array takes 4 arguments, got {}", args->items.size());
        Value* fun = item(args, 0, Value::Kind::global, "jax array");
        if (fun->global != Global::reconstruct) fail("jax array rebuilt by something other than numpy _reconstruct");
        Value* array = reconstruct(item(args, 1, Value::Kind::tuple, "jax array"));
        build(array, item(args, 2, Value::Kind::tuple, "jax array"));
        return array;
      }
      case Global::ndarray: fail("REDUCE calls numpy.ndarray directly, which NumPy never writes");
    }
    fail("REDUCE of an unknown global");
  }

  // numpy.core.multiarray._reconstruct(numpy.ndarray, shape, b'b'): an empty array that BUILD fills.
  Value* reconstruct(Value* args) {
    Value* cls = item(args, 0, Value::Kind::global, "numpy _reconstruct call");
    if (cls->global != Global::ndarray) fail("numpy _reconstruct of something other than numpy.ndarray");
    return make(Value::Kind::array);
  }

  std::vector<int64_t> shape_of(Value* t) {
    if (t->kind != Value::Kind::tuple) fail("array shape is a {}, expected a tuple", kind_name(t->kind));
    std::vector<int64_t> shape;
    for (Value* d : t->items) {
      if (d->kind != Value::Kind::integer || d->integer < 0) fail("array shape holds a non-integer or negative dimension");
      shape.push_back(d->integer);
    }
    return shape;
  }

  void build(Value* target, Value* state) {
    if (target->kind == Value::Kind::dtype) {
      // (version, byteorder, subarray, names, fields, elsize, alignment, flags[, metadata])
      if (state->kind == Value::Kind::tuple && state->items.size() >= 2 &&
          state->items[1]->kind == Value::Kind::string) {
        std::string_view order = text(state->items[1]);
        if (order == ">") fail("big-endian dtype {} is not supported", target->dtype.name());
      }
      return;
    }
    if (target->kind != Value::Kind::array) fail("BUILD on a {}, which is not allowed", kind_name(target->kind));
    if (target->built) fail("BUILD on an array that is already built");
    if (state->kind != Value::Kind::tuple) fail("array state is a {}, expected a tuple", kind_name(state->kind));
    // (version, shape, dtype, is_fortran, data) or, from older NumPy, (shape, dtype, is_fortran, data).
    size_t o = state->items.size() == 5 ? 1 : 0;
    if (state->items.size() != 4 + o) fail("array state has {} items, expected 4 or 5", state->items.size());
    std::vector<int64_t> shape = shape_of(state->items[o]);
    Value* dtype = item(state, o + 1, Value::Kind::dtype, "array state");
    Value* fortran = item(state, o + 2, Value::Kind::boolean, "array state");
    Value* data = state->items[o + 3];
    if (fortran->integer && shape.size() > 1) fail("Fortran-order arrays are not supported");
    const NpyDType& t = dtype->dtype;
    if (t.kind == 'O') {
      if (data->kind != Value::Kind::list) fail("object array data is a {}, expected a list", kind_name(data->kind));
      if (npy_element_count(shape, int64_t(data->items.size()) + 1) != int64_t(data->items.size())) {
        fail("object array shape does not match its {} items", data->items.size());
      }
    } else {
      if (data->kind != Value::Kind::bytes && data->kind != Value::Kind::string) {
        fail("array data is a {}, expected bytes", kind_name(data->kind));
      }
      int64_t n = npy_element_count(shape, int64_t(data->raw.size() / size_t(t.item_size)) + 1);
      if (n < 0 || size_t(n) * size_t(t.item_size) != data->raw.size()) {
        fail("array data of {} bytes does not match its shape and dtype {}", data->raw.size(), t.name());
      }
    }
    target->built = true;
    target->shape = std::move(shape);
    target->array_dtype = t;
    target->data = data;
  }

  ByteView in_;
  const std::string& where_;
  size_t pos_ = 0, op_start_ = 0;
  std::deque<Value> arena_;
  std::vector<Value*> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint64_t, Value*> memo_;
};

}  // namespace

std::map<std::string, NpyArray> unpickle_param_dict(ByteView pickle, const std::string& where) {
  Unpickler u(pickle, where);
  Value* root = u.run();
  auto bad = [&](const std::string& what) {
    throw_error(ErrorCode::bad_model, "{}: expected a pickled 0-d object array holding a dict of arrays ({})", where, what);
  };
  if (root->kind != Value::Kind::array || !root->built || root->array_dtype.kind != 'O') bad("the pickle holds no object array");
  if (root->data->items.size() != 1) bad("the object array holds more than one object");
  Value* dict = root->data->items[0];
  if (dict->kind != Value::Kind::dict) bad(std::string("the object is a ") + kind_name(dict->kind));
  std::map<std::string, NpyArray> out;
  size_t copied = 0;
  for (size_t i = 0; i + 1 < dict->items.size(); i += 2) {
    Value* key = dict->items[i];
    Value* value = dict->items[i + 1];
    if (key->kind != Value::Kind::string) bad("a key is not a string");
    std::string name(text(key));
    if (value->kind != Value::Kind::array || !value->built || value->array_dtype.kind == 'O') {
      bad("'" + name + "' is not a numeric array");
    }
    // Real files never share one bytes object between arrays; refusing it keeps memory linear in the input.
    copied += value->data->raw.size();
    if (copied > pickle.size()) bad("arrays share their data");
    NpyArray a;
    a.dtype = value->array_dtype;
    a.shape = value->shape;
    a.data.assign(value->data->raw.begin(), value->data->raw.end());
    out[name] = std::move(a);
  }
  return out;
}

}  // namespace lmac
