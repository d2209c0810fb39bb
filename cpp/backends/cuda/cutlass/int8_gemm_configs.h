// The CUTLASS int8 GEMM configurations (int8_gemm_sm90.cuh), each made in a translation unit of its own and
// listed by int8_gemm_sm90.cu. No CUTLASS header is included here.
#pragma once
#include "backends/cuda/cutlass_gemm.h"

namespace trtcore::cuda::cutlass_sm90 {

struct CutlassInt8Entry {
  const char* name;  // tile MxNxK, cluster MxN, and the schedule where not the cooperative one
  size_t (*workspace)(const CutlassInt8Gemm&);
  std::string (*prepare)(const CutlassInt8Gemm&);
  std::string (*run)(const CutlassInt8Gemm&, void*, cudaStream_t);
};

CutlassInt8Entry config_128x256x128_1x1();
CutlassInt8Entry config_128x256x64_1x1();
CutlassInt8Entry config_128x128x128_1x2_pingpong();
CutlassInt8Entry config_256x128x128_2x1();
CutlassInt8Entry config_128x128x64_1x1_pingpong();
CutlassInt8Entry config_256x128x64_1x1();

}  // namespace trtcore::cuda::cutlass_sm90
