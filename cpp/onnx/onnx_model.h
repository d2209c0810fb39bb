// The parts of an ONNX ModelProto that trtcore reads, decoded into plain structs. Tensor payloads stay views into
// the mapped file (copied once, into the graph's tensors, by the importer).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "onnx/mapped_file.h"
#include "onnx/wire.h"

namespace trtcore::onnx {

// TensorProto.DataLocation
enum class DataLocation : int32_t { kDefault = 0, kExternal = 1 };

struct OnnxTensor {
  std::string name;
  std::vector<int64_t> dims;
  int32_t data_type = 0;
  bool has_raw_data = false;
  Bytes raw_data;
  std::vector<float> float_data;
  std::vector<int32_t> int32_data;
  std::vector<int64_t> int64_data;
  std::vector<double> double_data;
  size_t other_data_fields = 0;  // string_data / uint64_data entries (types trtcore does not hold)
  bool has_segment = false;
  DataLocation data_location = DataLocation::kDefault;
  std::vector<std::pair<std::string, std::string>> external_data;
  std::string where;  // "graph.initializer[3] 'fc.weight'" — for later error messages
};

// AttributeProto.AttributeType codes.
enum class AttrType : int32_t {
  kUndefined = 0, kFloat = 1, kInt = 2, kString = 3, kTensor = 4, kGraph = 5, kFloats = 6, kInts = 7,
  kStrings = 8, kTensors = 9, kGraphs = 10, kSparseTensor = 11, kSparseTensors = 12, kTypeProto = 13,
  kTypeProtos = 14,
};
const char* attr_type_name(AttrType t);

struct OnnxAttribute {
  std::string name;
  AttrType type = AttrType::kUndefined;  // from the file, or from the field present when the file omits it
  float f = 0.f;
  int64_t i = 0;
  std::string s;
  std::shared_ptr<OnnxTensor> t;
  std::vector<float> floats;
  std::vector<int64_t> ints;
  std::vector<std::string> strings;
};

struct OnnxNode {
  std::string name;
  std::string op_type;
  std::string domain;
  std::vector<std::string> inputs;   // "" marks an absent optional input
  std::vector<std::string> outputs;
  std::vector<OnnxAttribute> attributes;
};

struct OnnxDim {
  bool known = false;  // dim_value present and >= 0
  int64_t value = 0;
  std::string param;   // dim_param, when given
};

struct OnnxValueInfo {
  std::string name;
  bool is_tensor = false;  // type is a tensor type
  int32_t elem_type = 0;
  bool has_shape = false;
  std::vector<OnnxDim> dims;
};

struct OnnxGraph {
  std::string name;
  std::vector<OnnxNode> nodes;
  std::vector<OnnxTensor> initializers;
  std::vector<std::string> sparse_initializers;  // names only: trtcore does not read sparse weights
  std::vector<OnnxValueInfo> inputs;
  std::vector<OnnxValueInfo> outputs;
};

struct OnnxOpset {
  std::string domain;
  int64_t version = 0;
};

struct OnnxModel {
  std::string path;       // the file read
  std::shared_ptr<const MappedFile> file;  // keeps tensor views valid
  int64_t ir_version = 0;
  std::vector<OnnxOpset> opsets;
  bool has_graph = false;
  OnnxGraph graph;
};

// Reads and decodes `path`. Throws kIo when it cannot be read, kCorrupt (naming path, byte offset and the message
// being read) when malformed.
OnnxModel read_onnx_model(const std::string& path);
// Decodes bytes already in memory; `origin` names them in errors.
OnnxModel parse_onnx_model(std::shared_ptr<const MappedFile> file, const std::string& origin);

}  // namespace trtcore::onnx
