// Errors: every failure a user can cause is a trtcore::Error carrying a kind and a message that names the
// file, tensor or node involved. Library code throws; it never aborts or exits.
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>

namespace trtcore {

enum class ErrorKind {
  kInvalidArgument,  // bad option, bad shape, wrong-size sample
  kUnsupported,      // op, attribute value or dtype the backend cannot run
  kIo,               // missing file/directory, unwritable output
  kCorrupt,          // malformed ONNX, truncated or corrupted plan
  kRuntime,          // CUDA/cuDNN failures and other internal errors
};

const char* error_kind_name(ErrorKind kind);

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  ErrorKind kind() const { return kind_; }

 private:
  ErrorKind kind_;
};

namespace detail {
inline void append(std::ostringstream&) {}
template <class T, class... Rest>
void append(std::ostringstream& os, const T& first, const Rest&... rest) {
  os << first;
  append(os, rest...);
}
}  // namespace detail

// fail(ErrorKind::kIo, "cannot open ", path) — concatenates its parts with operator<<.
template <class... Parts>
[[noreturn]] void fail(ErrorKind kind, const Parts&... parts) {
  std::ostringstream os;
  detail::append(os, parts...);
  throw Error(kind, os.str());
}

#define TRTCORE_CHECK(cond, kind, ...)            \
  do {                                            \
    if (!(cond)) ::trtcore::fail(kind, __VA_ARGS__); \
  } while (0)

}  // namespace trtcore
