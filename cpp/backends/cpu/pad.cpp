// Pad reference: each output index maps to a source index per axis (or to the constant), by mode.
#include "backends/cpu/strided.h"
#include "ops/op_params.h"

namespace trtcore::cpu {
namespace {

template <class T>
void pad_typed(const TensorView& x, const TensorView& y, const std::vector<std::vector<int64_t>>& maps, T value,
               int threads) {
  const size_t rank = y.shape.size();
  const T* src = x.as<T>();
  T* dst = y.as<T>();
  if (rank == 0) {
    dst[0] = src[0];
    return;
  }
  const std::vector<int64_t> cs = contiguous_strides(x.shape);
  const int64_t inner = y.shape[rank - 1];
  const int64_t rows = inner == 0 ? 0 : y.numel() / inner;
  const std::vector<int64_t>& last = maps[rank - 1];
  parallel_items(threads, rows, inner, [&](int64_t from, int64_t to) {
    for (int64_t r = from; r < to; ++r) {
      int64_t rem = r, off = 0;
      bool constant_row = false;
      for (size_t a = rank - 1; a-- > 0;) {
        const int64_t idx = rem % y.shape[a];
        rem /= y.shape[a];
        const int64_t s = maps[a][size_t(idx)];
        if (s < 0) constant_row = true;
        off += s * cs[a];
      }
      T* row = dst + r * inner;
      if (constant_row) {
        std::fill(row, row + inner, value);
        continue;
      }
      for (int64_t i = 0; i < inner; ++i) row[i] = last[size_t(i)] < 0 ? value : src[off + last[size_t(i)]];
    }
  });
}

class PadKernel : public CpuKernel {
 public:
  void init(const Node& node, const Graph& g) override {
    who_ = node.describe();
    mode_ = pad_mode_from(node.attrs.get_string("mode", "constant"), who_);
    from_attrs_ = g.opset < 11;
    attr_pads_ = node.attrs.get_ints("pads");
    attr_value_ = node.attrs.get_float("value", 0.f);
  }

  void run(const std::vector<TensorView>& in, const std::vector<TensorView>& out, CpuContext& ctx) override {
    const TensorView& x = in[0];
    const TensorView& y = out[0];
    const int64_t rank = int64_t(x.shape.size());
    std::vector<int64_t> pads = attr_pads_, axes;
    if (!from_attrs_) {
      pads = read_ints(in[1]);
      if (in.size() > 3 && in[3].data) axes = read_ints(in[3]);
    }
    pads = expand_pads(pads, axes, rank, who_);
    std::vector<std::vector<int64_t>> maps(static_cast<size_t>(rank));
    for (int64_t a = 0; a < rank; ++a) {
      const int64_t d = x.shape[size_t(a)], before = pads[size_t(a)];
      if (y.shape[size_t(a)] != d + before + pads[size_t(a + rank)])
        fail(ErrorKind::kRuntime, who_, ": padded shape does not match the output ", shape_str(y.shape));
      if (d == 0 && mode_ != PadMode::kConstant && y.shape[size_t(a)] > 0)
        fail(ErrorKind::kInvalidArgument, who_, ": cannot pad the empty axis ", a, " in a non-constant mode");
      for (int64_t o = 0; o < y.shape[size_t(a)]; ++o) maps[size_t(a)].push_back(pad_source_index(o - before, d, mode_));
    }
    if (y.numel() == 0) return;
    // The constant in the data's own type: input 2 from opset 11, else the float attribute converted.
    uint64_t value_bits = 0;
    if (!from_attrs_ && in.size() > 2 && in[2].data)
      std::memcpy(&value_bits, in[2].data, dtype_size(x.dtype));
    else if (from_attrs_)
      convert_elements(&attr_value_, DType::kFloat32, &value_bits, x.dtype, 1, 1);
    switch (dtype_size(x.dtype)) {
      case 1: return pad_typed<uint8_t>(x, y, maps, bits_as<uint8_t>(value_bits), ctx.threads);
      case 2: return pad_typed<uint16_t>(x, y, maps, bits_as<uint16_t>(value_bits), ctx.threads);
      case 4: return pad_typed<uint32_t>(x, y, maps, bits_as<uint32_t>(value_bits), ctx.threads);
      case 8: return pad_typed<uint64_t>(x, y, maps, bits_as<uint64_t>(value_bits), ctx.threads);
      default: fail(ErrorKind::kUnsupported, who_, ": no kernel for ", dtype_name(x.dtype));
    }
  }

 private:
  template <class T>
  static T bits_as(uint64_t bits) {
    T v;
    std::memcpy(&v, &bits, sizeof(T));
    return v;
  }

  std::string who_;
  PadMode mode_ = PadMode::kConstant;
  bool from_attrs_ = false;
  std::vector<int64_t> attr_pads_;
  float attr_value_ = 0.f;
};

}  // namespace
}  // namespace trtcore::cpu

TRTCORE_CPU_KERNEL_FACTORY(Pad, trtcore::cpu::PadKernel)
