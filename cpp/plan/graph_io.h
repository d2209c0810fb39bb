// Internal entry point of the GRAPH section reader: parses in place, without copying the section's bytes.
#pragma once
#include <cstddef>
#include <string>

#include "trtcore/graph.h"

namespace trtcore::planio {

Graph read_graph(const char* data, size_t size, const std::string& origin);

}  // namespace trtcore::planio
