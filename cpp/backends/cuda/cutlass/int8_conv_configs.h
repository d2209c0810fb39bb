// The CUTLASS int8 convolution configurations (int8_conv_sm90.cuh), each made in a translation unit of its own and
// listed by int8_conv_sm90.cu. No CUTLASS header is included here.
#pragma once
#include "backends/cuda/cutlass_conv.h"

namespace trtcore::cuda::cutlass_sm90 {

struct CutlassConvEntry {
  const char* name;  // tile MxNxK and cluster MxN
  size_t (*workspace)(const CutlassInt8Conv&);
  std::string (*prepare)(const CutlassInt8Conv&);
  std::string (*run)(const CutlassInt8Conv&, void*, cudaStream_t);
};

CutlassConvEntry conv_config_128x128x64_1x1();
CutlassConvEntry conv_config_128x64x64_1x1();
CutlassConvEntry conv_config_128x128x64_1x2();

}  // namespace trtcore::cuda::cutlass_sm90
