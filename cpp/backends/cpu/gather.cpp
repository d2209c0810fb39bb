// Gather reference: for each outer index and each (possibly negative) index, copy one block of the inner axes.
#include <cstring>

#include "backends/cpu/strided.h"

namespace trtcore::cpu {
namespace {

class GatherKernel : public CpuKernel {
 public:
  void init(const Node& node, const Graph&) override {
    who_ = node.describe();
    axis_attr_ = node.attrs.get_int("axis", 0);
  }
  void run(const std::vector<TensorView>& in, const std::vector<TensorView>& out, CpuContext& ctx) override {
    const TensorView& data = in[0];
    const int64_t rank = int64_t(data.shape.size());
    const int64_t axis = axis_attr_ < 0 ? axis_attr_ + rank : axis_attr_;
    const int64_t dim = data.shape[size_t(axis)];
    std::vector<int64_t> idx = read_ints(in[1]);
    // Checked before copying so a bad index is an error, not a read out of bounds.
    for (int64_t& i : idx) {
      if (i < -dim || i >= dim)
        fail(ErrorKind::kInvalidArgument, who_, ": index ", i, " is out of range for axis ", axis, " of size ", dim);
      if (i < 0) i += dim;
    }
    int64_t outer = 1, inner = int64_t(dtype_size(data.dtype));
    for (int64_t a = 0; a < axis; ++a) outer *= data.shape[size_t(a)];
    for (int64_t a = axis + 1; a < rank; ++a) inner *= data.shape[size_t(a)];
    const int64_t n = int64_t(idx.size());
    // an empty output copies nothing (memcpy to or from an empty tensor's null buffer is undefined)
    if (outer == 0 || n == 0 || inner == 0) return;
    const uint8_t* src = static_cast<const uint8_t*>(data.data);
    uint8_t* dst = static_cast<uint8_t*>(out[0].data);
    parallel_items(ctx.threads, outer, n * inner / 4, [&](int64_t from, int64_t to) {
      for (int64_t o = from; o < to; ++o)
        for (int64_t j = 0; j < n; ++j)
          std::memcpy(dst + (o * n + j) * inner, src + (o * dim + idx[size_t(j)]) * inner, size_t(inner));
    });
  }

 private:
  std::string who_;
  int64_t axis_attr_ = 0;
};

}  // namespace
}  // namespace trtcore::cpu

TRTCORE_CPU_KERNEL_FACTORY(Gather, trtcore::cpu::GatherKernel)
