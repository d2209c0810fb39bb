// Conv as an implicit GEMM per image and group: weights are packed into the GEMM's row panels once at init, and
// the patch matrix is never materialised: each column panel is gathered from the image right before the
// micro-kernel uses it (while it is in cache). Depthwise convs run a direct kernel. Bias, the fused residual and
// activation are applied in the GEMM's output pass. Work is cut into (image, group, column block, row block)
// tasks taken dynamically, so a thread that is descheduled does not hold the others back.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "backends/cpu/cpu_kernel.h"
#include "backends/cpu/depthwise.h"
#include "backends/cpu/im2col.h"
#include "backends/cpu/sgemm.h"
#include "backends/cpu/thread_pool.h"
#include "backends/cpu/winograd.h"

TRTCORE_CPU_NAMESPACE_BEGIN

class ConvKernel : public CpuKernel {
 public:
  void init(const Node& node, const Graph& g) override {
    node_ = node;
    act_ = FusedActivation::from(node.attrs);
    group_ = node.attrs.get_int("group", 1);
    const Value& w = g.value(node.inputs[1]);
    require_float32_inputs(node, g);
    kernel_ = spatial_of(w.shape);
    if (w.constant) weights_ = w.constant;
    const bool depthwise = w.shape.size() > 1 && w.shape[1] == 1 && group_ > 1 && w.shape[0] % group_ == 0;
    int64_t taps = 1;
    for (int64_t k : kernel_) taps *= k;
    if (weights_ && depthwise) blocked_ = pack_channel_blocks(weights_->data<float>(), w.shape[0], taps);
    if (weights_ && group_ == 1 && w.shape.size() > 1 && w.shape[1] * taps <= kSmallTapsMax)
      blocked_ = pack_channel_blocks(weights_->data<float>(), w.shape[0], w.shape[1] * taps);
    if (weights_ && !depthwise && w.shape.size() > 1) {
      int64_t ksz = w.shape[1];
      for (int64_t k : kernel_) ksz *= k;
      packed_ = pack_weights(weights_->data<float>(), w.shape[0] / group_, ksz);
      // stride-1, dilation-1 3x3 filters also get Winograd's transformed copy; run() picks the path per shape
      const auto ones = [&](const char* name) {
        const std::vector<int64_t> v = node.attrs.get_ints(name);
        return std::all_of(v.begin(), v.end(), [](int64_t e) { return e == 1; });
      };
      if (group_ == 1 && kernel_ == std::vector<int64_t>{3, 3} && ones("strides") && ones("dilations"))
        winograd_.init(weights_->data<float>(), w.shape[0], w.shape[1]);
    }
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
    const int64_t cg = c / group_, mg = m / group_, ksz = geo.k_size() * cg, osz = geo.out_size();

    if (cg == 1 && group_ == c && depthwise_blocked_suits(geo)) {
      std::vector<float> runtime_filters;
      const float* pk = blocked_.empty() ? (runtime_filters = pack_channel_blocks(w, m, geo.k_size())).data()
                                         : blocked_.data();
      depthwise_blocked(geo, batch, c, mg, x.as<float>(), pk, bias, residual, act_, y, ctx.threads);
      return;
    }
    if (osz > 1 && small_taps_suits(geo, group_, c)) {
      std::vector<float> runtime_filters;
      const float* pk = blocked_.empty() ? (runtime_filters = pack_channel_blocks(w, m, ksz)).data() : blocked_.data();
      small_taps_conv(geo, batch, c, m, x.as<float>(), pk, bias, residual, act_, y, ctx.threads);
      return;
    }
    if (cg == 1 && group_ == c) {
      depthwise(geo, batch, c, mg, x.as<float>(), w, bias, residual, y, ctx.threads);
      return;
    }
    if (winograd_.ready() && WinogradConv::suits(geo, batch, group_, c, m)) {
      winograd_.run(geo, batch, x.as<float>(), bias, residual, act_, y, ctx.threads);
      return;
    }
    // one output position (squeeze-excite convs on pooled vectors): a matrix-vector product, no panels
    if (osz == 1) {
      matrix_vector(geo, batch, c, m, x.as<float>(), w, bias, residual, y, ctx.threads);
      return;
    }
    // Pointwise convolutions on images of a few pixels (late in mobile nets): one GEMM with the whole batch as its
    // columns, so the weights are read once instead of once an image and the column panels are full.
    if (group_ == 1 && batch > 1 && osz < gemm_panel_width() * 8 && pointwise(geo)) {
      batch_as_columns(geo, batch, c, m, x.as<float>(), w, bias, residual, y, ctx.threads);
      return;
    }
    implicit_gemm(geo, batch, c, m, x.as<float>(), w, bias, residual, y, ctx.threads);
  }

 private:
  // B's column panels gathered from one image (and group) of the input.
  class PatchPanels : public PanelSource {
   public:
    PatchPanels(const Geometry3& g, const float* x) : g_(g), x_(x) {}
    void pack(int64_t k0, int64_t kc, int64_t j0, int64_t nr, float* dst) const override {
      im2col_panel(g_, x_, k0, kc, j0, nr, gemm_panel_width(), dst);
    }

   private:
    const Geometry3& g_;
    const float* x_;
  };

  // 64-byte aligned scratch of the calling thread (the micro-kernel loads B panels aligned); a run is one thread.
  static float* shared_scratch(int64_t floats) {
    thread_local std::vector<float> buf;
    if (buf.size() < size_t(floats + 16)) buf.resize(size_t(floats + 16));
    const uintptr_t p = reinterpret_cast<uintptr_t>(buf.data());
    return reinterpret_cast<float*>((p + 63) / 64 * 64);
  }

  std::vector<PackedA> pack_weights(const float* w, int64_t mg, int64_t ksz) const {
    std::vector<PackedA> out;
    out.reserve(size_t(group_));
    for (int64_t gi = 0; gi < group_; ++gi) out.emplace_back(Transpose::kNo, mg, ksz, w + gi * mg * ksz, ksz);
    return out;
  }

  static bool pointwise(const Geometry3& g) {
    for (int i = 0; i < 3; ++i)
      if (g.k[i] != 1 || g.s[i] != 1 || g.p[i] != 0 || g.in[i] != g.out[i]) return false;
    return true;
  }

  // The batch's [n][channel][pixel] planes as one [channel][n * pixel] image of one row, convolved by the same 1x1
  // filters (implicit_gemm on batch 1), then put back; the residual goes the same way.
  void batch_as_columns(const Geometry3& geo, int64_t batch, int64_t c, int64_t m, const float* x, const float* w,
                        const float* bias, const float* residual, float* y, int threads) const {
    const int64_t osz = geo.out_size(), cols = batch * osz;
    Geometry3 flat = geo;
    for (int i = 0; i < 3; ++i) flat.in[i] = flat.out[i] = 1;
    flat.in[2] = flat.out[2] = cols;
    thread_local std::vector<float> buf;  // apart from shared_scratch, which implicit_gemm uses
    const int64_t need = (c + m + (residual ? m : 0)) * cols;
    if (buf.size() < size_t(need)) buf.resize(size_t(need));
    float* xm = buf.data();
    float* ym = xm + c * cols;
    float* rm = residual ? ym + m * cols : nullptr;
    const size_t plane = size_t(osz) * sizeof(float);
    const auto to_columns = [&](const float* src, int64_t ch, float* dst) {
      for (int64_t n = 0; n < batch; ++n)
        for (int64_t k = 0; k < ch; ++k) std::memcpy(dst + k * cols + n * osz, src + (n * ch + k) * osz, plane);
    };
    to_columns(x, c, xm);
    if (residual) to_columns(residual, m, rm);
    implicit_gemm(flat, 1, c, m, xm, w, bias, rm, ym, threads);
    for (int64_t n = 0; n < batch; ++n)
      for (int64_t k = 0; k < m; ++k) std::memcpy(y + (n * m + k) * osz, ym + k * cols + n * osz, plane);
  }

  // y = W x per image and group, x being the patch of the single output position.
  void matrix_vector(const Geometry3& geo, int64_t batch, int64_t c, int64_t m, const float* x, const float* w,
                     const float* bias, const float* residual, float* y, int threads) {
    const int64_t cg = c / group_, mg = m / group_, ksz = geo.k_size() * cg, isz = geo.in_size();
    for (int64_t n = 0; n < batch; ++n)
      for (int64_t gi = 0; gi < group_; ++gi) {
        const float* xin = x + (n * c + gi * cg) * isz;
        const float* b = xin;
        if (!(geo.k_size() == 1 && isz == 1)) {
          if (col_.size() < size_t(ksz)) col_.resize(size_t(ksz));
          im2col(geo, cg, xin, col_.data(), 1);
          b = col_.data();
        }
        GemmEpilogue ep;
        ep.act = act_;
        ep.row_bias = bias ? bias + gi * mg : nullptr;
        ep.residual = residual ? residual + (n * m + gi * mg) : nullptr;
        ep.ld_residual = 1;
        sgemm_ex(Transpose::kNo, Transpose::kNo, mg, 1, ksz, 1.f, w + gi * mg * ksz, ksz, b, 1, 0.f,
                 y + (n * m + gi * mg), 1, ep, threads);
      }
  }

  // Implicit GEMM per image and group over (image, group, column block, row block) tasks; the patch panels are
  // gathered right before use, or packed once into a shared buffer when rows are split across threads.
  void implicit_gemm(const Geometry3& geo, int64_t batch, int64_t c, int64_t m, const float* xs, const float* w,
                     const float* bias, const float* residual, float* y, int threads) const {
    const int64_t cg = c / group_, mg = m / group_, ksz = geo.k_size() * cg;
    const int64_t isz = geo.in_size(), osz = geo.out_size();
    // weights that arrive as a graph input are packed on every run
    std::vector<PackedA> runtime_packed;
    const std::vector<PackedA>& packed = packed_.empty() ? (runtime_packed = pack_weights(w, mg, ksz)) : packed_;

    const int nt = threads > 1 ? threads : 1;
    const int64_t nr = gemm_panel_width(), ra = gemm_row_align();
    // column blocks of a few panels keep the gathered patches (block x K-slice) in L2
    const int64_t col_block = nr * 8;
    const int64_t ncb = (osz + col_block - 1) / col_block;
    const int64_t base = batch * group_ * ncb;
    const int64_t row_panels = (mg + ra - 1) / ra;
    // too few column blocks to feed every thread: cut the rows as well
    const int64_t nrb = nt == 1 ? 1 : std::min(row_panels, std::max<int64_t>(1, (4 * nt + base - 1) / base));
    const int64_t tasks = base * nrb;
    const bool parallel = nt > 1 && tasks > 1 && mg * osz * ksz * batch * group_ >= kMinParallelMacs;
    // Bias of group gi and the residual rows of sample n, added in the GEMM's epilogue.
    auto epilogue = [&](int64_t gi, int64_t n) {
      GemmEpilogue ep;
      ep.act = act_;
      ep.row_bias = bias ? bias + gi * mg : nullptr;
      ep.residual = residual ? residual + (n * m + gi * mg) * osz : nullptr;
      ep.ld_residual = osz;
      return ep;
    };
    if (parallel && nrb > 1) {
      // Rows are split across threads: pack each column block's patches once (slices in parallel) into a shared
      // buffer, instead of every row block gathering its own copy.
      const int64_t slices = packed_b_slices(ksz), per_unit = packed_b_floats(ksz, col_block);
      float* shared = shared_scratch(base * per_unit);
      parallel_tasks(nt, base * slices, [&](int64_t t) {
        const int64_t u = t / slices, cb = u % ncb, gi = (u / ncb) % group_, n = u / (ncb * group_);
        const int64_t j0 = cb * col_block, j1 = std::min(osz, j0 + col_block);
        const PatchPanels src(geo, xs + (n * c + gi * cg) * isz);
        pack_b_slice(src, ksz, t % slices, j0, j1, shared + u * per_unit);
      });
      parallel_tasks(nt, tasks, [&](int64_t t) {
        const int64_t rb = t % nrb, u = t / nrb, cb = u % ncb, gi = (u / ncb) % group_, n = u / (ncb * group_);
        const int64_t m0 = row_panels * rb / nrb * ra, m1 = std::min(mg, row_panels * (rb + 1) / nrb * ra);
        const int64_t j0 = cb * col_block, j1 = std::min(osz, j0 + col_block);
        const GemmEpilogue ep = epilogue(gi, n);
        gemm_prepacked_block(packed[size_t(gi)], shared + u * per_unit, m0, m1, j0, j1, y + (n * m + gi * mg) * osz,
                             osz, ep);
      });
      return;
    }
    parallel_tasks(parallel ? nt : 1, tasks, [&](int64_t t) {
      const int64_t rb = t % nrb, cb = (t / nrb) % ncb, gi = (t / (nrb * ncb)) % group_, n = t / (nrb * ncb * group_);
      const int64_t m0 = row_panels * rb / nrb * ra, m1 = std::min(mg, row_panels * (rb + 1) / nrb * ra);
      const int64_t j0 = cb * col_block, j1 = std::min(osz, j0 + col_block);
      const GemmEpilogue ep = epilogue(gi, n);
      const PatchPanels src(geo, xs + (n * c + gi * cg) * isz);
      gemm_packed_block(packed[size_t(gi)], src, m0, m1, j0, j1, y + (n * m + gi * mg) * osz, osz, ep);
    });
  }


  // One input channel per group (3-d windows, or no AVX-512; depthwise.cpp runs the rest): each output row is a
  // weighted sum of shifted input rows, accumulated while the row is in L1. Planes are handed out in chunks.
  void depthwise(const Geometry3& g, int64_t batch, int64_t c, int64_t mult, const float* x, const float* w,
                 const float* bias, const float* residual, float* y, int threads) const {
    const int64_t m = c * mult, planes = batch * m, osz = g.out_size();
    const int nt = threads > 1 ? threads : 1;
    const bool parallel = nt > 1 && planes * osz * g.k_size() >= kMinParallelWindowMacs;
    const int64_t tasks = parallel ? std::min<int64_t>(planes, 8 * nt) : 1;
    parallel_tasks(parallel ? nt : 1, tasks, [&](int64_t t) {
      for (int64_t nm = planes * t / tasks; nm < planes * (t + 1) / tasks; ++nm) {
        if (g.s[2] == 1)
          depthwise_plane<1>(g, c, mult, nm, x, w, bias, residual, y);
        else if (g.s[2] == 2)
          depthwise_plane<2>(g, c, mult, nm, x, w, bias, residual, y);
        else
          depthwise_plane<0>(g, c, mult, nm, x, w, bias, residual, y);
      }
    });
  }


  // S is the width stride when known at compile time (1 or 2: the inner loop vectorises), else 0.
  template <int S>
  void depthwise_plane(const Geometry3& g, int64_t c, int64_t mult, int64_t nm, const float* x, const float* w,
                       const float* bias, const float* residual, float* y) const {
    const int64_t m = c * mult, isz = g.in_size(), osz = g.out_size(), ksz = g.k_size();
    const int64_t n = nm / m, oc = nm % m, ic = oc / mult;
    const int64_t sw = S > 0 ? S : g.s[2];
    const float* plane = x + (n * c + ic) * isz;
    const float* wk = w + oc * ksz;
    float* dst = y + nm * osz;
    const float b0 = bias ? bias[oc] : 0.f;
    for (int64_t od = 0; od < g.out[0]; ++od)
      for (int64_t oh = 0; oh < g.out[1]; ++oh) {
        float* row = dst + (od * g.out[1] + oh) * g.out[2];
        for (int64_t ow = 0; ow < g.out[2]; ++ow) row[ow] = b0;
        for (int64_t kd = 0; kd < g.k[0]; ++kd) {
          const int64_t id = od * g.s[0] - g.p[0] + kd * g.d[0];
          if (id < 0 || id >= g.in[0]) continue;
          for (int64_t kh = 0; kh < g.k[1]; ++kh) {
            const int64_t ih = oh * g.s[1] - g.p[1] + kh * g.d[1];
            if (ih < 0 || ih >= g.in[1]) continue;
            const float* in_row = plane + (id * g.in[1] + ih) * g.in[2];
            for (int64_t kw = 0; kw < g.k[2]; ++kw) {
              const float wv = wk[(kd * g.k[1] + kh) * g.k[2] + kw];
              // valid output columns for this tap: 0 <= ow*s - p + kw*d < in
              const int64_t off_w = kw * g.d[2] - g.p[2];
              int64_t lo = off_w >= 0 ? 0 : (-off_w + sw - 1) / sw;
              int64_t hi = g.in[2] - off_w <= 0 ? 0 : (g.in[2] - off_w + sw - 1) / sw;
              lo = std::min(lo, g.out[2]);
              hi = std::max(lo, std::min(hi, g.out[2]));
              const float* src = in_row + off_w;
#pragma omp simd
              for (int64_t ow = lo; ow < hi; ++ow) row[ow] += wv * src[ow * sw];
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

  Node node_;
  FusedActivation act_;
  int64_t group_ = 1;
  std::vector<int64_t> kernel_;
  TensorPtr weights_, bias_;
  std::vector<PackedA> packed_;  // per group, from constant weights
  std::vector<float> blocked_;    // depthwise or small-taps filters in 16-channel blocks, from constant weights
  WinogradConv winograd_;        // transformed 3x3 filters (constant weights, stride 1) or empty
  std::vector<float> col_;       // patches of a single-output-position conv
};

TRTCORE_CPU_NAMESPACE_END

TRTCORE_CPU_KERNEL_FACTORY(Conv, trtcore::cpu::ConvKernel)
