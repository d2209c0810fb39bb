// Small graph-editing helpers shared by the optimizer passes (internal to cpp/optimize/).
#pragma once
#include <string>
#include <vector>

#include "trtcore/graph.h"

namespace trtcore::opt {

// Per-value lists of consumer node indices (graph outputs are not listed; see is_graph_output).
std::vector<std::vector<int>> consumer_lists(const Graph& g);
bool is_graph_output(const Graph& g, int value);
bool is_graph_input(const Graph& g, int value);
// Points every node input and graph output that reads `from` at `to`.
void replace_uses(Graph& g, int from, int to);
// Removes the nodes whose flag is set, keeping the order of the others.
void erase_nodes(Graph& g, const std::vector<char>& remove);
// The constant float32 tensor behind `value`, or nullptr when it is absent, not constant or not float32.
const Tensor* float_constant(const Graph& g, int value);
// Adds a new float32 constant named after `base`; returns its value id.
int add_float_constant(Graph& g, const std::string& base, const Shape& shape, const std::vector<float>& data);
// True when `node` already carries a fused activation or residual input.
bool has_fusion(const Node& node);
// True for a QuantizeLinear per tensor with a positive constant float32 scale: a non-decreasing map, so it commutes
// with max (MaxPool may run before or after it).
bool monotonic_quantizer(const Graph& g, const Node& q);
// True when the per-channel constant `c` broadcasts along axis 1 of a tensor of rank `rank` (or is a scalar):
// numel is 1 or `channels`, and all of its dims except the one facing axis 1 are 1.
bool is_per_channel(const Tensor& c, size_t rank, int64_t channels);

}  // namespace trtcore::opt
