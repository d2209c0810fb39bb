// LRN across channels: y = x / (bias + alpha / size * sum of x^2 over channels [c - (size-1)/2, c + size/2])^beta.
#include <algorithm>
#include <cmath>
#include <vector>

#include "backends/cpu/cpu_kernel.h"
#include "backends/cpu/strided.h"

namespace trtcore::cpu {

class LrnKernel : public CpuKernel {
 public:
  void init(const Node& node, const Graph& g) override {
    if (g.value(node.inputs[0]).dtype != DType::kFloat32)
      fail(ErrorKind::kUnsupported, node.describe(), ": the cpu backend normalizes float32 only, got ",
           dtype_name(g.value(node.inputs[0]).dtype));
    size_ = node.attrs.get_int("size", 1);
    alpha_ = node.attrs.get_float("alpha", 1e-4f);
    beta_ = node.attrs.get_float("beta", 0.75f);
    bias_ = node.attrs.get_float("bias", 1.f);
  }

  void run(const std::vector<TensorView>& in, const std::vector<TensorView>& out, CpuContext& ctx) override {
    const TensorView& x = in[0];
    const int64_t batch = x.shape[0], c = x.shape[1], plane = batch * c ? x.numel() / (batch * c) : 0;
    const int64_t before = (size_ - 1) / 2, after = size_ - 1 - before;
    const float* src = x.as<float>();
    float* dst = out[0].as<float>();
    const float a = alpha_ / float(size_);
    const int nt = ctx.threads > 1 ? ctx.threads : 1;
    // a window wider than the channels sums them all (size may be as large as int64 allows)
    parallel_items(nt, batch * c, plane * std::min(size_, c), [&](int64_t from, int64_t to) {
      for (int64_t nc = from; nc < to; ++nc) {
        const int64_t n = nc / c, ch = nc % c;
        std::vector<float> sq(size_t(plane), 0.f);
        for (int64_t k = std::max<int64_t>(0, ch - before); k <= std::min(c - 1, ch + after); ++k) {
          const float* p = src + (n * c + k) * plane;
          for (int64_t i = 0; i < plane; ++i) sq[size_t(i)] += p[i] * p[i];
        }
        const float* p = src + nc * plane;
        float* q = dst + nc * plane;
        for (int64_t i = 0; i < plane; ++i) q[i] = p[i] * std::pow(bias_ + a * sq[size_t(i)], -beta_);
      }
    });
  }

 private:
  int64_t size_ = 1;
  float alpha_ = 1e-4f, beta_ = 0.75f, bias_ = 1.f;
};

}  // namespace trtcore::cpu

TRTCORE_CPU_KERNEL_FACTORY(LRN, trtcore::cpu::LrnKernel)
