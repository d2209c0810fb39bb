// cutlass_gemm.h's functions over the configurations built (int8_gemm_<config>.cu). Kept to a few: each one is a
// kernel instantiation of a minute or more of compile time.
#include "backends/cuda/cutlass/int8_gemm_configs.h"

namespace trtcore::cuda {
namespace {

using cutlass_sm90::CutlassInt8Entry;

const CutlassInt8Entry& config_at(int config) {
  static const CutlassInt8Entry kConfigs[] = {
      cutlass_sm90::config_128x256x128_1x1(),
      cutlass_sm90::config_128x256x64_1x1(),
      cutlass_sm90::config_128x128x128_1x2_pingpong(),
      cutlass_sm90::config_256x128x128_2x1(),
      cutlass_sm90::config_128x128x64_1x1_pingpong(),
      cutlass_sm90::config_256x128x64_1x1(),
  };
  return kConfigs[config];
}

constexpr int kConfigCount = 6;

}  // namespace

int cutlass_int8_config_count() { return kConfigCount; }

std::string cutlass_int8_config_name(int config) {
  return config >= 0 && config < kConfigCount ? config_at(config).name : "";
}

size_t cutlass_int8_workspace(int config, const CutlassInt8Gemm& p) { return config_at(config).workspace(p); }

std::string cutlass_int8_prepare(int config, const CutlassInt8Gemm& p) {
  if (!cutlass_int8_shape_ok(p.n, p.k)) return "N and K must be multiples of 16";
  if (p.m <= 0 || p.m > INT32_MAX) return "M out of the kernels' int range";
  return config_at(config).prepare(p);
}

std::string cutlass_int8_run(int config, const CutlassInt8Gemm& p, void* workspace, cudaStream_t stream) {
  if (p.m <= 0 || p.m > INT32_MAX) return "M out of the kernels' int range";
  return config_at(config).run(p, workspace, stream);
}

}  // namespace trtcore::cuda
