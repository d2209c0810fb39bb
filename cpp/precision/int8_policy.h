// INT8 precision stage: rewrites an optimized graph into TensorRT's explicit-quantization form. Each weighted layer
// (Conv, Gemm, MatMul with constant weights) gets a QuantizeLinear -> DequantizeLinear pair with the calibrated
// per-tensor scale on its data input (and on a fused residual input), and its weights become int8 constants with
// per-output-channel scales behind a DequantizeLinear. Zero points are 0 (symmetric). Backends lower the result.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "trtcore/graph.h"

namespace trtcore {

struct Int8Options {
  std::vector<std::string> exclude_layers;  // node names that keep their float precision
  std::vector<std::string> sensitive_layers;  // --int8-float-layers: the most sensitive layers, kept float
  // Bias correction: input tensor name -> mean per channel (axis 1) over the calibration samples. A quantized
  // Conv/Gemm whose input is listed subtracts the mean output shift of its int8 weights' rounding from its bias.
  const std::map<std::string, std::vector<float>>* channel_means = nullptr;
};

// Why a weighted layer stayed float.
enum class Int8FloatCause { kNone, kExcluded, kSensitive, kNoScale };

struct Int8Decision {
  std::string node;
  bool int8 = false;
  std::string reason;  // why a weighted layer stayed float ("" when quantized)
  Int8FloatCause cause = Int8FloatCause::kNone;
};

struct Int8Report {
  std::vector<Int8Decision> decisions;  // one per weighted layer, in graph order
  int int8_layers = 0;
  int qdq_pairs = 0;
  int int8_max_pools = 0;  // MaxPools that run on the quantized tensor (their QuantizeLinear moved in front)
  int bias_corrected = 0;   // layers whose bias absorbed their weights' rounding shift
};

// `scales`: activation tensor name -> quantization scale (amax / 127). Rewrites `g` in place.
Int8Report apply_int8_policy(Graph& g, const std::map<std::string, float>& scales, const Int8Options& opt);

// The tensors whose scales the policy reads: the data (and residual) inputs of the weighted layers of `g`.
std::vector<std::string> int8_observed_tensors(const Graph& g);

}  // namespace trtcore
