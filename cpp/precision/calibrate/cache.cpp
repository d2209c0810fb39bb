// TensorRT calibration cache text: formatting, tolerant parsing of TensorRT-written files, atomic file I/O.
#include "precision/calibrate/cache.h"

#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>

#include "trtcore/error.h"
#include "trtcore/io.h"

namespace trtcore::calib {
namespace {

bool all_digits(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

bool valid_algorithm_field(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  return true;
}

bool valid_version_field(const std::string& s) { return all_digits(s) && (s.size() == 4 || s.size() >= 6); }

std::string scale_hex(float scale) {
  uint32_t bits;
  std::memcpy(&bits, &scale, sizeof bits);
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08x", bits);
  return buf;
}

// 1 to 8 hex digits (TensorRT writes 8; readers accept fewer), the float32 bit pattern.
bool parse_hex_scale(const std::string& s, float* out) {
  if (s.empty() || s.size() > 8) return false;
  uint32_t bits = 0;
  for (char c : s) {
    uint32_t d;
    if (c >= '0' && c <= '9') d = uint32_t(c - '0');
    else if (c >= 'a' && c <= 'f') d = uint32_t(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') d = uint32_t(c - 'A' + 10);
    else return false;
    bits = bits << 4 | d;
  }
  std::memcpy(out, &bits, sizeof bits);
  return true;
}

std::string trim_right(const std::string& s) {
  size_t end = s.size();
  while (end > 0 && (s[end - 1] == ' ' || s[end - 1] == '\t' || s[end - 1] == '\r')) --end;
  return s.substr(0, end);
}

void parse_header(const std::string& line, const std::string& file, CalibrationCache* c) {
  const auto bad = [&]() {
    fail(ErrorKind::kCorrupt, file, ":1: bad calibration cache header '", line,
         "': expected 'TRT-<version>-<algorithm>' such as 'TRT-100300-EntropyCalibration2'");
  };
  if (line.rfind("TRT-", 0) != 0) bad();
  const size_t dash = line.find('-', 4);
  if (dash == std::string::npos) bad();
  c->version = line.substr(4, dash - 4);
  c->algorithm = line.substr(dash + 1);
  if (!valid_version_field(c->version) || !valid_algorithm_field(c->algorithm)) bad();
}

}  // namespace

const float* CalibrationCache::find(const std::string& tensor) const {
  for (const auto& [name, scale] : scales)
    if (name == tensor) return &scale;
  return nullptr;
}

std::string cache_algorithm_name(Algorithm a) {
  switch (a) {
    case Algorithm::kEntropy: return "EntropyCalibration2";
    case Algorithm::kMax: return "MinMaxCalibration";
    case Algorithm::kPercentile: return "PercentileCalibration";
    case Algorithm::kMse: return "MSECalibration";
  }
  return "EntropyCalibration2";
}

std::string format_cache(const CalibrationCache& c) {
  TRTCORE_CHECK(valid_version_field(c.version), ErrorKind::kInvalidArgument, "calibration cache version '", c.version,
                "' must be 4 or at least 6 decimal digits (e.g. 8601, 100300)");
  TRTCORE_CHECK(valid_algorithm_field(c.algorithm), ErrorKind::kInvalidArgument, "calibration cache algorithm '",
                c.algorithm, "' must be a non-empty name of letters and digits (e.g. EntropyCalibration2)");
  std::string out = "TRT-" + c.version + "-" + c.algorithm + "\n";
  std::map<std::string, size_t> seen;
  for (size_t i = 0; i < c.scales.size(); ++i) {
    const auto& [name, scale] = c.scales[i];
    TRTCORE_CHECK(!name.empty() && name.find_first_of("\r\n") == std::string::npos,
                  ErrorKind::kInvalidArgument, "calibration cache tensor name '", name,
                  "' cannot be written: it must be non-empty and on one line");
    TRTCORE_CHECK(std::isfinite(scale) && scale > 0, ErrorKind::kInvalidArgument, "calibration scale of tensor '",
                  name, "' is ", scale, ": expected a finite value > 0");
    TRTCORE_CHECK(seen.emplace(name, i).second, ErrorKind::kInvalidArgument, "tensor '", name,
                  "' appears twice in the calibration cache");
    out += name + ": " + scale_hex(scale) + "\n";
  }
  return out;
}

CalibrationCache parse_cache(const std::string& text, const std::string& file) {
  CalibrationCache c;
  c.version.clear();
  c.algorithm.clear();
  std::map<std::string, size_t> line_of;
  bool header = false;
  size_t pos = 0;
  for (size_t number = 1; pos < text.size(); ++number) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    const std::string line = trim_right(text.substr(pos, end - pos));
    pos = end + 1;
    if (line.empty()) continue;
    if (!header) {
      if (number != 1) fail(ErrorKind::kCorrupt, file, ":", number, ": the calibration cache header must be line 1");
      parse_header(line, file, &c);
      header = true;
      continue;
    }
    const size_t sep = line.rfind(": ");
    if (sep == std::string::npos || sep == 0)
      fail(ErrorKind::kCorrupt, file, ":", number, ": expected '<tensor name>: <8 hex digits>', got '", line, "'");
    const std::string name = line.substr(0, sep);
    const std::string hex = line.substr(sep + 2);
    float scale = 0;
    if (!parse_hex_scale(hex, &scale))
      fail(ErrorKind::kCorrupt, file, ":", number, ": bad scale '", hex, "' of tensor '", name,
           "': expected up to 8 hex digits (the float32 bits)");
    if (!std::isfinite(scale) || scale <= 0)
      fail(ErrorKind::kCorrupt, file, ":", number, ": scale ", hex, " (", scale, ") of tensor '", name,
           "' is not a finite value > 0");
    const auto [it, fresh] = line_of.emplace(name, number);
    if (!fresh)
      fail(ErrorKind::kCorrupt, file, ":", number, ": tensor '", name, "' already has a scale on line ", it->second);
    c.scales.emplace_back(name, scale);
  }
  if (!header)
    fail(ErrorKind::kCorrupt, file, ":1: empty calibration cache: expected a 'TRT-<version>-<algorithm>' header");
  return c;
}

CalibrationCache read_cache_file(const std::string& path) { return parse_cache(read_file(path), path); }

void write_cache_file(const std::string& path, const CalibrationCache& c) { write_file_atomic(path, format_cache(c)); }

}  // namespace trtcore::calib
