// QuantizeLinear / DequantizeLinear references: y = saturate(round_half_even(x / scale) + zero_point) and
// y = (x - zero_point) * scale, per tensor or per axis (ops/quant_params.h). float32 data and scales.
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "backends/cpu/strided.h"
#include "ops/quant_params.h"

// Compiled once per instruction-set level: the baseline's SSE2 has no rounding instruction, so nearbyint there is
// a library call per element (an image's input quantizer took as long as a convolution).
TRTCORE_CPU_NAMESPACE_BEGIN
namespace {

// Zero point of channel c as an int32 (absent zero point = 0).
int32_t zero_point(const TensorView& zp, int64_t c) {
  if (!zp.data) return 0;
  const int64_t i = zp.numel() == 1 ? 0 : c;
  switch (zp.dtype) {
    case DType::kInt8: return zp.as<int8_t>()[i];
    case DType::kUInt8: return zp.as<uint8_t>()[i];
    case DType::kInt32: return zp.as<int32_t>()[i];
    default: fail(ErrorKind::kUnsupported, "zero point of type ", dtype_name(zp.dtype));
  }
}

std::vector<int32_t> zero_points(const TensorView& zp, const QuantAxis& q) {
  std::vector<int32_t> z(size_t(q.channels));
  for (int64_t c = 0; c < q.channels; ++c) z[size_t(c)] = zero_point(zp, c);
  return z;
}

void require_float32(const Node& n, const TensorView& t, const char* what) {
  if (t.dtype != DType::kFloat32)
    fail(ErrorKind::kUnsupported, n.describe(), ": the cpu backend takes float32 ", what, ", not ", dtype_name(t.dtype));
}

// y[i] for i in [from, to): runs of one channel are plain loops the compiler vectorizes (NaN quantizes to the zero
// point: the spec leaves it open, and an integer cast of NaN is undefined).
template <class T>
void quantize_range(const float* x, const float* scale, const int32_t* zps, const QuantAxis& q, float lo, float hi,
                    T* y, int64_t from, int64_t to) {
  for (int64_t i = from; i < to;) {
    const int64_t c = q.channel_of(i);
    const int64_t end = q.per_tensor() ? to : std::min(to, (i / q.inner + 1) * q.inner);
    const float s = scale[c], z = float(zps[c]);
    for (; i < end; ++i) {
      float r = std::nearbyint(x[i] / s);
      r = r == r ? r + z : z;
      y[i] = T(std::min(std::max(r, lo), hi));
    }
  }
}

class QuantizeKernel : public CpuKernel {
 public:
  void init(const Node& node, const Graph&) override { node_ = node; }
  void run(const std::vector<TensorView>& in, const std::vector<TensorView>& out, CpuContext& ctx) override {
    require_float32(node_, in[0], "data");
    require_float32(node_, in[1], "scales");
    const TensorView zp = in.size() > 2 ? in[2] : TensorView{};
    const QuantAxis q = resolve_quant_axis(in[0].shape, in[1].shape, node_.attrs.get_int("axis", 1), node_.describe());
    const bool is_signed = out[0].dtype == DType::kInt8;
    const int32_t lo = is_signed ? -128 : 0, hi = is_signed ? 127 : 255;
    const float* x = in[0].as<float>();
    const float* scale = in[1].as<float>();
    const std::vector<int32_t> zps = zero_points(zp, q);
    parallel_ranges(ctx.threads, in[0].numel(), kTaskElements, in[0].numel(), [&](int64_t from, int64_t to) {
      if (is_signed) quantize_range(x, scale, zps.data(), q, float(lo), float(hi), out[0].as<int8_t>(), from, to);
      else quantize_range(x, scale, zps.data(), q, float(lo), float(hi), out[0].as<uint8_t>(), from, to);
    });
  }

 private:
  Node node_;
};

class DequantizeKernel : public CpuKernel {
 public:
  void init(const Node& node, const Graph&) override { node_ = node; }
  void run(const std::vector<TensorView>& in, const std::vector<TensorView>& out, CpuContext& ctx) override {
    require_float32(node_, in[1], "scales");
    require_float32(node_, out[0], "output");
    const TensorView zp = in.size() > 2 ? in[2] : TensorView{};
    const QuantAxis q = resolve_quant_axis(in[0].shape, in[1].shape, node_.attrs.get_int("axis", 1), node_.describe());
    const float* scale = in[1].as<float>();
    float* y = out[0].as<float>();
    const TensorView& x = in[0];
    const std::vector<int32_t> zps = zero_points(zp, q);
    parallel_ranges(ctx.threads, x.numel(), kTaskElements, x.numel(), [&](int64_t from, int64_t to) {
      for (int64_t i = from; i < to; ++i) {
        const int64_t c = q.channel_of(i);
        int32_t v = 0;
        if (x.dtype == DType::kInt8) v = x.as<int8_t>()[i];
        else if (x.dtype == DType::kUInt8) v = x.as<uint8_t>()[i];
        else v = x.as<int32_t>()[i];
        y[i] = float(v - zps[size_t(c)]) * scale[c];
      }
    });
  }

 private:
  Node node_;
};

}  // namespace
TRTCORE_CPU_NAMESPACE_END

TRTCORE_CPU_KERNEL_FACTORY(QuantizeLinear, trtcore::cpu::QuantizeKernel)
TRTCORE_CPU_KERNEL_FACTORY(DequantizeLinear, trtcore::cpu::DequantizeKernel)
