// Host tensors: an owning one for constants and weights, and non-owning views for kernel arguments.
#pragma once
#include <cstring>
#include <memory>
#include <vector>

#include "trtcore/dtype.h"

namespace trtcore {

// The most dimensions a tensor may have: the plan format stores no more, so import refuses more.
constexpr size_t kMaxTensorRank = 32;

// Owns its bytes (C order). Shared between graph copies through shared_ptr<const Tensor>.
struct Tensor {
  DType dtype = DType::kFloat32;
  Shape shape;
  std::vector<uint8_t> bytes;

  Tensor() = default;
  Tensor(DType t, Shape s) : dtype(t), shape(std::move(s)), bytes(size_t(trtcore::numel(shape)) * dtype_size(t)) {}

  int64_t numel() const { return trtcore::numel(shape); }
  template <class T> T* data() { return reinterpret_cast<T*>(bytes.data()); }
  template <class T> const T* data() const { return reinterpret_cast<const T*>(bytes.data()); }

  // Reads any integer dtype (or float) as int64 values: for shape-like constants.
  std::vector<int64_t> as_int64() const;
  // Reads float32/float16/float64/int types as float values.
  std::vector<float> as_float() const;
};

using TensorPtr = std::shared_ptr<const Tensor>;

// Non-owning view of host or device memory; kernels receive these.
struct TensorView {
  DType dtype = DType::kFloat32;
  Shape shape;
  void* data = nullptr;

  int64_t numel() const { return trtcore::numel(shape); }
  size_t nbytes() const { return size_t(numel()) * dtype_size(dtype); }
  template <class T> T* as() const { return static_cast<T*>(data); }
};

}  // namespace trtcore
