// ConvTranspose reference: per image and group, col = W_g^T * x_g (one GEMM), then col2im scatters the columns
// into the output; bias and the fused activation follow.
#include <algorithm>
#include <vector>

#include "backends/cpu/cpu_kernel.h"
#include "backends/cpu/strided.h"
#include "backends/cpu/im2col.h"
#include "backends/cpu/sgemm.h"

TRTCORE_CPU_NAMESPACE_BEGIN

class ConvTransposeKernel : public CpuKernel {
 public:
  void init(const Node& node, const Graph& g) override {
    node_ = node;
    act_ = FusedActivation::from(node.attrs);
    group_ = node.attrs.get_int("group", 1);
    require_float32_inputs(node, g);
    kernel_ = spatial_of(g.value(node.inputs[1]).shape);
  }

  void run(const std::vector<TensorView>& in, const std::vector<TensorView>& out, CpuContext& ctx) override {
    const TensorView& x = in[0];
    const float* w = in[1].as<float>();
    const float* bias = in.size() > 2 ? in[2].as<float>() : nullptr;
    float* y = out[0].as<float>();
    const Window win = resolve_transpose_window(node_, kernel_, spatial_of(x.shape));
    const Geometry3 geo(win);  // geo.in: input extent (col columns); geo.out: output extent
    const int64_t batch = x.shape[0], c = x.shape[1], m = out[0].shape[1];
    const int64_t cg = c / group_, mg = m / group_, kn = geo.k_size();
    const int64_t isz = geo.in_size(), osz = geo.out_size();
    col_.resize(size_t(mg * kn * isz));
    std::fill(y, y + batch * m * osz, 0.f);
    for (int64_t n = 0; n < batch; ++n)
      for (int64_t gi = 0; gi < group_; ++gi) {
        // W is [C, Mg*k]: the group's rows, transposed, times x_g [Cg, in]
        sgemm_ex(Transpose::kYes, Transpose::kNo, mg * kn, isz, cg, 1.f, w + gi * cg * mg * kn, mg * kn,
                 x.as<float>() + (n * c + gi * cg) * isz, isz, 0.f, col_.data(), isz, GemmEpilogue{}, ctx.threads);
        col2im_add(geo, mg, col_.data(), y + (n * m + gi * mg) * osz, ctx.threads);
      }
    GemmEpilogue ep;
    ep.act = act_;
    ep.row_bias = bias;
    if (ep.empty()) return;
    const int nt = ctx.threads > 1 ? ctx.threads : 1;
    parallel_items(nt, batch * m, osz, [&](int64_t from, int64_t to) {
      for (int64_t nm = from; nm < to; ++nm) apply_epilogue(ep, nm % m, 0, 1, osz, y + nm * osz, osz);
    });
  }

 private:
  Node node_;
  FusedActivation act_;
  int64_t group_ = 1;
  std::vector<int64_t> kernel_;
  std::vector<float> col_;
};

TRTCORE_CPU_NAMESPACE_END

TRTCORE_CPU_KERNEL_FACTORY(ConvTranspose, trtcore::cpu::ConvTransposeKernel)
