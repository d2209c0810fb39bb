// Softmax/LogSoftmax over a [outer, len, inner] view: the axis (opset >= 13) or the flattened trailing block
// (opset < 13, inner == 1). Max-subtracted for stability; parallel over outer x inner.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "backends/cpu/cpu_kernel.h"
#include "backends/cpu/strided.h"

TRTCORE_CPU_NAMESPACE_BEGIN

enum class SoftmaxOutput { kProbabilities, kLogProbabilities };

class SoftmaxKernel : public CpuKernel {
 public:
  explicit SoftmaxKernel(SoftmaxOutput kind) : kind_(kind) {}

  void init(const Node& node, const Graph& g) override {
    require_float32_inputs(node, g);
    coerce_2d_ = g.opset < 13;
    axis_ = node.attrs.get_int("axis", coerce_2d_ ? 1 : -1);
  }

  void run(const std::vector<TensorView>& in, const std::vector<TensorView>& out, CpuContext& ctx) override {
    const Shape& s = in[0].shape;
    const int64_t rank = int64_t(s.size()), axis = axis_ < 0 ? axis_ + rank : axis_;
    int64_t outer = 1, len = 1, inner = 1;
    for (int64_t i = 0; i < rank; ++i) {
      if (i < axis) outer *= s[size_t(i)];
      else if (i == axis || coerce_2d_) len *= s[size_t(i)];
      else inner *= s[size_t(i)];
    }
    if (outer * len * inner == 0) return;  // an empty tensor has no buffer to offset into
    const float* x = in[0].as<float>();
    float* y = out[0].as<float>();
    const int nt = ctx.threads > 1 ? ctx.threads : 1;
    const bool log = kind_ == SoftmaxOutput::kLogProbabilities;
    parallel_items(nt, outer * inner, len * 4, [&](int64_t from, int64_t to) {
      for (int64_t r = from; r < to; ++r) {
        const int64_t o = r / inner, i = r % inner;
        const float* p = x + o * len * inner + i;
        float* q = y + o * len * inner + i;
        float mx = -std::numeric_limits<float>::infinity();
        for (int64_t j = 0; j < len; ++j) mx = std::max(mx, p[j * inner]);
        float sum = 0.f;
        for (int64_t j = 0; j < len; ++j) {
          const float e = std::exp(p[j * inner] - mx);
          sum += e;
          if (!log) q[j * inner] = e;
        }
        if (log) {
          const float ls = std::log(sum);
          for (int64_t j = 0; j < len; ++j) q[j * inner] = p[j * inner] - mx - ls;
        } else {
          const float inv = 1.f / sum;
          for (int64_t j = 0; j < len; ++j) q[j * inner] *= inv;
        }
      }
    });
  }

 private:
  SoftmaxOutput kind_;
  bool coerce_2d_ = false;
  int64_t axis_ = -1;
};

struct SoftmaxProbKernel : SoftmaxKernel {
  SoftmaxProbKernel() : SoftmaxKernel(SoftmaxOutput::kProbabilities) {}
};
struct LogSoftmaxKernel : SoftmaxKernel {
  LogSoftmaxKernel() : SoftmaxKernel(SoftmaxOutput::kLogProbabilities) {}
};

TRTCORE_CPU_NAMESPACE_END

TRTCORE_CPU_KERNEL_FACTORY(Softmax, trtcore::cpu::SoftmaxProbKernel)
TRTCORE_CPU_KERNEL_FACTORY(LogSoftmax, trtcore::cpu::LogSoftmaxKernel)
