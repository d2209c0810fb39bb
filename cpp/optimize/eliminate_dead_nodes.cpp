// eliminate_dead_nodes: nodes none of whose outputs reach a graph output are dropped, then unused values.
#include "optimize/pass_util.h"
#include "trtcore/passes.h"

namespace trtcore::opt {

void eliminate_dead_nodes(Graph& g, const PassContext&) {
  std::vector<char> live(g.values.size(), 0);
  for (int o : g.outputs) live[size_t(o)] = 1;
  std::vector<char> remove(g.nodes.size(), 0);
  // Nodes are in topological order: one backward sweep marks everything a live node reads.
  for (size_t k = g.nodes.size(); k-- > 0;) {
    const Node& n = g.nodes[k];
    bool used = false;
    for (int o : n.outputs) used = used || (o >= 0 && live[size_t(o)]);
    if (!used) {
      remove[k] = 1;
      continue;
    }
    for (int in : n.inputs)
      if (in >= 0) live[size_t(in)] = 1;
  }
  erase_nodes(g, remove);
  g.remove_unused_values();
}

}  // namespace trtcore::opt
