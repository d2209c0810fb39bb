// Shared helpers for the elementwise and data-movement cpu kernels: broadcast strides, a collapsed row-wise loop
// over an output shape, dtype-agnostic strided copies, dtype conversion and reading shape-like inputs.
#pragma once
#include "backends/cpu/isa.h"
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

#include "backends/cpu/cpu_kernel.h"
#include "backends/cpu/sgemm.h"
#include "backends/cpu/thread_pool.h"

namespace trtcore::cpu {
// Converts n elements between dtypes with ONNX Cast semantics (float->int truncates, nonzero->true); in cast.cpp,
// compiled once (a baseline function every level shares).
void convert_elements(const void* src, DType src_type, void* dst, DType dst_type, int64_t n, int threads);
}  // namespace trtcore::cpu

TRTCORE_CPU_NAMESPACE_BEGIN

// Elementwise loops below this many elements stay on one thread (thread start-up costs more than the work).
constexpr int64_t kParallelThreshold = int64_t(1) << 15;
constexpr size_t kMaxOperands = 4;
// Elements per pool task: large enough that claiming a task costs little, small enough that a descheduled thread's
// share is picked up by the others.
constexpr int64_t kTaskElements = int64_t(1) << 14;

// Runs f(begin, end) over [0, n) in pieces of about `grain` items on the persistent task pool (the one Conv and
// GEMM use, so elementwise kernels never compete with a second thread set); `work` (total cost in elements)
// below kParallelThreshold stays on the calling thread.
template <class F>
void parallel_ranges(int threads, int64_t n, int64_t grain, int64_t work, F&& f) {
  if (n <= 0) return;
  grain = std::max<int64_t>(grain, 1);
  const int64_t tasks = (n + grain - 1) / grain;
  if (threads <= 1 || tasks <= 1 || work <= kParallelThreshold) {
    f(int64_t(0), n);
    return;
  }
  parallel_tasks(threads, tasks, [&](int64_t t) { f(t * grain, std::min(n, (t + 1) * grain)); });
}

// The same for n items of `item_cost` elements each: pieces of about kTaskElements elements.
template <class F>
void parallel_items(int threads, int64_t n, int64_t item_cost, F&& f) {
  item_cost = std::max<int64_t>(item_cost, 1);
  parallel_ranges(threads, n, std::max<int64_t>(1, kTaskElements / item_cost), n * item_cost, std::forward<F>(f));
}

// Contiguous (C order) element strides of a shape.
inline std::vector<int64_t> contiguous_strides(const Shape& s) {
  std::vector<int64_t> st(s.size());
  int64_t acc = 1;
  for (size_t i = s.size(); i-- > 0;) {
    st[i] = acc;
    acc *= s[i];
  }
  return st;
}

// Element strides of `in` read as if broadcast (numpy rules, right-aligned) to `out`: 0 along broadcast axes.
inline std::vector<int64_t> broadcast_strides(const Shape& in, const Shape& out) {
  if (in.size() > out.size())
    fail(ErrorKind::kRuntime, "cannot broadcast ", shape_str(in), " to ", shape_str(out));
  std::vector<int64_t> st(out.size(), 0);
  const std::vector<int64_t> cs = contiguous_strides(in);
  const size_t off = out.size() - in.size();
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != 1 && in[i] != out[off + i])
      fail(ErrorKind::kRuntime, "cannot broadcast ", shape_str(in), " to ", shape_str(out));
    st[off + i] = in[i] == 1 ? 0 : cs[i];
  }
  return st;
}

// Walks an output shape in C order, operand k advancing by strides[k][axis]. Size-1 axes are dropped and neighbours
// every operand walks uniformly are merged, so same-shape, scalar and per-channel broadcasts become long rows.
class StridedLoop {
 public:
  StridedLoop(const Shape& shape, const std::vector<std::vector<int64_t>>& strides) : k_(strides.size()) {
    if (k_ > kMaxOperands) fail(ErrorKind::kRuntime, "too many operands for a strided loop");
    numel_ = ::trtcore::numel(shape);
    strides_.resize(k_);
    for (size_t a = 0; a < shape.size(); ++a) {
      if (shape[a] == 1) continue;
      bool merge = !dims_.empty();
      for (size_t k = 0; k < k_ && merge; ++k) merge = strides_[k].back() == strides[k][a] * shape[a];
      if (merge) {
        dims_.back() *= shape[a];
        for (size_t k = 0; k < k_; ++k) strides_[k].back() = strides[k][a];
      } else {
        dims_.push_back(shape[a]);
        for (size_t k = 0; k < k_; ++k) strides_[k].push_back(strides[k][a]);
      }
    }
    if (dims_.empty()) {
      dims_.push_back(1);
      for (size_t k = 0; k < k_; ++k) strides_[k].push_back(0);
    }
  }

  int64_t numel() const { return numel_; }

  // Calls f(offsets, out_index, len, inner_strides) for each run of `len` consecutive output elements starting at
  // linear output index out_index; operand k starts at offsets[k] and advances by inner_strides[k].
  template <class F>
  void for_rows(int threads, F&& f) const {
    if (numel_ <= 0) return;
    const size_t r = dims_.size();
    const int64_t inner = dims_.back();
    const int64_t rows = numel_ / inner;
    // Long rows are cut into chunks so a single contiguous row still spreads across threads.
    const int64_t chunk = std::min<int64_t>(inner, kTaskElements);
    const int64_t per_row = (inner + chunk - 1) / chunk;
    const int64_t items = rows * per_row;
    std::array<int64_t, kMaxOperands> inner_st{};
    for (size_t k = 0; k < k_; ++k) inner_st[k] = strides_[k][r - 1];
    parallel_items(threads, items, chunk, [&](int64_t i0, int64_t i1) {
      // Offsets of the first row come from its index; later rows step an odometer (no division per row).
      std::array<int64_t, kMaxOperands> base{};
      std::array<int64_t, 8> idx_small{};
      std::vector<int64_t> idx_big;
      int64_t* idx = idx_small.data();
      if (r > idx_small.size()) {
        idx_big.assign(r, 0);
        idx = idx_big.data();
      }
      int64_t row = i0 / per_row;
      int64_t rem = row;
      for (size_t a = r - 1; a-- > 0;) {
        idx[a] = rem % dims_[a];
        rem /= dims_[a];
        for (size_t k = 0; k < k_; ++k) base[k] += idx[a] * strides_[k][a];
      }
      int64_t part = i0 % per_row;
      for (int64_t it = i0; it < i1; ++it) {
        const int64_t start = part * chunk;
        std::array<int64_t, kMaxOperands> off = base;
        for (size_t k = 0; k < k_; ++k) off[k] += start * inner_st[k];
        f(off.data(), row * inner + start, std::min(chunk, inner - start), inner_st.data());
        if (++part < per_row) continue;
        part = 0;
        ++row;
        for (size_t a = r - 1; a-- > 0;) {
          for (size_t k = 0; k < k_; ++k) base[k] += strides_[k][a];
          if (++idx[a] < dims_[a]) break;
          for (size_t k = 0; k < k_; ++k) base[k] -= idx[a] * strides_[k][a];
          idx[a] = 0;
        }
      }
    });
  }

 private:
  size_t k_;
  int64_t numel_ = 0;
  std::vector<int64_t> dims_;
  std::vector<std::vector<int64_t>> strides_;
};

template <class T>
void strided_copy_typed(const T* src, const Shape& dims, const std::vector<int64_t>& src_strides, T* dst,
                        int threads) {
  StridedLoop loop(dims, {src_strides});
  loop.for_rows(threads, [&](const int64_t* off, int64_t o, int64_t len, const int64_t* st) {
    const T* s = src + off[0];
    T* d = dst + o;
    if (st[0] == 1) {
      std::memcpy(d, s, size_t(len) * sizeof(T));
    } else if (st[0] == 0) {
      std::fill(d, d + len, *s);
    } else {
      for (int64_t i = 0; i < len; ++i) d[i] = s[i * st[0]];
    }
  });
}

// dst (contiguous over `dims`) = src read with element strides `src_strides` (may be 0 or negative); the source
// pointer already points at the first element read. Copies by element size, so any dtype works.
inline void strided_copy(const void* src, const Shape& dims, const std::vector<int64_t>& src_strides, void* dst,
                         size_t elem_size, int threads) {
  switch (elem_size) {
    case 1: return strided_copy_typed(static_cast<const uint8_t*>(src), dims, src_strides, static_cast<uint8_t*>(dst), threads);
    case 2: return strided_copy_typed(static_cast<const uint16_t*>(src), dims, src_strides, static_cast<uint16_t*>(dst), threads);
    case 4: return strided_copy_typed(static_cast<const uint32_t*>(src), dims, src_strides, static_cast<uint32_t*>(dst), threads);
    case 8: return strided_copy_typed(static_cast<const uint64_t*>(src), dims, src_strides, static_cast<uint64_t*>(dst), threads);
    default: fail(ErrorKind::kUnsupported, "no strided copy for elements of ", elem_size, " bytes");
  }
}

// Reads a shape-like input (any integer dtype) as int64 values.
inline std::vector<int64_t> read_ints(const TensorView& v) {
  const int64_t n = v.numel();
  std::vector<int64_t> out(size_t(n > 0 ? n : 0));
  if (n > 0) convert_elements(v.data, v.dtype, out.data(), DType::kInt64, n, 1);
  return out;
}

// Reads element 0 of an input as double (scalar inputs such as Clip bounds or Range's start).
inline double read_scalar(const TensorView& v) {
  if (v.numel() < 1) fail(ErrorKind::kInvalidArgument, "expected a scalar, got an empty tensor");
  double d = 0;
  convert_elements(v.data, v.dtype, &d, DType::kFloat64, 1, 1);
  return d;
}

// A float32 copy of a float16 view (the reference computes half-precision elementwise ops in float).
struct FloatCopy {
  std::vector<float> data;
  TensorView view;
  explicit FloatCopy(const TensorView& v) : data(size_t(v.numel())), view{DType::kFloat32, v.shape, nullptr} {
    if (v.data) {
      convert_elements(v.data, v.dtype, data.data(), DType::kFloat32, v.numel(), 1);
      view.data = data.data();
    }
  }
};

// Runs `body(in, out)` with float16 operands replaced by float32 copies and converts float16 outputs back.
template <class Body>
void run_float16_as_float(const std::vector<TensorView>& in, const std::vector<TensorView>& out, int threads,
                          Body&& body) {
  std::vector<FloatCopy> in_copies, out_copies;
  in_copies.reserve(in.size());
  out_copies.reserve(out.size());
  std::vector<TensorView> in2, out2;
  for (const TensorView& v : in) {
    if (v.dtype == DType::kFloat16 && v.data) {
      in_copies.emplace_back(v);
      in2.push_back(in_copies.back().view);
    } else {
      in2.push_back(v);
    }
  }
  for (const TensorView& v : out) {
    if (v.dtype == DType::kFloat16 && v.data) {
      out_copies.emplace_back(TensorView{v.dtype, v.shape, nullptr});
      out_copies.back().view.data = out_copies.back().data.data();
      out2.push_back(out_copies.back().view);
    } else {
      out2.push_back(v);
    }
  }
  body(in2, out2);
  size_t c = 0;
  for (const TensorView& v : out)
    if (v.dtype == DType::kFloat16 && v.data) {
      convert_elements(out_copies[c].data.data(), DType::kFloat32, v.data, DType::kFloat16, v.numel(), threads);
      ++c;
    }
}

inline bool any_float16(const std::vector<TensorView>& views) {
  for (const TensorView& v : views)
    if (v.data && v.dtype == DType::kFloat16) return true;
  return false;
}

// Base of the elementwise kernels (unary, binary, variadic): float16 operands are computed in float.
class ElementwiseKernel : public CpuKernel {
 public:
  void init(const Node& node, const Graph& g) override { who_ = node.describe(); }
  void run(const std::vector<TensorView>& in, const std::vector<TensorView>& out, CpuContext& ctx) override {
    if (any_float16(in)) {
      run_float16_as_float(in, out, ctx.threads, [&](const std::vector<TensorView>& i2, const std::vector<TensorView>& o2) {
        run_views(i2, o2, ctx.threads);
      });
      return;
    }
    run_views(in, out, ctx.threads);
  }

 protected:
  virtual void run_views(const std::vector<TensorView>& in, const std::vector<TensorView>& out, int threads) = 0;
  std::string who_;
};

TRTCORE_CPU_NAMESPACE_END
