// Helpers shared by the elementwise and data-movement kernel files: how one operand is read at a linear output
// index (broadcast access with fast paths), collapsed strided indices, a by-element-size strided copy, and
// host-side dtype checks for check().
#pragma once
#include <initializer_list>
#include <string>

#include "backends/cuda/cuda_kernel.h"

namespace trtcore::cuda {

// Merges neighbouring axes an index walks uniformly and drops size-1 axes, so fewer divisions run per element.
inline StridedIndex collapse(const StridedIndex& ix) {
  StridedIndex c;
  for (int d = 0; d < ix.rank; ++d) {
    if (ix.dims[d] == 1) continue;
    if (c.rank > 0 && c.strides[c.rank - 1] == ix.strides[d] * ix.dims[d]) {
      c.dims[c.rank - 1] *= ix.dims[d];
      c.strides[c.rank - 1] = ix.strides[d];
    } else {
      c.dims[c.rank] = ix.dims[d];
      c.strides[c.rank] = ix.strides[d];
      ++c.rank;
    }
  }
  return c;
}

// How an operand broadcast to the output is read: same shape, one element, one contiguous run of axes
// (per-channel bias, trailing vector), or the general strided walk.
enum class AccessKind : int { kLinear, kScalar, kChannel, kStrided };

struct Access {
  AccessKind kind = AccessKind::kLinear;
  int64_t inner = 1;     // kChannel: output elements per operand element
  int64_t channels = 1;  // kChannel: operand elements
  StridedIndex ix;       // kStrided
#ifdef __CUDACC__
  __device__ __forceinline__ int64_t operator()(int64_t i) const {
    switch (kind) {
      case AccessKind::kLinear: return i;
      case AccessKind::kScalar: return 0;
      case AccessKind::kChannel: return (i / inner) % channels;
      default: return ix.offset(i);
    }
  }
#endif
};

inline Access make_access(const Shape& in, const Shape& out, const std::string& where) {
  Access a;
  const StridedIndex ix = collapse(broadcast_index(in, out, where));
  if (numel(in) == numel(out)) return a;  // broadcastable with equal counts: no axis is repeated
  if (numel(in) == 1) {
    a.kind = AccessKind::kScalar;
    return a;
  }
  // One run of read axes followed only by repeated ones: index = (i / inner) % channels.
  int read_axes = 0, last_read = -1;
  for (int d = 0; d < ix.rank; ++d)
    if (ix.strides[d] != 0) ++read_axes, last_read = d;
  if (read_axes == 1 && ix.strides[last_read] == 1) {
    a.kind = AccessKind::kChannel;
    a.channels = ix.dims[last_read];
    for (int d = last_read + 1; d < ix.rank; ++d) a.inner *= ix.dims[d];
    return a;
  }
  a.kind = AccessKind::kStrided;
  a.ix = ix;
  return a;
}

// dst[i] = src[index.offset(i)] for i < n, by element size (1, 2, 4 or 8 bytes): any dtype. Defined in
// transpose.cu; `index` walks the output shape with source strides.
void strided_copy(const void* src, const StridedIndex& index, void* dst, int64_t n, size_t elem_size,
                  cudaStream_t stream, const std::string& where);

// "" when every present input and output of `node` has one of `allowed`, else the reason (for check()).
inline std::string check_dtypes(const Node& node, const Graph& g, std::initializer_list<DType> allowed) {
  for (const std::vector<int>* ids : {&node.inputs, &node.outputs})
    for (int id : *ids) {
      if (id < 0) continue;
      bool ok = false;
      for (DType t : allowed) ok = ok || g.value(id).dtype == t;
      if (!ok)
        return std::string("value '") + g.value(id).name + "' is " + dtype_name(g.value(id).dtype) +
               ", which this cuda kernel does not take";
    }
  return "";
}

// "" when input `k` of `node` is absent or a constant known at build time, else the reason.
inline std::string check_constant_input(const Node& node, const Graph& g, size_t k, const char* what) {
  if (node.inputs.size() <= k || node.inputs[k] < 0 || g.value(node.inputs[k]).constant) return "";
  return std::string("input '") + what + "' must be a constant for the cuda kernel";
}

}  // namespace trtcore::cuda
