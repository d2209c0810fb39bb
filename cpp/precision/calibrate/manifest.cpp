// The manifest beside a calibration cache: a flat JSON object saying which model, samples and algorithm made it.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <sstream>

#include "precision/calibrate/cache.h"
#include "runtime/json.h"
#include "trtcore/error.h"

namespace trtcore::calib {
namespace {

struct Value {
  bool is_string = false;
  std::string text;  // the string's contents, or the number's token
};

// A reader for one flat JSON object whose values are strings or numbers.
class FlatReader {
 public:
  FlatReader(const std::string& text, const std::string& file) : s_(text), file_(file) {}

  std::map<std::string, Value> object() {
    std::map<std::string, Value> out;
    expect('{');
    if (peek() == '}') {
      ++pos_;
    } else {
      for (;;) {
        if (peek() != '"') bad("a member name in double quotes");
        std::string key = string();
        expect(':');
        Value v = value(key);
        if (!out.emplace(key, v).second) bad_member(key, "appears twice");
        const char c = peek();
        ++pos_;
        if (c == '}') break;
        if (c != ',') bad("',' or '}'");
      }
    }
    if (peek() != '\0') bad("the end of the file after the object");
    return out;
  }

  [[noreturn]] void bad_member(const std::string& key, const std::string& what) const {
    fail(ErrorKind::kCorrupt, file_, ": calibration manifest member \"", key, "\" ", what);
  }

 private:
  static bool number_char(char c) {
    return (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.' || c == 'e' || c == 'E';
  }
  char peek() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) ++pos_;
    return pos_ < s_.size() ? s_[pos_] : '\0';
  }
  [[noreturn]] void bad(const std::string& expected) const {
    fail(ErrorKind::kCorrupt, file_, ": calibration manifest is not a flat JSON object: expected ", expected,
         " at byte ", pos_);
  }
  void expect(char c) {
    if (peek() != c) bad(std::string("'") + c + "'");
    ++pos_;
  }
  Value value(const std::string& key) {
    const char c = peek();
    if (c == '"') return Value{true, string()};
    const size_t start = pos_;
    while (pos_ < s_.size() && number_char(s_[pos_])) ++pos_;
    if (pos_ == start) bad_member(key, "must be a string or a number");
    return Value{false, s_.substr(start, pos_ - start)};
  }
  std::string string() {
    ++pos_;  // opening quote, checked by the caller
    std::string out;
    while (pos_ < s_.size() && s_[pos_] != '"') {
      const char c = s_[pos_++];
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos_ >= s_.size()) break;
      const char e = s_[pos_++];
      switch (e) {
        case '"': case '\\': case '/': out += e; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': append_utf8(code_unit(), &out); break;
        default: bad("a valid string escape");
      }
    }
    if (pos_ >= s_.size()) bad("a closing '\"'");
    ++pos_;
    return out;
  }
  unsigned code_unit() {
    if (pos_ + 4 > s_.size()) bad("4 hex digits after \\u");
    const std::string hex = s_.substr(pos_, 4);
    char* end = nullptr;
    const unsigned long v = std::strtoul(hex.c_str(), &end, 16);
    if (end != hex.c_str() + 4) bad("4 hex digits after \\u");
    pos_ += 4;
    return unsigned(v);
  }
  void append_utf8(unsigned cp, std::string* out) {
    if (cp >= 0xD800 && cp < 0xDC00 && s_.compare(pos_, 2, "\\u") == 0) {  // surrogate pair
      pos_ += 2;
      cp = 0x10000 + ((cp - 0xD800) << 10) + (code_unit() - 0xDC00);
    }
    if (cp < 0x80) {
      *out += char(cp);
    } else if (cp < 0x800) {
      *out += char(0xC0 | cp >> 6), *out += char(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      *out += char(0xE0 | cp >> 12), *out += char(0x80 | (cp >> 6 & 0x3F)), *out += char(0x80 | (cp & 0x3F));
    } else {
      *out += char(0xF0 | cp >> 18), *out += char(0x80 | (cp >> 12 & 0x3F));
      *out += char(0x80 | (cp >> 6 & 0x3F)), *out += char(0x80 | (cp & 0x3F));
    }
  }

  const std::string& s_;
  const std::string& file_;
  size_t pos_ = 0;
};

std::string number_text(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

bool known_algorithm(const std::string& name) {
  for (Algorithm a : {Algorithm::kEntropy, Algorithm::kMax, Algorithm::kPercentile, Algorithm::kMse})
    if (name == algorithm_name(a)) return true;
  return false;
}

}  // namespace

std::string format_manifest(const CacheManifest& m) {
  TRTCORE_CHECK(known_algorithm(m.algorithm), ErrorKind::kInvalidArgument, "calibration manifest algorithm '",
                m.algorithm, "': expected entropy, max, percentile or mse");
  TRTCORE_CHECK(std::isfinite(m.percentile), ErrorKind::kInvalidArgument,
                "calibration manifest percentile must be finite, got ", m.percentile);
  return "{\n  \"model_hash\": " + json_string(m.model_hash) + ",\n  \"data_hash\": " + json_string(m.data_hash) +
         ",\n  \"algorithm\": " + json_string(m.algorithm) + ",\n  \"percentile\": " + number_text(m.percentile) +
         ",\n  \"samples\": " + std::to_string(m.samples) + ",\n  \"created\": " + json_string(m.created) +
         ",\n  \"equalization\": " + json_string(m.equalization) +
         ",\n  \"channel_means\": " + json_string(m.channel_means) + "\n}\n";
}

CacheManifest parse_manifest(const std::string& text, const std::string& file) {
  FlatReader reader(text, file);
  const std::map<std::string, Value> members = reader.object();
  const auto get = [&](const std::string& key, bool want_string) -> const Value* {
    const auto it = members.find(key);
    if (it == members.end()) return nullptr;
    if (it->second.is_string != want_string)
      reader.bad_member(key, want_string ? "must be a string" : "must be a number");
    return &it->second;
  };
  const auto required_string = [&](const std::string& key) {
    const Value* v = get(key, true);
    if (!v) reader.bad_member(key, "is missing");
    return v->text;
  };
  CacheManifest m;
  m.model_hash = required_string("model_hash");
  m.data_hash = required_string("data_hash");
  m.algorithm = required_string("algorithm");
  m.created = required_string("created");
  if (!known_algorithm(m.algorithm))
    reader.bad_member("algorithm", "is '" + m.algorithm + "': expected entropy, max, percentile or mse");
  if (const Value* v = get("percentile", false)) {
    char* end = nullptr;
    m.percentile = std::strtod(v->text.c_str(), &end);
    if (*end != '\0' || !std::isfinite(m.percentile)) reader.bad_member("percentile", "is not a number: " + v->text);
  }
  for (auto [key, field] : {std::pair{"equalization", &m.equalization}, std::pair{"channel_means", &m.channel_means}})
    if (const Value* v = get(key, true)) {
      const bool eq = std::string(key) == "equalization";  // equalization also names its source of ranges
      if (v->text != "off" && v->text != "on" && !(eq && v->text == "activations"))
        reader.bad_member(key, "is '" + v->text + (eq ? "': expected off, on or activations" : "': expected off or on"));
      *field = v->text;
    }
  const Value* samples = get("samples", false);
  if (!samples) reader.bad_member("samples", "is missing");
  char* end = nullptr;
  m.samples = std::strtoll(samples->text.c_str(), &end, 10);
  if (*end != '\0' || m.samples < 0) reader.bad_member("samples", "must be an integer >= 0, got " + samples->text);
  return m;
}

std::string format_channel_means(const ChannelMeans& means) {
  std::string out;
  for (const auto& [name, values] : means) {
    out += name + ":";
    for (float v : values) {
      char buf[32];
      std::snprintf(buf, sizeof buf, " %.9g", double(v));
      out += buf;
    }
    out += "\n";
  }
  return out;
}

ChannelMeans parse_channel_means(const std::string& text, const std::string& file) {
  ChannelMeans means;
  size_t line = 0;
  std::istringstream lines(text);
  std::string row;
  while (std::getline(lines, row)) {
    ++line;
    if (row.empty()) continue;
    const size_t colon = row.rfind(": ");
    if (colon == std::string::npos || colon == 0)
      fail(ErrorKind::kCorrupt, file, ":", line, ": expected '<tensor>: <mean> <mean> ...'");
    std::vector<float>& values = means[row.substr(0, colon)];
    const char* p = row.c_str() + colon + 1;
    while (*p) {
      char* after = nullptr;
      const float v = std::strtof(p, &after);
      if (after == p) {
        while (*p == ' ') ++p;
        if (*p) fail(ErrorKind::kCorrupt, file, ":", line, ": '", std::string(p).substr(0, 20), "' is not a number");
        break;
      }
      if (!std::isfinite(v)) fail(ErrorKind::kCorrupt, file, ":", line, ": a mean is not finite");
      values.push_back(v);
      p = after;
    }
  }
  return means;
}

}  // namespace trtcore::calib
