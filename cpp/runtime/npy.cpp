// .npy / .npz reading (see npy.h). The .npy header is a Python dict literal: 'descr', 'fortran_order', 'shape'.
#include "runtime/npy.h"

#include <cstdint>
#include <cstring>

#include "trtcore/error.h"
#include "trtcore/io.h"

namespace trtcore {
namespace {

std::string header_value(const std::string& header, const std::string& key, const std::string& file) {
  const size_t k = header.find("'" + key + "'");
  if (k == std::string::npos) fail(ErrorKind::kCorrupt, file, ": .npy header has no '", key, "'");
  size_t v = header.find(':', k);
  if (v == std::string::npos) fail(ErrorKind::kCorrupt, file, ": .npy header entry '", key, "' has no value");
  ++v;
  while (v < header.size() && header[v] == ' ') ++v;
  const char open = v < header.size() ? header[v] : '\0';
  const char close = open == '(' ? ')' : open == '\'' ? '\'' : ',';
  const size_t end = header.find(close, v + 1);
  if (end == std::string::npos) fail(ErrorKind::kCorrupt, file, ": .npy header entry '", key, "' is not closed");
  return header.substr(v, end - v + (close == ',' ? 0 : 1));
}

Shape parse_tuple(const std::string& t, const std::string& file) {
  Shape s;
  std::string num;
  for (char c : t.substr(1)) {
    if (c >= '0' && c <= '9') {
      num += c;
    } else if (!num.empty()) {
      s.push_back(std::stoll(num));
      num.clear();
    }
  }
  if (t.empty() || t[0] != '(') fail(ErrorKind::kCorrupt, file, ": .npy shape '", t, "' is not a tuple");
  return s;
}

template <class T>
void convert(const char* p, size_t n, std::vector<float>& out) {
  out.resize(n);
  for (size_t i = 0; i < n; ++i) {
    T v;
    std::memcpy(&v, p + i * sizeof(T), sizeof(T));
    out[i] = float(v);
  }
}

uint32_t le32(const std::string& b, size_t at) {
  return uint32_t(uint8_t(b[at])) | uint32_t(uint8_t(b[at + 1])) << 8 | uint32_t(uint8_t(b[at + 2])) << 16 |
         uint32_t(uint8_t(b[at + 3])) << 24;
}
uint16_t le16(const std::string& b, size_t at) { return uint16_t(uint8_t(b[at]) | uint8_t(b[at + 1]) << 8); }

}  // namespace

NpyArray parse_npy(const std::string& b, const std::string& file) {
  if (b.size() < 10 || b.compare(0, 6, "\x93NUMPY") != 0) fail(ErrorKind::kCorrupt, file, ": not a .npy array");
  const int major = uint8_t(b[6]);
  const size_t len_bytes = major == 1 ? 2 : 4;
  const size_t hlen = major == 1 ? le16(b, 8) : (b.size() >= 12 ? le32(b, 8) : 0);
  const size_t start = 8 + len_bytes + hlen;
  if (major < 1 || major > 3 || start > b.size()) fail(ErrorKind::kCorrupt, file, ": truncated .npy header");
  const std::string header = b.substr(8 + len_bytes, hlen);
  const std::string descr = header_value(header, "descr", file);
  if (header_value(header, "fortran_order", file).find("True") != std::string::npos)
    fail(ErrorKind::kUnsupported, file, ": Fortran-order arrays are not supported; save np.ascontiguousarray(a)");
  NpyArray a;
  a.shape = parse_tuple(header_value(header, "shape", file), file);
  size_t n = 1;  // bounded by the file's size first, so a forged shape cannot overflow
  for (int64_t d : a.shape) {
    if (d != 0 && n > b.size() / size_t(d))
      fail(ErrorKind::kCorrupt, file, ": shape ", shape_str(a.shape), " is larger than the file");
    n *= size_t(d);
  }
  const char* p = b.data() + start;
  const auto need = [&](size_t elem) {
    if (b.size() - start < n * elem)
      fail(ErrorKind::kCorrupt, file, ": holds ", b.size() - start, " data bytes, shape ", shape_str(a.shape), " needs ",
           n * elem);
  };
  struct Kind {
    const char* descr;
    size_t size;
    void (*read)(const char*, size_t, std::vector<float>&);
  };
  static const Kind kinds[] = {{"'<f4'", 4, &convert<float>}, {"'<f8'", 8, &convert<double>},
                               {"'|u1'", 1, &convert<uint8_t>}, {"'<i4'", 4, &convert<int32_t>},
                               {"'<i8'", 8, &convert<int64_t>}};
  for (const Kind& k : kinds) {
    if (descr != k.descr) continue;
    need(k.size);
    k.read(p, n, a.data);
    return a;
  }
  fail(ErrorKind::kUnsupported, file, ": element type ", descr, " (expected little-endian float32/float64 or ints)");
}

std::map<std::string, NpyArray> read_arrays(const std::string& path) {
  const std::string b = read_file(path);
  std::map<std::string, NpyArray> out;
  const std::string ext = path.size() > 4 ? path.substr(path.size() - 4) : "";
  if (ext == ".npy") {
    out.emplace("", parse_npy(b, path));
    return out;
  }
  // .npz: a zip of .npy files; numpy.savez stores them uncompressed with sizes in each local header
  size_t at = 0;
  while (at + 30 <= b.size() && le32(b, at) == 0x04034b50) {
    const uint16_t flags = le16(b, at + 6), method = le16(b, at + 8);
    uint64_t size = le32(b, at + 18);
    const uint16_t name_len = le16(b, at + 26), extra_len = le16(b, at + 28);
    std::string name = b.substr(at + 30, name_len);
    const size_t data = at + 30 + name_len + extra_len;
    if (data > b.size()) fail(ErrorKind::kCorrupt, path, ": truncated zip entry '", name, "'");
    if (method != 0)
      fail(ErrorKind::kUnsupported, path, ": '", name, "' is compressed; save with numpy.savez, not savez_compressed");
    // numpy.savez writes zip64 entries: the 32-bit sizes are 0xffffffff and the real ones sit in extra field 0x0001
    for (size_t e = at + 30 + name_len; size == 0xffffffffu && e + 4 <= data;) {
      const uint16_t id = le16(b, e), len = le16(b, e + 2);
      if (id == 1 && len >= 8 && e + 12 <= data) size = le32(b, e + 4) | uint64_t(le32(b, e + 8)) << 32;
      e += 4 + len;
    }
    if ((flags & 8) || size == 0xffffffffu || size > b.size() - data)
      fail(ErrorKind::kUnsupported, path, ": '", name, "' has no size in its zip header (a streamed zip)");
    if (name.size() > 4 && name.compare(name.size() - 4, 4, ".npy") == 0) name.resize(name.size() - 4);
    out.emplace(name, parse_npy(b.substr(data, size), path + ":" + name));
    at = data + size;
  }
  if (out.empty()) fail(ErrorKind::kCorrupt, path, ": no arrays found (expected a .npy file or a numpy.savez .npz)");
  return out;
}

}  // namespace trtcore
