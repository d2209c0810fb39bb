#include "onnx/wire.h"

#include <cstring>

#include "trtcore/error.h"

namespace trtcore::onnx {

static_assert(sizeof(float) == 4 && sizeof(double) == 8, "IEEE float sizes expected");
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the ONNX reader copies little-endian payloads directly and needs a little-endian host"
#endif

std::string WireContext::path() const {
  std::string s;
  for (const std::string& part : path_) {
    if (!s.empty()) s += '.';
    s += part;
  }
  return s.empty() ? "model" : s;
}

void WireContext::corrupt(const uint8_t* at, const std::string& what) const {
  fail(ErrorKind::kCorrupt, file_, ": malformed ONNX file at byte ", offset_of(at), " while reading ", path(), ": ",
       what);
}

PathScope::PathScope(WireContext& ctx, std::string part, const uint8_t* at) : ctx_(ctx) {
  ctx_.path_.push_back(std::move(part));
  if (ctx_.path_.size() > WireContext::kMaxDepth) {
    const std::string msg = "messages nested deeper than " + std::to_string(WireContext::kMaxDepth);
    ctx_.path_.pop_back();
    ctx_.corrupt(at, msg);
  }
}

static const char* wire_type_name(WireType t) {
  switch (t) {
    case WireType::kVarint: return "varint";
    case WireType::kFixed64: return "fixed64";
    case WireType::kLen: return "length-delimited";
    case WireType::kStartGroup: return "start-group";
    case WireType::kEndGroup: return "end-group";
    case WireType::kFixed32: return "fixed32";
  }
  return "unknown";
}

uint64_t WireReader::varint() {
  const uint8_t* start = p_;
  uint64_t v = 0;
  for (int i = 0; i < 10; ++i) {
    if (p_ == end_) ctx_.corrupt(start, "varint runs past the end of its message");
    const uint8_t b = *p_++;
    if (i == 9 && b > 1) ctx_.corrupt(start, "varint overflows 64 bits");
    v |= uint64_t(b & 0x7f) << (7 * i);
    if (!(b & 0x80)) return v;
  }
  ctx_.corrupt(start, "varint longer than 10 bytes");
}

uint32_t WireReader::fixed32() {
  if (remaining() < 4) ctx_.corrupt(p_, "fixed32 value runs past the end of its message");
  uint32_t v;
  std::memcpy(&v, p_, 4);
  p_ += 4;
  return v;
}

uint64_t WireReader::fixed64() {
  if (remaining() < 8) ctx_.corrupt(p_, "fixed64 value runs past the end of its message");
  uint64_t v;
  std::memcpy(&v, p_, 8);
  p_ += 8;
  return v;
}

Bytes WireReader::length_delimited() {
  const uint8_t* start = p_;
  const uint64_t len = varint();
  if (len > remaining())
    ctx_.corrupt(start, "length " + std::to_string(len) + " exceeds the " + std::to_string(remaining()) +
                            " bytes left in its message");
  Bytes b{p_, size_t(len)};
  p_ += len;
  return b;
}

bool WireReader::next(Field& f) {
  if (p_ == end_) return false;
  f.start = p_;
  const uint64_t tag = varint();
  const uint64_t number = tag >> 3;
  const unsigned type = unsigned(tag & 7);
  if (number == 0 || number > 0x1fffffff) ctx_.corrupt(f.start, "invalid field number " + std::to_string(number));
  if (type == 3 || type == 4) ctx_.corrupt(f.start, "group wire type (field " + std::to_string(number) + ") is not supported");
  if (type > 5) ctx_.corrupt(f.start, "invalid wire type " + std::to_string(type));
  f.number = uint32_t(number);
  f.type = WireType(type);
  return true;
}

void WireReader::skip(const Field& f) {
  switch (f.type) {
    case WireType::kVarint: varint(); return;
    case WireType::kFixed64: fixed64(); return;
    case WireType::kFixed32: fixed32(); return;
    case WireType::kLen: length_delimited(); return;
    default: ctx_.corrupt(f.start, "cannot skip a group field");
  }
}

void WireReader::wrong_type(const Field& f, const char* expected) const {
  ctx_.corrupt(f.start, "field " + std::to_string(f.number) + " has wire type " + wire_type_name(f.type) +
                            ", expected " + expected);
}

int64_t WireReader::read_int64(const Field& f) {
  if (f.type != WireType::kVarint) wrong_type(f, "varint");
  return int64_t(varint());
}

float WireReader::read_float(const Field& f) {
  if (f.type != WireType::kFixed32) wrong_type(f, "fixed32");
  const uint32_t bits = fixed32();
  float v;
  std::memcpy(&v, &bits, 4);
  return v;
}

Bytes WireReader::read_bytes(const Field& f) {
  if (f.type != WireType::kLen) wrong_type(f, "length-delimited");
  return length_delimited();
}

// Structural UTF-8 check (lead/continuation bytes): names end up in messages and in Python strings.
static bool valid_utf8(const uint8_t* p, size_t n) {
  for (size_t i = 0; i < n;) {
    const uint8_t c = p[i];
    const size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    if (len == 0 || i + len > n) return false;
    for (size_t k = 1; k < len; ++k)
      if ((p[i + k] & 0xc0) != 0x80) return false;
    i += len;
  }
  return true;
}

std::string WireReader::read_string(const Field& f) {
  const Bytes b = read_bytes(f);
  if (!valid_utf8(b.data, b.size)) ctx_.corrupt(b.data, "string field is not valid UTF-8");
  return std::string(reinterpret_cast<const char*>(b.data), b.size);
}

// Varints in a packed run: one per byte without the continuation bit, which bounds the count by the length.
static size_t count_varints(Bytes b) {
  size_t n = 0;
  for (size_t i = 0; i < b.size; ++i) n += (b.data[i] & 0x80) == 0;
  return n;
}

template <class T>
static void read_packed_varints(WireReader& outer, WireContext& ctx, Bytes run, std::vector<T>& out) {
  out.reserve(out.size() + count_varints(run));
  WireReader r(ctx, run);
  Field f;
  f.type = WireType::kVarint;
  while (r.position() != run.data + run.size) {
    f.start = r.position();
    out.push_back(T(r.read_int64(f)));
  }
  (void)outer;
}

void WireReader::read_repeated_int64(const Field& f, std::vector<int64_t>& out) {
  if (f.type == WireType::kVarint) {
    out.push_back(int64_t(varint()));
  } else if (f.type == WireType::kLen) {
    read_packed_varints(*this, ctx_, length_delimited(), out);
  } else {
    wrong_type(f, "varint or packed");
  }
}

void WireReader::read_repeated_int32(const Field& f, std::vector<int32_t>& out) {
  if (f.type == WireType::kVarint) {
    out.push_back(int32_t(uint32_t(varint())));
  } else if (f.type == WireType::kLen) {
    std::vector<int64_t> wide;
    read_packed_varints(*this, ctx_, length_delimited(), wide);
    out.reserve(out.size() + wide.size());
    for (int64_t v : wide) out.push_back(int32_t(uint32_t(uint64_t(v))));
  } else {
    wrong_type(f, "varint or packed");
  }
}

template <class T>
static void append_fixed(WireContext& ctx, const Field& f, Bytes run, std::vector<T>& out) {
  if (run.size % sizeof(T) != 0)
    ctx.corrupt(f.start, "packed field " + std::to_string(f.number) + " has " + std::to_string(run.size) +
                             " bytes, not a multiple of " + std::to_string(sizeof(T)));
  const size_t n = run.size / sizeof(T);
  const size_t old = out.size();
  out.resize(old + n);
  if (n) std::memcpy(out.data() + old, run.data, run.size);
}

void WireReader::read_repeated_float(const Field& f, std::vector<float>& out) {
  if (f.type == WireType::kFixed32) {
    out.push_back(read_float(f));
  } else if (f.type == WireType::kLen) {
    append_fixed(ctx_, f, length_delimited(), out);
  } else {
    wrong_type(f, "fixed32 or packed");
  }
}

void WireReader::read_repeated_double(const Field& f, std::vector<double>& out) {
  if (f.type == WireType::kFixed64) {
    const uint64_t bits = fixed64();
    double v;
    std::memcpy(&v, &bits, 8);
    out.push_back(v);
  } else if (f.type == WireType::kLen) {
    append_fixed(ctx_, f, length_delimited(), out);
  } else {
    wrong_type(f, "fixed64 or packed");
  }
}

std::string peek_string(Bytes msg, uint32_t field_number) {
  WireContext ctx("", msg.data);
  WireReader r(ctx, msg);
  try {
    Field f;
    while (r.next(f)) {
      if (f.number == field_number && f.type == WireType::kLen) return r.read_string(f);
      r.skip(f);
    }
  } catch (const Error&) {
  }
  return "";
}

}  // namespace trtcore::onnx
