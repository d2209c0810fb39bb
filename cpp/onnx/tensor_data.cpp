#include "onnx/tensor_data.h"

#include <cstdlib>
#include <cstring>
#include <memory>

#include "trtcore/error.h"

namespace trtcore::onnx {

ExternalFiles::ExternalFiles(std::string model_path) : model_path_(std::move(model_path)) {
  const size_t slash = model_path_.find_last_of('/');
  model_dir_ = slash == std::string::npos ? "." : model_path_.substr(0, slash == 0 ? 1 : slash);
}

// The real path of model_dir/location; a link that leads out of the model's real directory is refused.
std::string ExternalFiles::resolve_inside_model_dir(const std::string& location, const std::string& tensor_desc) const {
  const std::string full = model_dir_ + "/" + location;
  auto real = [](const std::string& p) {
    std::unique_ptr<char, decltype(&std::free)> r(::realpath(p.c_str(), nullptr), &std::free);
    return r ? std::string(r.get()) : std::string();
  };
  const std::string target = real(full), dir = real(model_dir_);
  if (target.empty() || dir.empty()) return full;  // missing: MappedFile reports it with the reason
  const std::string inside = dir.back() == '/' ? dir : dir + "/";
  if (target.compare(0, inside.size(), inside) != 0)
    fail(ErrorKind::kCorrupt, model_path_, ": ", tensor_desc, " names external data file '", location,
         "', which resolves to '", target, "' outside the model's directory '", dir, "'");
  return target;
}

const MappedFile& ExternalFiles::open(const std::string& location, const std::string& tensor_desc) {
  if (location.empty())
    fail(ErrorKind::kCorrupt, model_path_, ": ", tensor_desc, " is stored externally but names no location");
  if (location[0] == '/' || location[0] == '\\' || location.find(':') != std::string::npos)
    fail(ErrorKind::kCorrupt, model_path_, ": ", tensor_desc, " names external data file '", location,
         "' by an absolute path; only paths relative to the model's directory are accepted");
  if (location.find('\0') != std::string::npos)
    fail(ErrorKind::kCorrupt, model_path_, ": ", tensor_desc, " names an external data file containing a NUL byte");
  // Reject any '..' component so the data cannot come from outside the model's directory.
  size_t start = 0;
  while (start <= location.size()) {
    size_t end = location.find_first_of("/\\", start);
    if (end == std::string::npos) end = location.size();
    if (location.compare(start, end - start, "..") == 0)
      fail(ErrorKind::kCorrupt, model_path_, ": ", tensor_desc, " names external data file '", location,
           "', which leaves the model's directory");
    start = end + 1;
  }
  auto it = files_.find(location);
  if (it != files_.end()) return *it->second;
  const std::string full = resolve_inside_model_dir(location, tensor_desc);
  std::shared_ptr<MappedFile> f;
  try {
    f = std::make_shared<MappedFile>(full);
  } catch (const Error& e) {
    fail(ErrorKind::kIo, model_path_, ": ", tensor_desc, " is stored in external data file '", full,
         "', which cannot be read (", e.what(), ")");
  }
  return *files_.emplace(location, std::move(f)).first->second;
}

static uint64_t parse_count(const std::string& text, const std::string& key, const std::string& model,
                            const std::string& desc) {
  if (text.empty() || text.size() > 19 || text.find_first_not_of("0123456789") != std::string::npos)
    fail(ErrorKind::kCorrupt, model, ": ", desc, " has external data ", key, " '", text,
         "', expected a non-negative integer");
  return std::stoull(text);
}

template <class Src, class Dst>
static void convert_into(const std::vector<Src>& src, Tensor& out) {
  Dst* d = out.data<Dst>();
  for (size_t i = 0; i < src.size(); ++i) d[i] = Dst(src[i]);
}

Tensor to_tensor(const OnnxTensor& t, const std::string& desc, ExternalFiles& external) {
  const std::string& model = external.model_path();
  if (!dtype_is_known(t.data_type))
    fail(ErrorKind::kUnsupported, model, ": ", desc, " has element type code ", t.data_type,
         ", which trtcore does not support (float32/16/64, int8/32/64, uint8 and bool are)");
  if (t.has_segment) fail(ErrorKind::kUnsupported, model, ": ", desc, " is a segmented tensor, which trtcore does not read");
  const DType dtype = DType(t.data_type);
  const size_t esize = dtype_size(dtype);
  // Element count, guarded so that a corrupted dim cannot overflow or request absurd memory.
  constexpr uint64_t kMaxBytes = uint64_t(1) << 46;
  uint64_t count = 1;
  for (int64_t d : t.dims) {
    if (d < 0) fail(ErrorKind::kCorrupt, model, ": ", desc, " has negative dimension ", d);
    if (d != 0 && count > kMaxBytes / uint64_t(d)) fail(ErrorKind::kCorrupt, model, ": ", desc, " has absurdly large dims");
    count *= uint64_t(d);
  }
  if (count > kMaxBytes / esize) fail(ErrorKind::kCorrupt, model, ": ", desc, " has absurdly large dims");
  const size_t nbytes = size_t(count) * esize;

  Tensor out;
  out.dtype = dtype;
  out.shape.assign(t.dims.begin(), t.dims.end());
  auto dims_text = [&] { return shape_str(out.shape) + " " + dtype_name(dtype); };

  if (t.data_location == DataLocation::kExternal) {
    std::string location;
    uint64_t offset = 0, length = 0;
    bool has_length = false;
    for (const auto& kv : t.external_data) {
      if (kv.first == "location") location = kv.second;
      else if (kv.first == "offset") offset = parse_count(kv.second, "offset", model, desc);
      else if (kv.first == "length") { length = parse_count(kv.second, "length", model, desc); has_length = true; }
    }
    const MappedFile& f = external.open(location, desc);
    if (has_length && length != nbytes)
      fail(ErrorKind::kCorrupt, model, ": ", desc, " (", dims_text(), ") needs ", nbytes, " bytes but its external data length is ", length);
    if (offset > f.size() || f.size() - offset < nbytes)
      fail(ErrorKind::kCorrupt, model, ": ", desc, " needs bytes ", offset, "..", offset + nbytes, " of external data file '",
           location, "', which has only ", f.size(), " bytes");
    out.bytes.assign(f.data() + offset, f.data() + offset + nbytes);
    return out;
  }
  if (t.data_location != DataLocation::kDefault)
    fail(ErrorKind::kCorrupt, model, ": ", desc, " has unknown data_location ", int(t.data_location));

  if (t.has_raw_data) {
    if (t.raw_data.size != nbytes)
      fail(ErrorKind::kCorrupt, model, ": ", desc, " (", dims_text(), ") needs ", nbytes, " bytes of raw_data but has ",
           t.raw_data.size);
    out.bytes.assign(t.raw_data.data, t.raw_data.data + nbytes);
    return out;
  }

  // Typed fields: float32 in float_data, float64 in double_data, int64 in int64_data; int32 and the narrow
  // types (int8, uint8, bool, and float16 as its bit pattern) in int32_data.
  size_t have = 0;
  const char* field = "";
  switch (dtype) {
    case DType::kFloat32: have = t.float_data.size(); field = "float_data"; break;
    case DType::kFloat64: have = t.double_data.size(); field = "double_data"; break;
    case DType::kInt64: have = t.int64_data.size(); field = "int64_data"; break;
    default: have = t.int32_data.size(); field = "int32_data"; break;
  }
  if (have != count) {
    if (have == 0 && count > 0)
      fail(ErrorKind::kCorrupt, model, ": ", desc, " (", dims_text(), ") has no data");
    fail(ErrorKind::kCorrupt, model, ": ", desc, " (", dims_text(), ") needs ", count, " values but ", field, " has ",
         have);
  }
  out.bytes.resize(nbytes);
  switch (dtype) {
    case DType::kFloat32: if (nbytes) std::memcpy(out.bytes.data(), t.float_data.data(), nbytes); break;
    case DType::kFloat64: if (nbytes) std::memcpy(out.bytes.data(), t.double_data.data(), nbytes); break;
    case DType::kInt64: if (nbytes) std::memcpy(out.bytes.data(), t.int64_data.data(), nbytes); break;
    case DType::kInt32: if (nbytes) std::memcpy(out.bytes.data(), t.int32_data.data(), nbytes); break;
    case DType::kInt8: convert_into<int32_t, int8_t>(t.int32_data, out); break;
    case DType::kUInt8: convert_into<int32_t, uint8_t>(t.int32_data, out); break;
    case DType::kFloat16: convert_into<int32_t, uint16_t>(t.int32_data, out); break;
    case DType::kBool: {
      uint8_t* d = out.data<uint8_t>();
      for (size_t i = 0; i < t.int32_data.size(); ++i) d[i] = t.int32_data[i] != 0;
      break;
    }
    default: break;
  }
  return out;
}

}  // namespace trtcore::onnx
