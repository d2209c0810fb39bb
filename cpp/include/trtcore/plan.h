// The plan file: a versioned, checksummed binary container (magic, version, sections, trailing checksum).
// Only the plan crosses from build to run: the runner never needs the ONNX file.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "trtcore/graph.h"
#include "trtcore/options.h"
#include "trtcore/passes.h"

namespace trtcore {

constexpr uint32_t kPlanFormatVersion = 1;

struct Plan {
  std::string backend;                             // "cpu", "cuda", ...
  std::map<std::string, std::string> environment;  // from Backend::environment(); checked at load
  std::map<std::string, std::string> build_info;   // trtcore version, options, source model, date
  BuildOptions build;
  Graph graph;                                     // optimized graph with weights
  std::vector<PassRecord> passes;                  // what the optimizer did
  std::string tactics;                             // backend-owned blob
};

std::string serialize_plan(const Plan& plan);
// `origin` (a path) is named in errors. Throws kCorrupt for truncated/corrupted/wrong-version data.
Plan deserialize_plan(const std::string& bytes, const std::string& origin);

void save_plan(const Plan& plan, const std::string& path);  // atomic: temp file + rename
Plan load_plan(const std::string& path);

// Serializes just the graph (used by the plan and by tests).
std::string serialize_graph(const Graph& g);
Graph deserialize_graph(const std::string& bytes, const std::string& origin);

}  // namespace trtcore
