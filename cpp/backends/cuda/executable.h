// The cuda Executable: weights uploaded once, one planned activation arena, pinned staging, one stream, and a
// CUDA graph per batch size.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "backends/cuda/cuda_kernel.h"
#include "trtcore/backend.h"

namespace trtcore::cuda {

// "node=tactic;node=tactic" with '%', ';' and '=' percent-escaped in names and tactics.
std::string format_tactics(const std::vector<std::pair<std::string, std::string>>& entries);
std::map<std::string, std::string> parse_tactics(const std::string& text);

std::unique_ptr<Executable> make_executable(const Graph& g, const BuildOptions& build, const SystemOptions& sys,
                                            TacticMode mode, const std::string& tactics_in,
                                            std::string* tactics_out);

}  // namespace trtcore::cuda
