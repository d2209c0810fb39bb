// Flatten, Reshape, Squeeze, Unsqueeze: the bytes are already in the output's C order, so the reference copies them.
#include <cstring>

#include "backends/cpu/strided.h"

namespace trtcore::cpu {
namespace {

class ReshapeCopyKernel : public CpuKernel {
 public:
  void run(const std::vector<TensorView>& in, const std::vector<TensorView>& out, CpuContext&) override {
    if (out[0].data != in[0].data && out[0].nbytes()) std::memmove(out[0].data, in[0].data, out[0].nbytes());
  }
};

}  // namespace
}  // namespace trtcore::cpu

TRTCORE_CPU_KERNEL_FACTORY(Flatten, trtcore::cpu::ReshapeCopyKernel)
TRTCORE_CPU_KERNEL_FACTORY(Reshape, trtcore::cpu::ReshapeCopyKernel)
TRTCORE_CPU_KERNEL_FACTORY(Squeeze, trtcore::cpu::ReshapeCopyKernel)
TRTCORE_CPU_KERNEL_FACTORY(Unsqueeze, trtcore::cpu::ReshapeCopyKernel)
