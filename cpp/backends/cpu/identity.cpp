// Identity/Dropout reference: copy input 0 to output 0 (Dropout's mask, if requested, is all true).
#include <cstring>

#include "backends/cpu/cpu_kernel.h"

namespace trtcore::cpu {

class CopyKernel : public CpuKernel {
 public:
  void run(const std::vector<TensorView>& in, const std::vector<TensorView>& out, CpuContext&) override {
    if (in[0].nbytes() > 0) std::memcpy(out[0].data, in[0].data, in[0].nbytes());  // an empty tensor has no buffer
    if (out.size() > 1 && out[1].data) std::memset(out[1].data, 1, out[1].nbytes());
  }
};

}  // namespace trtcore::cpu

TRTCORE_CPU_KERNEL_FACTORY(Identity, trtcore::cpu::CopyKernel)
TRTCORE_CPU_KERNEL_FACTORY(Dropout, trtcore::cpu::CopyKernel)
