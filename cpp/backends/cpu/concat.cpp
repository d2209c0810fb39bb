// Concat and Split references: per outer index, one contiguous block per input (or output) along the axis.
#include <cstring>

#include "backends/cpu/strided.h"

namespace trtcore::cpu {
namespace {

// Bytes in one outer row of `s` from `axis` on, and the number of outer rows before `axis`.
struct AxisBlocks {
  int64_t outer = 1;
  int64_t inner_bytes = 1;  // bytes of one index along the axis
};

AxisBlocks blocks_of(const Shape& s, int64_t axis, DType t) {
  AxisBlocks b;
  for (int64_t a = 0; a < axis; ++a) b.outer *= s[size_t(a)];
  b.inner_bytes = int64_t(dtype_size(t));
  for (size_t a = size_t(axis) + 1; a < s.size(); ++a) b.inner_bytes *= s[a];
  return b;
}

class ConcatKernel : public CpuKernel {
 public:
  void init(const Node& node, const Graph&) override { axis_attr_ = node.attrs.get_int("axis", 0); }
  void run(const std::vector<TensorView>& in, const std::vector<TensorView>& out, CpuContext& ctx) override {
    const TensorView& y = out[0];
    const int64_t axis = axis_attr_ < 0 ? axis_attr_ + int64_t(y.shape.size()) : axis_attr_;
    const AxisBlocks b = blocks_of(y.shape, axis, y.dtype);
    const int64_t out_row = y.shape[size_t(axis)] * b.inner_bytes;
    uint8_t* dst = static_cast<uint8_t*>(y.data);
    int64_t offset = 0;
    for (const TensorView& x : in) {
      const int64_t row = x.shape[size_t(axis)] * b.inner_bytes;
      const uint8_t* src = static_cast<const uint8_t*>(x.data);
      if (row == 0) continue;  // an empty input has no buffer and adds nothing
      parallel_items(ctx.threads, b.outer, row / 4, [&](int64_t from, int64_t to) {
        for (int64_t o = from; o < to; ++o) std::memcpy(dst + o * out_row + offset, src + o * row, size_t(row));
      });
      offset += row;
    }
  }

 private:
  int64_t axis_attr_ = 0;
};

class SplitKernel : public CpuKernel {
 public:
  void init(const Node& node, const Graph&) override {
    axis_attr_ = node.attrs.get_int("axis", 0);
    // An absent output would leave its offset unknown: only trailing outputs may be dropped.
    for (size_t k = 0; k + 1 < node.outputs.size(); ++k)
      if (node.outputs[k] < 0 && node.outputs[k + 1] >= 0)
        fail(ErrorKind::kUnsupported, node.describe(), ": only trailing outputs of Split may be absent");
  }
  void run(const std::vector<TensorView>& in, const std::vector<TensorView>& out, CpuContext& ctx) override {
    const TensorView& x = in[0];
    const int64_t axis = axis_attr_ < 0 ? axis_attr_ + int64_t(x.shape.size()) : axis_attr_;
    const AxisBlocks b = blocks_of(x.shape, axis, x.dtype);
    const int64_t in_row = x.shape[size_t(axis)] * b.inner_bytes;
    const uint8_t* src = static_cast<const uint8_t*>(x.data);
    int64_t offset = 0;
    // Output sizes along the axis come from the output views (the split the graph inferred).
    for (const TensorView& y : out) {
      if (!y.data) break;
      const int64_t row = y.shape[size_t(axis)] * b.inner_bytes;
      uint8_t* dst = static_cast<uint8_t*>(y.data);
      parallel_items(ctx.threads, b.outer, row / 4, [&](int64_t from, int64_t to) {
        for (int64_t o = from; o < to; ++o) std::memcpy(dst + o * row, src + o * in_row + offset, size_t(row));
      });
      offset += row;
    }
  }

 private:
  int64_t axis_attr_ = 0;
};

}  // namespace
}  // namespace trtcore::cpu

TRTCORE_CPU_KERNEL_FACTORY(Concat, trtcore::cpu::ConcatKernel)
TRTCORE_CPU_KERNEL_FACTORY(Split, trtcore::cpu::SplitKernel)
