// Structure-aware mutation of ONNX models: the bytes are imported into a trtcore Graph, one structural change is
// made (attributes, input shapes, constant sizes and values, op types, input wiring, removed nodes, outputs), and
// the graph is written back as ONNX protobuf with the project's writer, so most mutants reach the builder.
#pragma once
#include <cstddef>
#include <cstdint>
#include <random>

#include "common.h"
#include "trtcore/graph.h"

namespace trtcore::fuzz {

// Applies between one and three random structural mutations to `g` (ids stay valid; the graph may become invalid
// ONNX semantically, which is the point).
void mutate_graph(Graph& g, std::mt19937& rng);

// The caps of fuzz_onnx_structured (common.h): a quarter MiB of activations or weights, 2e6 multiply-adds, one run.
Caps structured_caps();

// The ONNX model in data[0, size) mutated and written back in place; returns its new size, or 0 when the bytes are
// not an importable model or the mutant does not fit in max_size. Mutants whose graph inputs alone exceed the
// structured caps are drawn again (a few times) rather than written, as the harness would only skip them.
size_t mutate_onnx_bytes(uint8_t* data, size_t size, size_t max_size, unsigned seed);

}  // namespace trtcore::fuzz
