// Little-endian writer and a bounds-checked reader for the plan format. Every length read is checked against the
// bytes that remain before anything is allocated, so a damaged file fails with kCorrupt instead of exhausting memory.
#pragma once
#include <cstdint>
#include <cstring>
#include <string>

#include "trtcore/error.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the trtcore plan format is little-endian; big-endian hosts are not supported"
#endif

namespace trtcore::planio {

class Writer {
 public:
  void u8(uint8_t v) { out_.push_back(char(v)); }
  void u32(uint32_t v) { raw(&v, 4); }
  void i32(int32_t v) { raw(&v, 4); }
  void u64(uint64_t v) { raw(&v, 8); }
  void i64(int64_t v) { raw(&v, 8); }
  void f32(float v) { raw(&v, 4); }
  void str(const std::string& s) {
    u32(uint32_t(s.size()));
    out_.append(s);
  }
  void raw(const void* p, size_t n) { out_.append(static_cast<const char*>(p), n); }
  std::string& bytes() { return out_; }

 private:
  std::string out_;
};

class Reader {
 public:
  Reader(const char* data, size_t size, const std::string& origin) : p_(data), left_(size), origin_(origin) {}

  size_t left() const { return left_; }
  uint8_t u8() { return take<uint8_t>(); }
  uint32_t u32() { return take<uint32_t>(); }
  int32_t i32() { return take<int32_t>(); }
  uint64_t u64() { return take<uint64_t>(); }
  int64_t i64() { return take<int64_t>(); }
  float f32() { return take<float>(); }
  // Names end up in error messages and Python strings: anything but valid UTF-8 marks a damaged file.
  std::string str(const char* what) {
    const uint32_t n = u32();
    need(n, what);
    std::string s(p_, n);
    skip(n);
    if (!valid_utf8(s)) corrupt(what, " is not valid UTF-8 text");
    return s;
  }
  // A count of elements that each take at least `min_bytes`: rejected when the rest of the data cannot hold them.
  uint32_t count(size_t min_bytes, const char* what) {
    const uint32_t n = u32();
    if (min_bytes > 0 && uint64_t(n) * min_bytes > left_) corrupt(what, " count ", n, " exceeds the remaining data");
    return n;
  }
  const char* take_bytes(uint64_t n, const char* what) {
    need(n, what);
    const char* at = p_;
    skip(size_t(n));
    return at;
  }

  static bool valid_utf8(const std::string& s) {
    size_t i = 0;
    while (i < s.size()) {
      const uint8_t c = uint8_t(s[i]);
      size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
      if (len == 0 || (len == 2 && c < 0xC2) || i + len > s.size()) return false;
      for (size_t k = 1; k < len; ++k)
        if ((uint8_t(s[i + k]) >> 6) != 0x2) return false;
      if (len == 3) {
        const uint8_t c1 = uint8_t(s[i + 1]);
        if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 >= 0xA0)) return false;  // overlong, surrogates
      } else if (len == 4) {
        const uint8_t c1 = uint8_t(s[i + 1]);
        if ((c == 0xF0 && c1 < 0x90) || c > 0xF4 || (c == 0xF4 && c1 >= 0x90)) return false;
      }
      i += len;
    }
    return true;
  }

  template <class... Parts>
  [[noreturn]] void corrupt(const Parts&... parts) const {
    fail(ErrorKind::kCorrupt, "plan '", origin_, "' is corrupted or truncated: ", parts...);
  }

 private:
  void need(uint64_t n, const char* what) const {
    if (n > left_) corrupt(what, " needs ", n, " bytes but only ", left_, " remain");
  }
  void skip(size_t n) {
    p_ += n;
    left_ -= n;
  }
  template <class T>
  T take() {
    need(sizeof(T), "a field");
    T v;
    std::memcpy(&v, p_, sizeof(T));
    skip(sizeof(T));
    return v;
  }

  const char* p_;
  size_t left_;
  const std::string& origin_;
};

}  // namespace trtcore::planio
