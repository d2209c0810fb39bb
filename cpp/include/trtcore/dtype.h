// Element types and shapes. DType values are ONNX TensorProto.DataType codes so import is a cast.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace trtcore {

enum class DType : int32_t {
  kUndefined = 0,
  kFloat32 = 1,
  kUInt8 = 2,
  kInt8 = 3,
  kInt32 = 6,
  kInt64 = 7,
  kBool = 9,
  kFloat16 = 10,
  kFloat64 = 11,
};

size_t dtype_size(DType t);        // bytes per element; throws for kUndefined
const char* dtype_name(DType t);   // "float32", "int64", ...
bool dtype_is_known(int32_t code); // a code trtcore can hold

using Shape = std::vector<int64_t>;

int64_t numel(const Shape& s);           // product of dims (1 for a scalar)
std::string shape_str(const Shape& s);   // "1x3x224x224", "scalar" for rank 0
Shape parse_shape(const std::string& s); // inverse of shape_str; throws kInvalidArgument

}  // namespace trtcore
