// Protobuf wire-format reading without libprotobuf: a bounds-checked cursor over one message's bytes. Every
// malformation throws kCorrupt naming the file, the byte offset and the path of the message being read.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace trtcore::onnx {

// A view into the model file's bytes (the file stays mapped while views are in use).
struct Bytes {
  const uint8_t* data = nullptr;
  size_t size = 0;
};

enum class WireType : uint8_t { kVarint = 0, kFixed64 = 1, kLen = 2, kStartGroup = 3, kEndGroup = 4, kFixed32 = 5 };

// State shared by every reader over one file: its name, where it starts (for byte offsets) and the path of
// nested messages being read ("graph.node[12] 'conv1'.attribute 'pads'").
class WireContext {
 public:
  static constexpr size_t kMaxDepth = 32;

  WireContext(std::string file, const uint8_t* base) : file_(std::move(file)), base_(base) {}
  const std::string& file() const { return file_; }
  size_t offset_of(const uint8_t* p) const { return size_t(p - base_); }
  std::string path() const;
  [[noreturn]] void corrupt(const uint8_t* at, const std::string& what) const;

 private:
  friend class PathScope;
  std::string file_;
  const uint8_t* base_;
  std::vector<std::string> path_;
};

// Names one nested message while it is read; limits nesting depth.
class PathScope {
 public:
  PathScope(WireContext& ctx, std::string part, const uint8_t* at);
  ~PathScope() { ctx_.path_.pop_back(); }
  PathScope(const PathScope&) = delete;
  PathScope& operator=(const PathScope&) = delete;

 private:
  WireContext& ctx_;
};

struct Field {
  uint32_t number = 0;
  WireType type = WireType::kVarint;
  const uint8_t* start = nullptr;  // the tag's first byte
};

class WireReader {
 public:
  WireReader(WireContext& ctx, Bytes msg) : ctx_(ctx), p_(msg.data), end_(msg.data + msg.size) {}

  // Reads the next tag; false at the end of the message. Rejects group and invalid wire types.
  bool next(Field& f);
  // Skips the value of a field the decoder does not use.
  void skip(const Field& f);

  // Scalar values of the current field, checking its wire type.
  int64_t read_int64(const Field& f);
  int32_t read_int32(const Field& f) { return int32_t(uint32_t(uint64_t(read_int64(f)))); }
  float read_float(const Field& f);
  Bytes read_bytes(const Field& f);
  std::string read_string(const Field& f);

  // Repeated scalars, packed or not; appends to `out`. Counts are bounded by the bytes present.
  void read_repeated_int64(const Field& f, std::vector<int64_t>& out);
  void read_repeated_int32(const Field& f, std::vector<int32_t>& out);
  void read_repeated_float(const Field& f, std::vector<float>& out);
  void read_repeated_double(const Field& f, std::vector<double>& out);

  [[noreturn]] void wrong_type(const Field& f, const char* expected) const;
  WireContext& context() const { return ctx_; }
  const uint8_t* position() const { return p_; }

 private:
  uint64_t varint();
  uint32_t fixed32();
  uint64_t fixed64();
  Bytes length_delimited();
  size_t remaining() const { return size_t(end_ - p_); }

  WireContext& ctx_;
  const uint8_t* p_;
  const uint8_t* end_;
};

// Best-effort scan of a message's top level for a string field (used to name a node before decoding it).
// Returns "" on any malformation; the real decode reports those.
std::string peek_string(Bytes msg, uint32_t field_number);

}  // namespace trtcore::onnx
