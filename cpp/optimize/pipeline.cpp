// The optimizer: a literal, ordered list of named passes. `trtcore inspect` prints it; --disable-pass skips one.
#include <algorithm>

#include "trtcore/error.h"
#include "trtcore/passes.h"

namespace trtcore {

namespace opt {
void fold_constants(Graph& g, const PassContext& ctx);
void remove_identity(Graph& g, const PassContext& ctx);
void fold_batchnorm(Graph& g, const PassContext& ctx);
void equalize_int8(Graph& g, const PassContext& ctx);
void fuse_conv_residual(Graph& g, const PassContext& ctx);
void fuse_activation(Graph& g, const PassContext& ctx);
void merge_sibling_convs(Graph& g, const PassContext& ctx);
void fuse_elementwise(Graph& g, const PassContext& ctx);
void eliminate_dead_nodes(Graph& g, const PassContext& ctx);
void lower_qconv(Graph& g, const PassContext& ctx);
void fold_dequantize(Graph& g, const PassContext& ctx);
void pool_before_quantize(Graph& g, const PassContext& ctx);
}  // namespace opt

const std::vector<Pass>& default_passes() {
  static const std::vector<Pass> passes = {
      {"fold_constants", "compute nodes whose inputs are all constant at build time", &opt::fold_constants},
      {"remove_identity", "drop Identity, Dropout, same-type Cast, shape-preserving reshapes, 1-input Concat",
       &opt::remove_identity},
      {"fold_batchnorm", "fold BatchNormalization (or per-channel Mul/Add) into Conv/ConvTranspose/Gemm weights",
       &opt::fold_batchnorm},
      {"equalize_int8", "INT8 with --int8-equalization on: cross-layer equalization of Conv -> [Relu|Clip] -> Conv pairs",
       &opt::equalize_int8},
      {"fuse_conv_residual", "fuse Add(Conv(x), r) into the Conv as a residual input", &opt::fuse_conv_residual},
      {"fuse_activation", "fuse Relu/LeakyRelu/Clip/Sigmoid/HardSigmoid/HardSwish/Tanh into Conv/Gemm",
       &opt::fuse_activation},
      {"merge_sibling_convs", "merge 1x1 Convs that read the same tensor into one wider Conv + Split",
       &opt::merge_sibling_convs},
      {"fuse_elementwise", "run connected chains of elementwise ops (GELU, HardSwish, x*sigmoid(x)) as one node",
       &opt::fuse_elementwise},
      {"eliminate_dead_nodes", "drop nodes and values that no graph output depends on", &opt::eliminate_dead_nodes},
  };
  return passes;
}

const std::vector<Pass>& lowering_passes() {
  static const std::vector<Pass> passes = {
      {"lower_qconv", "run DequantizeLinear -> Conv [-> QuantizeLinear] as one int8 QConv (backends with int8 convs)",
       &opt::lower_qconv},
      {"fold_dequantize", "compute DequantizeLinear of constant weights no int8 kernel took into float weights (not for tensorrt)",
       &opt::fold_dequantize},
      {"pool_before_quantize", "MaxPool a float tensor before the quantizer no int8 kernel took in (a quarter of the work)",
       &opt::pool_before_quantize},
      {"eliminate_dead_nodes", "drop nodes and values that no graph output depends on", &opt::eliminate_dead_nodes},
  };
  return passes;
}

namespace {

std::vector<PassRecord> run_passes(const std::vector<Pass>& list, Graph& g, const PassContext& ctx) {
  // A misspelt --disable-pass would otherwise silently run the pass it meant to skip.
  for (const std::string& name : ctx.disabled) {
    bool known = false;
    std::string names;
    for (const std::vector<Pass>* l : {&default_passes(), &lowering_passes()})
      for (const Pass& pass : *l) {
        known = known || name == pass.name;
        if (names.find(std::string(pass.name) + ",") == std::string::npos) names += std::string(pass.name) + ", ";
      }
    if (!known)
      fail(ErrorKind::kInvalidArgument, "unknown pass '", name, "' to disable; passes are: ",
           names.substr(0, names.size() - 2));
  }
  std::vector<PassRecord> records;
  for (const Pass& pass : list) {
    PassRecord rec;
    rec.name = pass.name;
    rec.nodes_before = g.nodes.size();
    rec.skipped = std::find(ctx.disabled.begin(), ctx.disabled.end(), rec.name) != ctx.disabled.end();
    if (!rec.skipped) pass.run(g, ctx);
    rec.nodes_after = g.nodes.size();
    records.push_back(rec);
  }
  // Passes keep the order valid; sorting again is a cheap guard that also reports any cycle by node name.
  g.topo_sort();
  return records;
}

}  // namespace

std::vector<PassRecord> optimize(Graph& g, const PassContext& ctx) { return run_passes(default_passes(), g, ctx); }

std::vector<PassRecord> lower(Graph& g, const PassContext& ctx) { return run_passes(lowering_passes(), g, ctx); }

}  // namespace trtcore
