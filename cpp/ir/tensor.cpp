#include "trtcore/tensor.h"

#include "trtcore/error.h"
#include "trtcore/half.h"

namespace trtcore {

template <class Out, class F>
static std::vector<Out> convert(const Tensor& t, F&& half_to_out) {
  const int64_t n = t.numel();
  std::vector<Out> v(size_t(n > 0 ? n : 0));
  for (int64_t i = 0; i < n; ++i) {
    switch (t.dtype) {
      case DType::kFloat32: v[i] = Out(t.data<float>()[i]); break;
      case DType::kFloat64: v[i] = Out(t.data<double>()[i]); break;
      case DType::kFloat16: v[i] = half_to_out(t.data<uint16_t>()[i]); break;
      case DType::kInt64: v[i] = Out(t.data<int64_t>()[i]); break;
      case DType::kInt32: v[i] = Out(t.data<int32_t>()[i]); break;
      case DType::kInt8: v[i] = Out(t.data<int8_t>()[i]); break;
      case DType::kUInt8: v[i] = Out(t.data<uint8_t>()[i]); break;
      case DType::kBool: v[i] = Out(t.data<uint8_t>()[i] != 0); break;
      default: fail(ErrorKind::kUnsupported, "cannot read a tensor of type ", dtype_name(t.dtype));
    }
  }
  return v;
}

// A float read as an integer (shape-like constants): NaN, infinity and values beyond int64 have no value.
static int64_t float_to_int64(double x) {
  if (!(x > -9.2e18 && x < 9.2e18)) fail(ErrorKind::kInvalidArgument, "the float ", x, " cannot be read as an integer");
  return int64_t(x);
}

std::vector<int64_t> Tensor::as_int64() const {
  if (dtype != DType::kFloat32 && dtype != DType::kFloat16 && dtype != DType::kFloat64)
    return convert<int64_t>(*this, [](uint16_t h) { return int64_t(half_to_float(h)); });
  const int64_t n = numel();
  std::vector<int64_t> v(size_t(n > 0 ? n : 0));
  for (int64_t i = 0; i < n; ++i)
    v[size_t(i)] = float_to_int64(dtype == DType::kFloat64   ? data<double>()[i]
                                  : dtype == DType::kFloat32 ? double(data<float>()[i])
                                                             : double(half_to_float(data<uint16_t>()[i])));
  return v;
}

std::vector<float> Tensor::as_float() const {
  return convert<float>(*this, [](uint16_t h) { return half_to_float(h); });
}

}  // namespace trtcore
