// QConv's direct (implicit GEMM) form for 2-D windows other than 1x1 stride 1: the input is copied once per image
// into unsigned 8-bit planes of four interleaved channels, padding included and split into stride phases, so that
// for every (tap, channel quad) the int8 GEMM's kI8Nr x 4 operand bytes are one contiguous run of the copy; no
// panel is gathered per tap. Output rows are computed Wq wide (the phase plane's width): the Wq - ow extra
// columns are discarded before the epilogue. Products and sums are those of the panel path (k only reordered), and
// the epilogue is the same, so both paths give bit-identical outputs.
#pragma once
#include "backends/cpu/isa.h"
#include <cstdint>
#include <vector>

#include "backends/cpu/igemm.h"
#include "backends/cpu/qconv_epilogue.h"
#include "ops/window.h"

namespace trtcore::cpu {
// Whether the direct form runs a QConv with this 2-D kernel and these strides over cg input channels per group:
// not 1x1 stride 1 (that panel is already read contiguously), and whole channel quads, or fewer than four channels
// of an ungrouped conv (a stem), which take zero weights for the missing ones. Baseline code (the backend's layer
// descriptions) asks too.
inline bool qconv_direct_suits(const std::vector<int64_t>& kernel, const std::vector<int64_t>& strides, int64_t group,
                               int64_t cg) {
  if (kernel.size() != 2 || strides.size() != 2) return false;
  if (kernel[0] == 1 && kernel[1] == 1 && strides[0] == 1 && strides[1] == 1) return false;
  return cg > 0 && (cg % 4 == 0 || (group == 1 && cg < 4));
}
}  // namespace trtcore::cpu

TRTCORE_CPU_NAMESPACE_BEGIN

// One group's weights [mg][cg][kh][kw] packed for the direct form: k runs over (tap, channel quad, channel), with
// zero weights for the channels that complete the last quad.
PackedI8Weights pack_qconv_direct(const int8_t* w, int64_t mg, int64_t cg, int64_t taps);

// What qconv_direct reads: the input (int8 when x_signed, else uint8), with `pad` the unsigned byte of a padding
// element (the zero point, + 128 for int8) and `offset` what each unsigned byte carries above x - zero point.
struct QConvDirectInput {
  const void* data = nullptr;
  bool x_signed = false;
  uint8_t pad = 0;
  int32_t offset = 0;
};

// ep.finish(...) over every output of `batch` images of `group` groups (packed: one per group).
void qconv_direct(const Window& win, int64_t batch, int64_t group, int64_t cg, const QConvDirectInput& x,
                  const std::vector<PackedI8Weights>& packed, const QConvEpilogue& ep, int threads);

TRTCORE_CPU_NAMESPACE_END
