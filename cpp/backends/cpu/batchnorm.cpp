// BatchNormalization (inference): folds scale/B/mean/var into one multiply-add per channel.
#include <cmath>
#include <vector>

#include "backends/cpu/cpu_kernel.h"
#include "backends/cpu/strided.h"

namespace trtcore::cpu {

class BatchNormKernel : public CpuKernel {
 public:
  void init(const Node& node, const Graph& g) override {
    epsilon_ = node.attrs.get_float("epsilon", 1e-5f);
    require_float32_inputs(node, g);
  }

  void run(const std::vector<TensorView>& in, const std::vector<TensorView>& out, CpuContext& ctx) override {
    const TensorView& x = in[0];
    const int64_t batch = x.shape[0], c = x.shape[1], plane = c ? x.numel() / (batch * c) : 0;
    const float *scale = in[1].as<float>(), *b = in[2].as<float>(), *mean = in[3].as<float>(),
                *var = in[4].as<float>();
    std::vector<float> mul(static_cast<size_t>(c)), add(static_cast<size_t>(c));
    for (int64_t i = 0; i < c; ++i) {
      mul[size_t(i)] = scale[i] / std::sqrt(var[i] + epsilon_);
      add[size_t(i)] = b[i] - mean[i] * mul[size_t(i)];
    }
    const float* src = x.as<float>();
    float* dst = out[0].as<float>();
    const int nt = ctx.threads > 1 ? ctx.threads : 1;
    parallel_items(nt, batch * c, plane, [&](int64_t from, int64_t to) {
      for (int64_t nc = from; nc < to; ++nc) {
        const float a = mul[size_t(nc % c)], s = add[size_t(nc % c)];
        const float* p = src + nc * plane;
        float* q = dst + nc * plane;
#pragma omp simd
        for (int64_t i = 0; i < plane; ++i) q[i] = p[i] * a + s;
      }
    });
  }

 private:
  float epsilon_ = 1e-5f;
};

}  // namespace trtcore::cpu

TRTCORE_CPU_KERNEL_FACTORY(BatchNormalization, trtcore::cpu::BatchNormKernel)
