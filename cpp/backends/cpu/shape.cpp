// Shape and Size references: int64 metadata of this run's input view.
#include "backends/cpu/strided.h"

namespace trtcore::cpu {
namespace {

class ShapeKernel : public CpuKernel {
 public:
  void init(const Node& node, const Graph&) override {
    has_end_ = node.attrs.has("end");
    start_ = node.attrs.get_int("start", 0);
    end_ = node.attrs.get_int("end", 0);
  }
  void run(const std::vector<TensorView>& in, const std::vector<TensorView>& out, CpuContext&) override {
    const int64_t rank = int64_t(in[0].shape.size());
    int64_t start = start_ < 0 ? start_ + rank : start_;
    int64_t end = has_end_ ? (end_ < 0 ? end_ + rank : end_) : rank;
    start = std::clamp<int64_t>(start, 0, rank);
    end = std::clamp<int64_t>(end, start, rank);
    int64_t* dst = out[0].as<int64_t>();
    for (int64_t i = start; i < end; ++i) dst[i - start] = in[0].shape[size_t(i)];
  }

 private:
  bool has_end_ = false;
  int64_t start_ = 0, end_ = 0;
};

class SizeKernel : public CpuKernel {
 public:
  void run(const std::vector<TensorView>& in, const std::vector<TensorView>& out, CpuContext&) override {
    *out[0].as<int64_t>() = in[0].numel();
  }
};

}  // namespace
}  // namespace trtcore::cpu

TRTCORE_CPU_KERNEL_FACTORY(Shape, trtcore::cpu::ShapeKernel)
TRTCORE_CPU_KERNEL_FACTORY(Size, trtcore::cpu::SizeKernel)
