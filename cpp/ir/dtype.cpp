#include "trtcore/dtype.h"

#include <sstream>

#include "trtcore/error.h"

namespace trtcore {

const char* error_kind_name(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kInvalidArgument: return "invalid argument";
    case ErrorKind::kUnsupported: return "unsupported";
    case ErrorKind::kIo: return "I/O error";
    case ErrorKind::kCorrupt: return "corrupt input";
    case ErrorKind::kRuntime: return "runtime error";
  }
  return "error";
}

size_t dtype_size(DType t) {
  switch (t) {
    case DType::kFloat32: return 4;
    case DType::kUInt8: return 1;
    case DType::kInt8: return 1;
    case DType::kInt32: return 4;
    case DType::kInt64: return 8;
    case DType::kBool: return 1;
    case DType::kFloat16: return 2;
    case DType::kFloat64: return 8;
    case DType::kUndefined: break;
  }
  fail(ErrorKind::kUnsupported, "element type code ", int(t), " has no size");
}

const char* dtype_name(DType t) {
  switch (t) {
    case DType::kFloat32: return "float32";
    case DType::kUInt8: return "uint8";
    case DType::kInt8: return "int8";
    case DType::kInt32: return "int32";
    case DType::kInt64: return "int64";
    case DType::kBool: return "bool";
    case DType::kFloat16: return "float16";
    case DType::kFloat64: return "float64";
    case DType::kUndefined: return "undefined";
  }
  return "unknown";
}

bool dtype_is_known(int32_t code) {
  switch (code) {
    case 1: case 2: case 3: case 6: case 7: case 9: case 10: case 11: return true;
    default: return false;
  }
}

int64_t numel(const Shape& s) {
  // Bounded so corrupt or hostile shapes fail cleanly instead of overflowing into a small allocation.
  constexpr int64_t kMaxElements = int64_t(1) << 48;
  int64_t n = 1;
  for (int64_t d : s) {
    if (d < 0) fail(ErrorKind::kInvalidArgument, "shape ", shape_str(s), " has a negative dimension");
    if (d != 0 && n > kMaxElements / d) fail(ErrorKind::kInvalidArgument, "shape ", shape_str(s), " is too large");
    n *= d;
  }
  return n;
}

std::string shape_str(const Shape& s) {
  if (s.empty()) return "scalar";
  std::ostringstream os;
  for (size_t i = 0; i < s.size(); ++i) os << (i ? "x" : "") << s[i];
  return os.str();
}

Shape parse_shape(const std::string& text) {
  Shape s;
  if (text == "scalar") return s;
  std::string cur;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == 'x' || text[i] == 'X' || text[i] == ',') {
      if (cur.empty()) fail(ErrorKind::kInvalidArgument, "bad shape '", text, "': expected dims like 1x3x224x224");
      size_t used = 0;
      long long v = 0;
      try {
        v = std::stoll(cur, &used);
      } catch (...) {
        used = 0;
      }
      if (used != cur.size() || v <= 0)
        fail(ErrorKind::kInvalidArgument, "bad shape '", text, "': '", cur, "' is not a positive integer");
      s.push_back(v);
      cur.clear();
    } else {
      cur += text[i];
    }
  }
  return s;
}

}  // namespace trtcore
