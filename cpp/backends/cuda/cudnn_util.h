// RAII wrappers for cuDNN descriptors (creation failures throw naming the owner; destruction never throws).
#pragma once
#include <cudnn.h>

#include <string>
#include <utility>
#include <vector>

#include "backends/cuda/cuda_kernel.h"

namespace trtcore::cuda {

template <class T, cudnnStatus_t (*Create)(T*), cudnnStatus_t (*Destroy)(T)>
class CudnnDesc {
 public:
  CudnnDesc() = default;
  explicit CudnnDesc(const std::string& where) { TRTCORE_CUDNN_CHECK(where, Create(&d_)); }
  ~CudnnDesc() {
    if (d_) static_cast<void>(Destroy(d_));
  }
  CudnnDesc(CudnnDesc&& o) noexcept : d_(std::exchange(o.d_, nullptr)) {}
  CudnnDesc& operator=(CudnnDesc&& o) noexcept {
    if (this != &o) {
      if (d_) static_cast<void>(Destroy(d_));
      d_ = std::exchange(o.d_, nullptr);
    }
    return *this;
  }
  CudnnDesc(const CudnnDesc&) = delete;
  CudnnDesc& operator=(const CudnnDesc&) = delete;
  T get() const { return d_; }

 private:
  T d_ = nullptr;
};

using TensorDesc = CudnnDesc<cudnnTensorDescriptor_t, cudnnCreateTensorDescriptor, cudnnDestroyTensorDescriptor>;
using FilterDesc = CudnnDesc<cudnnFilterDescriptor_t, cudnnCreateFilterDescriptor, cudnnDestroyFilterDescriptor>;
using ConvDesc =
    CudnnDesc<cudnnConvolutionDescriptor_t, cudnnCreateConvolutionDescriptor, cudnnDestroyConvolutionDescriptor>;
using ActivationDesc =
    CudnnDesc<cudnnActivationDescriptor_t, cudnnCreateActivationDescriptor, cudnnDestroyActivationDescriptor>;

// A packed NCHW (or NCDHW) tensor descriptor; shapes of rank < 4 are padded with trailing 1s.
inline TensorDesc make_tensor_desc(const Shape& shape, cudnnDataType_t dt, const std::string& where) {
  TensorDesc d(where);
  std::vector<int> dims;
  for (int64_t x : shape) dims.push_back(int(x));
  while (dims.size() < 4) dims.push_back(1);
  std::vector<int> strides(dims.size());
  int s = 1;
  for (size_t i = dims.size(); i-- > 0;) {
    strides[i] = s;
    s *= dims[i];
  }
  TRTCORE_CUDNN_CHECK(where, cudnnSetTensorNdDescriptor(d.get(), dt, int(dims.size()), dims.data(), strides.data()));
  return d;
}

}  // namespace trtcore::cuda
