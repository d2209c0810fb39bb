// cutlass_conv.h's functions over the configurations built (int8_conv_<config>.cu). Kept to a few: each one is a
// kernel instantiation of minutes of compile time.
#include "backends/cuda/cutlass/int8_conv_configs.h"

namespace trtcore::cuda {
namespace {

using cutlass_sm90::CutlassConvEntry;

const CutlassConvEntry& config_at(int config) {
  static const CutlassConvEntry kConfigs[] = {
      cutlass_sm90::conv_config_128x128x64_1x1(),
      cutlass_sm90::conv_config_128x64x64_1x1(),
      cutlass_sm90::conv_config_128x128x64_1x2(),
  };
  return kConfigs[config];
}

constexpr int kConfigCount = 3;

// Extents the kernels' int32 arithmetic and TMA's im2col offsets hold (CUTLASS's can_implement checks the rest).
std::string shape_problem(const CutlassInt8Conv& p) {
  if (!cutlass_conv_channels_ok(p.c, p.k)) return "input and output channels must be multiples of 16";
  if (p.n <= 0 || int64_t(p.n) * p.p * p.q > INT32_MAX) return "output pixels out of the kernels' int range";
  return "";
}

}  // namespace

int cutlass_conv_config_count() { return kConfigCount; }

std::string cutlass_conv_config_name(int config) {
  return config >= 0 && config < kConfigCount ? config_at(config).name : "";
}

size_t cutlass_conv_workspace(int config, const CutlassInt8Conv& p) { return config_at(config).workspace(p); }

std::string cutlass_conv_prepare(int config, const CutlassInt8Conv& p) {
  const std::string why = shape_problem(p);
  return why.empty() ? config_at(config).prepare(p) : why;
}

std::string cutlass_conv_run(int config, const CutlassInt8Conv& p, void* workspace, cudaStream_t stream) {
  const std::string why = shape_problem(p);
  return why.empty() ? config_at(config).run(p, workspace, stream) : why;
}

}  // namespace trtcore::cuda
