#include "backends/cuda/timing_cache.h"

#include <fstream>
#include <sstream>

#include "trtcore/error.h"
#include "trtcore/io.h"

namespace trtcore::cuda {

namespace {

constexpr const char* kMagic = "trtcore-timing-cache 1";

std::string attr_text(const AttrValue& v) {
  std::ostringstream os;
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, TensorPtr>) {
          os << "tensor";  // weights do not change which algorithm is fastest; their shape is in the inputs
        } else if constexpr (std::is_same_v<T, std::vector<int64_t>> || std::is_same_v<T, std::vector<float>>) {
          for (auto e : x) os << e << ",";
        } else {
          os << x;
        }
      },
      v);
  return os.str();
}

}  // namespace

TimingCache::TimingCache(std::string path, std::string device) : path_(std::move(path)), device_(std::move(device)) {
  std::ifstream f(path_);
  if (!f) return;
  std::string line;
  if (!std::getline(f, line) || line != std::string(kMagic) + " " + device_) return;  // other GPU or format
  while (std::getline(f, line)) {
    const size_t tab = line.find('\t');
    if (tab != std::string::npos) entries_[line.substr(0, tab)] = line.substr(tab + 1);
  }
}

std::string TimingCache::key(const Node& n, const Graph& g, Fp32Math math) {
  std::ostringstream os;
  os << n.layer_label() << "|" << (math == Fp32Math::kTF32 ? "tf32" : "fp32");
  for (int id : n.inputs) {
    if (id < 0) {
      os << "|-";
      continue;
    }
    const Value& v = g.value(id);
    os << "|" << dtype_name(v.dtype) << ":" << shape_str(v.shape) << (v.constant ? "c" : "");
  }
  for (const auto& [name, value] : n.attrs.items()) os << "|" << name << "=" << attr_text(value);
  std::string k = os.str();
  for (char& c : k)
    if (c == '\t' || c == '\n' || c == '\r') c = ' ';
  return k;
}

const std::string* TimingCache::find(const std::string& key) const {
  auto it = entries_.find(key);
  return it == entries_.end() ? nullptr : &it->second;
}

void TimingCache::save() const {
  std::string text = std::string(kMagic) + " " + device_ + "\n";
  for (const auto& [k, t] : entries_) text += k + "\t" + t + "\n";
  write_file_atomic(path_, text);
}

}  // namespace trtcore::cuda
