// Gemm: Y = act(alpha * op(A) * op(B) + beta * C); C is broadcast into Y first, then accumulated by sgemm.
#include <vector>

#include "backends/cpu/cpu_kernel.h"
#include "backends/cpu/sgemm.h"

TRTCORE_CPU_NAMESPACE_BEGIN

class GemmKernel : public CpuKernel {
 public:
  void init(const Node& node, const Graph& g) override {
    trans_a_ = node.attrs.get_int("transA", 0) ? Transpose::kYes : Transpose::kNo;
    trans_b_ = node.attrs.get_int("transB", 0) ? Transpose::kYes : Transpose::kNo;
    alpha_ = node.attrs.get_float("alpha", 1.f);
    beta_ = node.attrs.get_float("beta", 1.f);
    act_ = FusedActivation::from(node.attrs);
    require_float32_inputs(node, g);
  }

  void run(const std::vector<TensorView>& in, const std::vector<TensorView>& out, CpuContext& ctx) override {
    const TensorView &a = in[0], &b = in[1];
    const int64_t m = out[0].shape[0], n = out[0].shape[1];
    const int64_t k = trans_a_ == Transpose::kYes ? a.shape[0] : a.shape[1];
    float* y = out[0].as<float>();
    float beta = 0.f;
    if (in.size() > 2 && in[2].data && beta_ != 0.f) {
      // broadcast C (scalar, [N], [1,N], [M,1], [M,N]) into Y
      const Shape& cs = in[2].shape;
      const int64_t cm = cs.size() == 2 ? cs[0] : 1, cn = cs.empty() ? 1 : cs.back();
      const float* c = in[2].as<float>();
      for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < n; ++j) y[i * n + j] = c[(cm == 1 ? 0 : i) * cn + (cn == 1 ? 0 : j)];
      beta = beta_;
    }
    GemmEpilogue ep;
    ep.act = act_;
    sgemm_ex(trans_a_, trans_b_, m, n, k, alpha_, a.as<float>(), a.shape[1], b.as<float>(), b.shape[1], beta, y, n,
             ep, ctx.threads);
  }

 private:
  Transpose trans_a_ = Transpose::kNo, trans_b_ = Transpose::kNo;
  float alpha_ = 1.f, beta_ = 1.f;
  FusedActivation act_;
};

TRTCORE_CPU_NAMESPACE_END

TRTCORE_CPU_KERNEL_FACTORY(Gemm, trtcore::cpu::GemmKernel)
