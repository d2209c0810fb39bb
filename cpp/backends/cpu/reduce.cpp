// ReduceMean/ReduceSum/ReduceMax. Adjacent axes of the same kind (reduced or kept) are merged first; a single
// reduced block becomes a fast [outer, len, inner] loop, anything else walks the input with an odometer.
#include <algorithm>
#include <cstring>
#include <limits>
#include <vector>

#include "backends/cpu/cpu_kernel.h"
#include "backends/cpu/strided.h"
#include "ops/reduce_axes.h"

namespace trtcore::cpu {

enum class ReduceKind { kMean, kSum, kMax };

class ReduceKernel : public CpuKernel {
 public:
  explicit ReduceKernel(ReduceKind kind) : kind_(kind) {}

  void init(const Node& node, const Graph& g) override {
    const size_t rank = g.value(node.inputs[0]).shape.size();
    const bool axes_input = g.opset >= reduce_axes_input_opset(node.op) && node.inputs.size() > 1 && node.inputs[1] >= 0;
    std::vector<int64_t> axes;
    if (axes_input) {
      const Value& v = g.value(node.inputs[1]);
      if (!v.constant) fail(ErrorKind::kUnsupported, node.describe(), ": axes must be a constant");
      axes = v.constant->as_int64();
    }
    axes_ = resolve_reduce_axes(node, rank, axes_input ? &axes : nullptr);
    if (g.value(node.inputs[0]).dtype != DType::kFloat32)
      fail(ErrorKind::kUnsupported, node.describe(), ": the cpu backend reduces float32 only");
  }

  void run(const std::vector<TensorView>& in, const std::vector<TensorView>& out, CpuContext& ctx) override {
    const float* x = in[0].as<float>();
    float* y = out[0].as<float>();
    if (axes_.noop) {
      copy_bytes(y, x, in[0].nbytes());
      return;
    }
    // merge runs of axes with the same kind
    std::vector<int64_t> ext;
    std::vector<bool> red;
    for (size_t i = 0; i < in[0].shape.size(); ++i) {
      const int64_t e = in[0].shape[i];
      if (e == 1) continue;
      if (!red.empty() && red.back() == axes_.reduced[i]) ext.back() *= e;
      else {
        ext.push_back(e);
        red.push_back(axes_.reduced[i]);
      }
    }
    int64_t count = 1;
    for (size_t i = 0; i < ext.size(); ++i)
      if (red[i]) count *= ext[i];
    const float init = kind_ == ReduceKind::kMax ? -std::numeric_limits<float>::infinity() : 0.f;
    const int64_t on = out[0].numel();
    std::fill(y, y + on, init);
    const int nt = ctx.threads > 1 ? ctx.threads : 1;
    const size_t nblocks = ext.size();
    const bool simple = nblocks <= 1 || (nblocks == 2) || (nblocks == 3 && red[1]);
    if (simple) {
      int64_t outer = 1, len = 1, inner = 1;
      if (nblocks == 1) (red[0] ? len : outer) = ext[0];
      if (nblocks == 2) {
        if (red[0]) { len = ext[0]; inner = ext[1]; } else { outer = ext[0]; len = ext[1]; }
      }
      if (nblocks == 3) { outer = ext[0]; len = ext[1]; inner = ext[2]; }
      parallel_items(nt, outer, len * inner, [&](int64_t from, int64_t to) {
        for (int64_t o = from; o < to; ++o) {
          float* q = y + o * inner;
          for (int64_t j = 0; j < len; ++j) {
            const float* p = x + (o * len + j) * inner;
            if (kind_ == ReduceKind::kMax)
              for (int64_t i = 0; i < inner; ++i) q[i] = std::max(q[i], p[i]);
            else
              for (int64_t i = 0; i < inner; ++i) q[i] += p[i];
          }
        }
      });
    } else {
      // generic: output strides are 0 on reduced blocks
      std::vector<int64_t> ostride(nblocks, 0);
      int64_t s = 1;
      for (size_t i = nblocks; i-- > 0;)
        if (!red[i]) {
          ostride[i] = s;
          s *= ext[i];
        }
      std::vector<int64_t> idx(nblocks, 0);
      const int64_t total = in[0].numel();
      int64_t oi = 0;
      for (int64_t t = 0; t < total; ++t) {
        y[oi] = kind_ == ReduceKind::kMax ? std::max(y[oi], x[t]) : y[oi] + x[t];
        for (size_t i = nblocks; i-- > 0;) {
          oi += ostride[i];
          if (++idx[i] < ext[i]) break;
          oi -= ostride[i] * ext[i];
          idx[i] = 0;
        }
      }
    }
    if (kind_ == ReduceKind::kMean && count > 0)
      for (int64_t i = 0; i < on; ++i) y[i] /= float(count);
  }

 private:
  ReduceKind kind_;
  ReduceAxes axes_;
};

struct ReduceMeanKernel : ReduceKernel {
  ReduceMeanKernel() : ReduceKernel(ReduceKind::kMean) {}
};
struct ReduceSumKernel : ReduceKernel {
  ReduceSumKernel() : ReduceKernel(ReduceKind::kSum) {}
};
struct ReduceMaxKernel : ReduceKernel {
  ReduceMaxKernel() : ReduceKernel(ReduceKind::kMax) {}
};

}  // namespace trtcore::cpu

TRTCORE_CPU_KERNEL_FACTORY(ReduceMean, trtcore::cpu::ReduceMeanKernel)
TRTCORE_CPU_KERNEL_FACTORY(ReduceSum, trtcore::cpu::ReduceSumKernel)
TRTCORE_CPU_KERNEL_FACTORY(ReduceMax, trtcore::cpu::ReduceMaxKernel)
