// The tactics a plan stores: "node=tactic;node=tactic", with '%', ';' and '=' percent-escaped.
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "backends/cuda/executable.h"

namespace trtcore::cuda {
namespace {

std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '%' || c == ';' || c == '=') {
      static const char* hex = "0123456789ABCDEF";
      out += '%';
      out += hex[(unsigned char)c >> 4];
      out += hex[(unsigned char)c & 15];
    } else {
      out += c;
    }
  }
  return out;
}

std::string unescape(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out += char(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

}  // namespace

std::string format_tactics(const std::vector<std::pair<std::string, std::string>>& entries) {
  std::string out;
  for (const auto& [node, tactic] : entries) {
    if (!out.empty()) out += ';';
    out += escape(node) + "=" + escape(tactic);
  }
  return out;
}

std::map<std::string, std::string> parse_tactics(const std::string& text) {
  std::map<std::string, std::string> m;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find(';', pos);
    if (end == std::string::npos) end = text.size();
    const std::string item = text.substr(pos, end - pos);
    const size_t eq = item.find('=');
    if (eq == std::string::npos)
      fail(ErrorKind::kCorrupt, "cuda tactics in the plan: entry '", item, "' has no '='");
    try {
      m[unescape(item.substr(0, eq))] = unescape(item.substr(eq + 1));
    } catch (const std::exception&) {
      fail(ErrorKind::kCorrupt, "cuda tactics in the plan: bad escape in entry '", item, "'");
    }
    pos = end + 1;
  }
  return m;
}

}  // namespace trtcore::cuda
