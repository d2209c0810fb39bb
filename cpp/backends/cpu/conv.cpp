// Conv reference with fast paths: 1x1/stride-1/unpadded convs are one GEMM per image and group, depthwise convs
// run a direct kernel, others im2col + GEMM per group. Bias, the fused residual and activation are applied in
// the GEMM's output pass.
#include <algorithm>
#include <vector>

#include "backends/cpu/cpu_kernel.h"
#include "backends/cpu/im2col.h"
#include "backends/cpu/sgemm.h"

namespace trtcore::cpu {

class ConvKernel : public CpuKernel {
 public:
  void init(const Node& node, const Graph& g) override {
    node_ = node;
    act_ = FusedActivation::from(node.attrs);
    group_ = node.attrs.get_int("group", 1);
    const Value& w = g.value(node.inputs[1]);
    if (w.dtype != DType::kFloat32 || g.value(node.inputs[0]).dtype != DType::kFloat32)
      fail(ErrorKind::kUnsupported, node.describe(), ": the cpu backend runs Conv in float32 only");
    kernel_ = spatial_of(w.shape);
    if (w.constant) weights_ = w.constant;
    if (node.inputs.size() > 2 && node.inputs[2] >= 0 && g.value(node.inputs[2]).constant)
      bias_ = g.value(node.inputs[2]).constant;
  }

  void run(const std::vector<TensorView>& in, const std::vector<TensorView>& out, CpuContext& ctx) override {
    const TensorView& x = in[0];
    const float* w = weights_ ? weights_->data<float>() : in[1].as<float>();
    const float* bias = bias_ ? bias_->data<float>() : (in.size() > 2 ? in[2].as<float>() : nullptr);
    const float* residual = in.size() > 3 ? in[3].as<float>() : nullptr;
    float* y = out[0].as<float>();
    const Window win = resolve_window(node_, kernel_, spatial_of(x.shape), OutputRounding::kFloor, true);
    const Geometry3 geo(win);
    const int64_t batch = x.shape[0], c = x.shape[1], m = out[0].shape[1];
    const int64_t cg = c / group_, mg = m / group_, ksz = geo.k_size() * cg;
    const int64_t isz = geo.in_size(), osz = geo.out_size();

    if (cg == 1 && group_ == c) {
      depthwise(geo, batch, c, mg, x.as<float>(), w, bias, residual, y, ctx.threads);
      return;
    }
    bool pointwise = geo.k_size() == 1 && win.no_padding();
    for (size_t i = 0; i < win.rank(); ++i) pointwise = pointwise && win.stride[i] == 1;
    if (!pointwise && col_.size() < size_t(ksz * osz)) col_.resize(size_t(ksz * osz));
    for (int64_t n = 0; n < batch; ++n) {
      for (int64_t gi = 0; gi < group_; ++gi) {
        const float* xin = x.as<float>() + (n * c + gi * cg) * isz;
        const float* b = xin;
        if (!pointwise) {
          im2col(geo, cg, xin, col_.data(), ctx.threads);
          b = col_.data();
        }
        GemmEpilogue ep;
        ep.act = act_;
        ep.row_bias = bias ? bias + gi * mg : nullptr;
        ep.residual = residual ? residual + (n * m + gi * mg) * osz : nullptr;
        ep.ld_residual = osz;
        sgemm_ex(Transpose::kNo, Transpose::kNo, mg, osz, ksz, 1.f, w + gi * mg * ksz, ksz, b, osz, 0.f,
                 y + (n * m + gi * mg) * osz, osz, ep, ctx.threads);
      }
    }
  }

 private:
  // One input channel per group: each output plane is a weighted sum of shifted rows of its input plane.
  void depthwise(const Geometry3& g, int64_t batch, int64_t c, int64_t mult, const float* x, const float* w,
                 const float* bias, const float* residual, float* y, int threads) const {
    const int64_t m = c * mult, isz = g.in_size(), osz = g.out_size(), ksz = g.k_size();
    const int nt = threads > 1 ? threads : 1;
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
    for (int64_t nm = 0; nm < batch * m; ++nm) {
      const int64_t n = nm / m, oc = nm % m, ic = oc / mult;
      const float* plane = x + (n * c + ic) * isz;
      const float* wk = w + oc * ksz;
      float* dst = y + nm * osz;
      std::fill(dst, dst + osz, bias ? bias[oc] : 0.f);
      for (int64_t kd = 0; kd < g.k[0]; ++kd)
        for (int64_t kh = 0; kh < g.k[1]; ++kh)
          for (int64_t kw = 0; kw < g.k[2]; ++kw) {
            const float wv = wk[(kd * g.k[1] + kh) * g.k[2] + kw];
            const int64_t off_w = kw * g.d[2] - g.p[2];
            int64_t lo = off_w >= 0 ? 0 : (-off_w + g.s[2] - 1) / g.s[2];
            int64_t hi = g.in[2] - off_w <= 0 ? 0 : (g.in[2] - off_w + g.s[2] - 1) / g.s[2];
            lo = std::min(lo, g.out[2]);
            hi = std::max(lo, std::min(hi, g.out[2]));
            for (int64_t od = 0; od < g.out[0]; ++od) {
              const int64_t id = od * g.s[0] - g.p[0] + kd * g.d[0];
              if (id < 0 || id >= g.in[0]) continue;
              for (int64_t oh = 0; oh < g.out[1]; ++oh) {
                const int64_t ih = oh * g.s[1] - g.p[1] + kh * g.d[1];
                if (ih < 0 || ih >= g.in[1]) continue;
                const float* src = plane + (id * g.in[1] + ih) * g.in[2] + off_w;
                float* row = dst + (od * g.out[1] + oh) * g.out[2];
                if (g.s[2] == 1) {
#pragma omp simd
                  for (int64_t ow = lo; ow < hi; ++ow) row[ow] += wv * src[ow];
                } else {
                  for (int64_t ow = lo; ow < hi; ++ow) row[ow] += wv * src[ow * g.s[2]];
                }
              }
            }
          }
      GemmEpilogue ep;
      ep.act = act_;
      ep.residual = residual ? residual + nm * osz : nullptr;
      ep.ld_residual = osz;
      apply_epilogue(ep, 0, 0, 1, osz, dst, osz);
    }
  }

  Node node_;
  FusedActivation act_;
  int64_t group_ = 1;
  std::vector<int64_t> kernel_;
  TensorPtr weights_, bias_;
  std::vector<float> col_;
};

}  // namespace trtcore::cpu

TRTCORE_CPU_KERNEL_FACTORY(Conv, trtcore::cpu::ConvKernel)
