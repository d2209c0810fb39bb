// MatMul with numpy broadcasting: when B is a single matrix and A's batch is dense, all of A's rows form one
// GEMM; otherwise one GEMM per broadcast batch index.
#include <vector>

#include "backends/cpu/cpu_kernel.h"
#include "backends/cpu/sgemm.h"

TRTCORE_CPU_NAMESPACE_BEGIN

class MatMulKernel : public CpuKernel {
 public:
  void init(const Node& node, const Graph& g) override {
    require_float32_inputs(node, g);
  }

  void run(const std::vector<TensorView>& in, const std::vector<TensorView>& out, CpuContext& ctx) override {
    Shape a = in[0].shape, b = in[1].shape;
    if (a.size() == 1) a.insert(a.begin(), 1);
    if (b.size() == 1) b.push_back(1);
    const int64_t m = a[a.size() - 2], k = a.back(), n = b.back();
    const float* pa = in[0].as<float>();
    const float* pb = in[1].as<float>();
    float* py = out[0].as<float>();
    // an empty output (a batch axis of 0 broadcast against 1) computes nothing; the loops below would read B
    if (out[0].numel() == 0) return;
    const Shape ab(a.begin(), a.end() - 2), bb(b.begin(), b.end() - 2);
    const int64_t a_batch = numel(ab), b_batch = numel(bb);
    if (b_batch == 1) {
      sgemm(false, false, a_batch * m, n, k, 1.f, pa, k, pb, n, 0.f, py, n, ctx.threads);
      return;
    }
    // broadcast batch: walk the output's batch index and map it into each operand
    const size_t r = std::max(ab.size(), bb.size());
    Shape ob(r), sa(r, 0), sb(r, 0);
    for (size_t i = 0, ea = m * k, eb = k * n; i < r; ++i) {
      const size_t j = r - 1 - i;
      const int64_t da = i < ab.size() ? ab[ab.size() - 1 - i] : 1, db = i < bb.size() ? bb[bb.size() - 1 - i] : 1;
      ob[j] = std::max(da, db);
      sa[j] = da == 1 ? 0 : int64_t(ea);
      sb[j] = db == 1 ? 0 : int64_t(eb);
      ea *= size_t(da);
      eb *= size_t(db);
    }
    const int64_t total = numel(ob);
    std::vector<int64_t> idx(r, 0);
    for (int64_t t = 0; t < total; ++t) {
      int64_t oa = 0, obf = 0;
      for (size_t i = 0; i < r; ++i) {
        oa += idx[i] * sa[i];
        obf += idx[i] * sb[i];
      }
      sgemm(false, false, m, n, k, 1.f, pa + oa, k, pb + obf, n, 0.f, py + t * m * n, n, ctx.threads);
      for (size_t i = r; i-- > 0;) {
        if (++idx[i] < ob[i]) break;
        idx[i] = 0;
      }
    }
  }
};

TRTCORE_CPU_NAMESPACE_END

TRTCORE_CPU_KERNEL_FACTORY(MatMul, trtcore::cpu::MatMulKernel)
