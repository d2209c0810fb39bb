// The tactic timing cache (--timing-cache FILE): tactics chosen by timing, keyed by what determines them (op,
// fusion, shapes, dtypes, attributes, math mode), so a rebuild reuses them instead of timing again and two builds of
// the same model pick the same kernels. Text file; entries from another GPU are ignored.
#pragma once
#include <map>
#include <string>

#include "trtcore/graph.h"
#include "trtcore/options.h"

namespace trtcore::cuda {

class TimingCache {
 public:
  // Reads `path` if it exists (a missing file is an empty cache); `device` names this GPU.
  TimingCache(std::string path, std::string device);
  static std::string key(const Node& n, const Graph& g, Fp32Math math);
  const std::string* find(const std::string& key) const;
  void put(const std::string& key, const std::string& tactic) { entries_[key] = tactic; }
  void save() const;  // atomically; kIo naming the file when it cannot be written

 private:
  std::string path_, device_;
  std::map<std::string, std::string> entries_;
};

}  // namespace trtcore::cuda
