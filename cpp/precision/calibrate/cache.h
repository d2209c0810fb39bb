// TensorRT's calibration cache text format: line 1 "TRT-<version>-<Algorithm>", then one "<tensor name>: <hex>" line
// per tensor, the hex being the 8 big-endian hex digits of the float32 scale (= amax / 127).
#pragma once
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "precision/calibrate/stats.h"

namespace trtcore::calib {

struct CalibrationCache {
  std::string version = "100300";         // TensorRT version field as written in the header
  std::string algorithm = "EntropyCalibration2";  // header algorithm name
  std::vector<std::pair<std::string, float>> scales;  // tensor name -> scale, in file order
  const float* find(const std::string& tensor) const;  // nullptr when absent
};

// The header name TensorRT uses for an algorithm: kEntropy "EntropyCalibration2", kMax "MinMaxCalibration",
// kPercentile "PercentileCalibration", kMse "MSECalibration".
std::string cache_algorithm_name(Algorithm a);

// Throws kInvalidArgument for a bad version/algorithm field, an empty or multi-line tensor name, a duplicate tensor,
// or a scale that is not a finite value > 0 (TensorRT refuses those).
std::string format_cache(const CalibrationCache& c);
// Parses TensorRT-written and our caches; errors (kCorrupt) name `file` and the line number. Tensor names may contain
// ':' (split at the last ": "). Accepts 4-digit (TensorRT 8) and 6+-digit (TensorRT 10) versions, 1 to 8 hex digits
// in either case, CRLF line ends, trailing whitespace and blank lines.
CalibrationCache parse_cache(const std::string& text, const std::string& file);

// Reads/writes a cache file (write is atomic: temp + rename).
CalibrationCache read_cache_file(const std::string& path);
void write_cache_file(const std::string& path, const CalibrationCache& c);

// The manifest written beside a cache ("<cache>.json"): what the cache was computed from.
struct CacheManifest {
  std::string model_hash;   // hex digest of the ONNX file
  std::string data_hash;    // hex digest of the calibration samples (names + bytes)
  std::string algorithm;    // algorithm_name()
  double percentile = 0;    // when algorithm is percentile
  long long samples = 0;
  std::string created;      // UTC ISO-8601
  std::string equalization = "off";  // --int8-equalization the scales were calibrated with (absent: off; activations:
                                     // the ranges it balanced are in <cache>.ranges)
  std::string channel_means = "off";  // "on": per-channel input means (bias correction) in <cache>.means
};
std::string format_manifest(const CacheManifest& m);   // a flat JSON object
// Errors (kCorrupt) name `file`: not a flat JSON object of strings and numbers, a missing or mistyped member, an
// unknown algorithm. Unknown members are ignored (a newer writer may add some).
CacheManifest parse_manifest(const std::string& text, const std::string& file);

// Per-channel means beside a cache (<cache>.means): one line per tensor, "<name>: <v0> <v1> ...", split at the last
// ": ". Errors (kCorrupt) name `file` and the line.
using ChannelMeans = std::map<std::string, std::vector<float>>;
std::string format_channel_means(const ChannelMeans& means);
ChannelMeans parse_channel_means(const std::string& text, const std::string& file);

}  // namespace trtcore::calib
