// ConvGeometry: attribute resolution, cuDNN descriptors and the explicit-pad copy.
#include "backends/cuda/conv_common.h"

namespace trtcore::cuda {
namespace {

struct PadArgs {
  int rank = 4;          // cuDNN rank (4 or 5)
  int64_t out_dims[5] = {};
  int64_t in_dims[5] = {};
  int64_t begin[5] = {};
};

template <class E>
__global__ void pad_kernel(const E* src, E* dst, int64_t n, PadArgs a) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    int64_t rem = i, src_off = 0, src_stride = 1;
    bool inside = true;
    for (int d = a.rank - 1; d >= 0; --d) {
      const int64_t o = rem % a.out_dims[d];
      rem /= a.out_dims[d];
      const int64_t s = o - a.begin[d];
      if (s < 0 || s >= a.in_dims[d]) inside = false;
      src_off += s * src_stride;
      src_stride *= a.in_dims[d];
    }
    dst[i] = inside ? src[src_off] : E(0);
  }
}

}  // namespace

ConvGeometry ConvGeometry::make(const Node& node, const Shape& x, const Shape& w, const Shape& y) {
  ConvGeometry g;
  g.spatial = int(x.size()) - 2;
  if (g.spatial < 1 || g.spatial > kMaxSpatial)
    fail(ErrorKind::kUnsupported, node.describe(), ": input rank ", x.size(), " (expected 3 to 5)");
  g.cudnn_rank = g.spatial == 3 ? 5 : 4;
  g.x_shape = x;
  g.y_shape = y;
  g.group = node.attrs.get_int("group", 1);
  const std::vector<int64_t> ones(size_t(g.spatial), 1);
  const std::vector<int64_t> strides = node.attrs.get_ints("strides", ones);
  const std::vector<int64_t> dil = node.attrs.get_ints("dilations", ones);
  std::vector<int64_t> pads = node.attrs.get_ints("pads", std::vector<int64_t>(size_t(2 * g.spatial), 0));
  if (strides.size() != size_t(g.spatial) || dil.size() != size_t(g.spatial) || pads.size() != size_t(2 * g.spatial))
    fail(ErrorKind::kInvalidArgument, node.describe(), ": strides/dilations/pads do not match spatial rank ",
         g.spatial);
  const std::string auto_pad = node.attrs.get_string("auto_pad", "NOTSET");
  for (int i = 0; i < g.spatial; ++i) {
    g.kernel[i] = int(w[size_t(2 + i)]);
    g.stride[i] = int(strides[size_t(i)]);
    g.dilation[i] = int(dil[size_t(i)]);
    const int64_t in = x[size_t(2 + i)], out = y[size_t(2 + i)];
    if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      const int64_t total =
          std::max<int64_t>(0, (out - 1) * g.stride[i] + (int64_t(g.kernel[i]) - 1) * g.dilation[i] + 1 - in);
      const int64_t small = total / 2;
      pads[size_t(i)] = auto_pad == "SAME_UPPER" ? small : total - small;
      pads[size_t(i + g.spatial)] = total - pads[size_t(i)];
    } else if (auto_pad == "VALID") {
      pads[size_t(i)] = pads[size_t(i + g.spatial)] = 0;
    } else if (auto_pad != "NOTSET") {
      fail(ErrorKind::kUnsupported, node.describe(), ": auto_pad '", auto_pad, "'");
    }
    g.pad_begin[i] = int(pads[size_t(i)]);
    g.pad_end[i] = int(pads[size_t(i + g.spatial)]);
    if (g.pad_begin[i] != g.pad_end[i]) g.explicit_pad = true;
  }
  return g;
}

Shape ConvGeometry::lift(const Shape& s) const {
  if (spatial != 1) return s;
  Shape out = s;
  out.insert(out.begin() + 2, 1);
  return out;
}

Shape ConvGeometry::cudnn_x_shape(int64_t batch) const {
  Shape s = x_shape;
  s[0] = batch;
  if (explicit_pad)
    for (int i = 0; i < spatial; ++i) s[size_t(2 + i)] += pad_begin[i] + pad_end[i];
  return lift(s);
}

Shape ConvGeometry::cudnn_y_shape(int64_t batch) const {
  Shape s = y_shape;
  s[0] = batch;
  return lift(s);
}

FilterDesc ConvGeometry::filter_desc(const Shape& w, cudnnDataType_t dt, const std::string& where) const {
  FilterDesc f(where);
  const Shape lw = lift(w);
  std::vector<int> dims(lw.begin(), lw.end());
  TRTCORE_CUDNN_CHECK(where, cudnnSetFilterNdDescriptor(f.get(), dt, CUDNN_TENSOR_NCHW,
                                                        int(dims.size()), dims.data()));
  return f;
}

ConvDesc ConvGeometry::conv_desc(cudnnMathType_t math, const std::string& where) const {
  ConvDesc c(where);
  std::vector<int> pad, str, dil;
  if (spatial == 1) {  // the lifted unit axis
    pad.push_back(0);
    str.push_back(1);
    dil.push_back(1);
  }
  for (int i = 0; i < spatial; ++i) {
    pad.push_back(explicit_pad ? 0 : pad_begin[i]);
    str.push_back(stride[i]);
    dil.push_back(dilation[i]);
  }
  TRTCORE_CUDNN_CHECK(where, cudnnSetConvolutionNdDescriptor(c.get(), int(pad.size()), pad.data(), str.data(),
                                                             dil.data(), CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
  TRTCORE_CUDNN_CHECK(where, cudnnSetConvolutionGroupCount(c.get(), int(group)));
  TRTCORE_CUDNN_CHECK(where, cudnnSetConvolutionMathType(c.get(), math));
  return c;
}

size_t ConvGeometry::padded_bytes(int64_t batch, size_t elem_size) const {
  if (!explicit_pad) return 0;
  const size_t b = size_t(numel(cudnn_x_shape(batch))) * elem_size;
  return (b + 255) / 256 * 256;
}

void ConvGeometry::launch_pad(const void* src, void* dst, int64_t batch, cudaStream_t stream,
                              const std::string& where, size_t elem_size) const {
  PadArgs a;
  const Shape out = cudnn_x_shape(batch);
  Shape in = x_shape;
  in[0] = batch;
  in = lift(in);
  a.rank = int(out.size());
  for (int d = 0; d < a.rank; ++d) {
    a.out_dims[d] = out[size_t(d)];
    a.in_dims[d] = in[size_t(d)];
  }
  const int first = spatial == 1 ? 3 : 2;  // the lifted axis carries no pad
  for (int i = 0; i < spatial; ++i) a.begin[first + i] = pad_begin[i];
  const int64_t n = numel(out);
  if (elem_size == 2) {
    pad_kernel<uint16_t><<<grid_for(n), kBlockSize, 0, stream>>>(static_cast<const uint16_t*>(src),
                                                                 static_cast<uint16_t*>(dst), n, a);
    TRTCORE_CUDA_LAUNCH_CHECK(where, pad_kernel<uint16_t>);
    return;
  }
  pad_kernel<float><<<grid_for(n), kBlockSize, 0, stream>>>(static_cast<const float*>(src), static_cast<float*>(dst),
                                                            n, a);
  TRTCORE_CUDA_LAUNCH_CHECK(where, pad_kernel<float>);
}

const char* fwd_algo_name(cudnnConvolutionFwdAlgo_t a) {
  switch (a) {
    case CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM: return "implicit_gemm";
    case CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM: return "implicit_precomp_gemm";
    case CUDNN_CONVOLUTION_FWD_ALGO_GEMM: return "gemm";
    case CUDNN_CONVOLUTION_FWD_ALGO_DIRECT: return "direct";
    case CUDNN_CONVOLUTION_FWD_ALGO_FFT: return "fft";
    case CUDNN_CONVOLUTION_FWD_ALGO_FFT_TILING: return "fft_tiling";
    case CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD: return "winograd";
    case CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD_NONFUSED: return "winograd_nonfused";
    default: break;
  }
  return "unknown";
}

const char* bwd_data_algo_name(cudnnConvolutionBwdDataAlgo_t a) {
  switch (a) {
    case CUDNN_CONVOLUTION_BWD_DATA_ALGO_0: return "bwd_data_0";
    case CUDNN_CONVOLUTION_BWD_DATA_ALGO_1: return "bwd_data_1";
    case CUDNN_CONVOLUTION_BWD_DATA_ALGO_FFT: return "bwd_data_fft";
    case CUDNN_CONVOLUTION_BWD_DATA_ALGO_FFT_TILING: return "bwd_data_fft_tiling";
    case CUDNN_CONVOLUTION_BWD_DATA_ALGO_WINOGRAD: return "bwd_data_winograd";
    case CUDNN_CONVOLUTION_BWD_DATA_ALGO_WINOGRAD_NONFUSED: return "bwd_data_winograd_nonfused";
    default: break;
  }
  return "unknown";
}

}  // namespace trtcore::cuda
