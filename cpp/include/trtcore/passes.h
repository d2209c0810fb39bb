// Stage 2: the optimizer — an ordered list of named passes, printable by `trtcore inspect`.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "trtcore/graph.h"
#include "trtcore/options.h"

namespace trtcore {

// Which DequantizeLinear -> Conv [-> QuantizeLinear] patterns lower_qconv turns into an int8 QConv.
enum class Int8Convs {
  kNone,        // no int8 convolutions: the Q/DQ pairs run as they are, the convolution in float
  kAll,         // every 2-d convolution
  kDense,       // one group, channels in fours, a fused residual only when quantized and with a quantized output
                // (tensor-core int8 convolutions), and depthwise ones between int8 tensors; not the 3-channel stem
                // or other grouped ones, which run faster in float
};

// What the target backend can absorb into a Conv/Gemm node.
struct FusionCaps {
  bool conv_activation = true;
  bool conv_residual = true;
  bool gemm_activation = true;
  bool sibling_convs = true;  // merge 1x1 Convs sharing an input into one Conv + Split
  bool elementwise_chains = true;  // run chains of elementwise ops as one FusedElementwise node
  Int8Convs int8_conv = Int8Convs::kNone;
  bool int8_weights = false;  // keep DequantizeLinear of int8 weights (TensorRT's explicit quantization reads them)
};

struct PassContext {
  FusionCaps caps;
  std::vector<std::string> disabled;  // pass names to skip
  NodeEvaluator fold = nullptr;       // computes constant nodes (fold_constants); the runtime passes the cpu one
  Int8Equalization int8_equalization = Int8Equalization::kOff;  // equalize_int8 runs only for INT8 builds asking it
  // kActivations: per-channel max |x| of each pair's middle tensor, measured on the float model before equalization
  const std::map<std::string, std::vector<float>>* int8_channel_ranges = nullptr;
};

struct Pass {
  const char* name;
  const char* description;
  void (*run)(Graph& g, const PassContext& ctx);
};

struct PassRecord {
  std::string name;
  size_t nodes_before = 0;
  size_t nodes_after = 0;
  bool skipped = false;
};

const std::vector<Pass>& default_passes();

// The tensors equalize_int8 balances in `g` (each pair's middle tensor, the second Conv's input): what
// --int8-equalization activations measures per channel before the pass runs.
std::vector<std::string> int8_equalization_tensors(const Graph& g);
std::vector<PassRecord> optimize(Graph& g, const PassContext& ctx);

// After the precision stage: the backend's lowering of quantized patterns, a second printable list.
const std::vector<Pass>& lowering_passes();
std::vector<PassRecord> lower(Graph& g, const PassContext& ctx);

}  // namespace trtcore
