// Resize/Upsample over any number of axes. Nearest gathers through one index map per axis; linear interpolates
// one axis at a time (separable, so equal to N-linear interpolation).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "backends/cpu/cpu_kernel.h"
#include "backends/cpu/strided.h"
#include "ops/resize_params.h"

namespace trtcore::cpu {
namespace {


}  // namespace

class ResizeKernel : public CpuKernel {
 public:
  void init(const Node& node, const Graph& g) override {
    params_ = resize_params_of(node, g);
    if (g.value(node.inputs[0]).dtype != DType::kFloat32)
      fail(ErrorKind::kUnsupported, node.describe(), ": the cpu backend resizes float32 only");
  }

  void run(const std::vector<TensorView>& in, const std::vector<TensorView>& out, CpuContext& ctx) override {
    const Shape &is = in[0].shape, &os = out[0].shape;
    const size_t rank = is.size();
    std::vector<float> scale(rank);
    for (size_t i = 0; i < rank; ++i)
      scale[i] = params_.scales_given ? params_.scales[i] : float(os[i]) / float(is[i]);
    if (params_.mode == ResizeMode::kNearest) nearest(in[0], out[0], scale, ctx);
    else linear(in[0], out[0], scale, ctx);
  }

 private:
  void nearest(const TensorView& x, const TensorView& y, const std::vector<float>& scale, CpuContext& ctx) const {
    const Shape &is = x.shape, &os = y.shape;
    const size_t rank = is.size();
    // per axis: input offset (in elements) of each output coordinate
    std::vector<std::vector<int64_t>> offs(rank);
    int64_t stride = 1;
    for (size_t a = rank; a-- > 0;) {
      offs[a].resize(size_t(os[a]));
      // an unscaled axis maps straight through, whatever the rounding (tf_half_pixel_for_nn + ceil would shift it)
      const bool identity = scale[a] == 1.f && os[a] == is[a];
      for (int64_t o = 0; o < os[a]; ++o) {
        if (identity) {
          offs[a][size_t(o)] = o * stride;
          continue;
        }
        const float src = source_coord(params_.coord, o, scale[a], is[a], os[a]);
        offs[a][size_t(o)] = nearest_index(params_.rounding, src, scale[a], is[a]) * stride;
      }
      stride *= is[a];
    }
    const float* px = x.as<float>();
    float* py = y.as<float>();
    const int64_t last = rank ? os[rank - 1] : 1, rows = last ? y.numel() / last : 0;
    const int nt = ctx.threads > 1 ? ctx.threads : 1;
    parallel_items(nt, rows, last, [&](int64_t from, int64_t to) {
      for (int64_t r = from; r < to; ++r) {
        int64_t base = 0, t = r;
        for (size_t a = rank - 1; a-- > 0;) {
          base += offs[a][size_t(t % os[a])];
          t /= os[a];
        }
        const std::vector<int64_t>& lo = offs[rank - 1];
        float* q = py + r * last;
        for (int64_t j = 0; j < last; ++j) q[j] = px[base + lo[size_t(j)]];
      }
    });
  }

  void linear(const TensorView& x, const TensorView& y, const std::vector<float>& scale, CpuContext& ctx) {
    const Shape &is = x.shape, &os = y.shape;
    const size_t rank = is.size();
    Shape cur = is;
    const float* src = x.as<float>();
    std::vector<float> bufs[2];
    int which = 0;
    std::vector<size_t> axes;
    for (size_t a = 0; a < rank; ++a) {
      bool identity = os[a] == is[a];
      for (int64_t o = 0; identity && o < os[a]; ++o)
        identity = source_coord(params_.coord, o, scale[a], is[a], os[a]) == float(o);
      if (!identity) axes.push_back(a);
    }
    if (axes.empty()) {
      copy_bytes(y.data, x.data, x.nbytes());
      return;
    }
    const int nt = ctx.threads > 1 ? ctx.threads : 1;
    for (size_t k = 0; k < axes.size(); ++k) {
      const size_t a = axes[k];
      const int64_t lin = is[a], lout = os[a];
      std::vector<int64_t> i0(static_cast<size_t>(lout)), i1(static_cast<size_t>(lout));
      std::vector<float> w1(static_cast<size_t>(lout));
      for (int64_t o = 0; o < lout; ++o) {
        float s = source_coord(params_.coord, o, scale[a], lin, lout);
        s = std::min(std::max(s, 0.f), float(lin - 1));
        const int64_t lo = std::min(int64_t(s), lin - 1);
        i0[size_t(o)] = lo;
        i1[size_t(o)] = std::min(lo + 1, lin - 1);
        w1[size_t(o)] = s - float(lo);
      }
      int64_t outer = 1, inner = 1;
      for (size_t i = 0; i < a; ++i) outer *= cur[i];
      for (size_t i = a + 1; i < rank; ++i) inner *= cur[i];
      cur[a] = lout;
      float* dst;
      if (k + 1 == axes.size()) {
        dst = y.as<float>();
      } else {
        bufs[which].resize(size_t(numel(cur)));
        dst = bufs[which].data();
        which ^= 1;
      }
      parallel_items(nt, outer * lout, inner, [&](int64_t from, int64_t to) {
        for (int64_t ol = from; ol < to; ++ol) {
          const int64_t o = ol / lout, j = ol % lout;
          const float* p0 = src + (o * lin + i0[size_t(j)]) * inner;
          const float* p1 = src + (o * lin + i1[size_t(j)]) * inner;
          const float b = w1[size_t(j)], a0 = 1.f - b;
          float* q = dst + ol * inner;
          for (int64_t i = 0; i < inner; ++i) q[i] = a0 * p0[i] + b * p1[i];
        }
      });
      src = dst;
    }
  }

  ResizeParams params_;
};

}  // namespace trtcore::cpu

TRTCORE_CPU_KERNEL_FACTORY(Resize, trtcore::cpu::ResizeKernel)
TRTCORE_CPU_KERNEL_FACTORY(Upsample, trtcore::cpu::ResizeKernel)
