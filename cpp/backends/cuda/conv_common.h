// Geometry shared by the cuDNN convolution kernels: attributes resolved to per-axis kernel/stride/dilation/pads,
// 1-D convolutions lifted to 2-D (cuDNN needs 4-D tensors), asymmetric pads applied by an explicit pad copy.
#pragma once
#include <cudnn.h>

#include <string>

#include "backends/cuda/cuda_kernel.h"
#include "backends/cuda/cudnn_util.h"

namespace trtcore::cuda {

constexpr int kMaxSpatial = 3;

struct ConvGeometry {
  int spatial = 2;      // spatial rank of the node (1..3)
  int cudnn_rank = 4;   // 4 (1-D and 2-D) or 5 (3-D)
  Shape x_shape, y_shape;  // the node's, at the maximum batch
  int64_t group = 1;
  int kernel[kMaxSpatial] = {1, 1, 1};
  int stride[kMaxSpatial] = {1, 1, 1};
  int dilation[kMaxSpatial] = {1, 1, 1};
  int pad_begin[kMaxSpatial] = {0, 0, 0};
  int pad_end[kMaxSpatial] = {0, 0, 0};
  bool explicit_pad = false;  // pads differ between begin and end: padded copy, then a pad-free convolution

  // Reads strides, dilations, group, pads/auto_pad of a Conv node; throws kUnsupported naming it.
  static ConvGeometry make(const Node& node, const Shape& x, const Shape& w, const Shape& y);

  // Shapes as cuDNN sees them (1-D lifted; padded input when explicit_pad).
  Shape cudnn_x_shape(int64_t batch) const;
  Shape cudnn_y_shape(int64_t batch) const;
  Shape lift(const Shape& s) const;  // inserts the unit axis of a 1-D convolution

  FilterDesc filter_desc(const Shape& w, cudnnDataType_t dt, const std::string& where) const;
  ConvDesc conv_desc(cudnnMathType_t math, const std::string& where) const;

  // Explicit padding into `dst` (workspace) of `batch` samples.
  size_t padded_bytes(int64_t batch, size_t elem_size = sizeof(float)) const;
  // `elem_size` 4 (float32) or 2 (float16): padding only moves elements.
  void launch_pad(const void* src, void* dst, int64_t batch, cudaStream_t stream, const std::string& where,
                  size_t elem_size = sizeof(float)) const;
};

const char* fwd_algo_name(cudnnConvolutionFwdAlgo_t a);
const char* bwd_data_algo_name(cudnnConvolutionBwdDataAlgo_t a);

}  // namespace trtcore::cuda
