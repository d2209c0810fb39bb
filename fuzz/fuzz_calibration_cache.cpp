// Untrusted calibration cache and manifest text: TensorRT's cache format and the manifest's flat JSON object.
#include <cstddef>
#include <cstdint>
#include <string>

#include "precision/calibrate/cache.h"
#include "trtcore/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace trtcore;
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const calib::CalibrationCache c = calib::parse_cache(text, "fuzz.cache");
    for (const auto& [name, scale] : c.scales)
      if (c.find(name) == nullptr) __builtin_trap();  // every parsed tensor is found again
    // What parses must format and parse back to the same scales (or be refused by the writer's stricter checks).
    try {
      const calib::CalibrationCache back = calib::parse_cache(calib::format_cache(c), "fuzz.cache (formatted)");
      if (back.scales != c.scales) __builtin_trap();
    } catch (const Error&) {
    }
  } catch (const Error&) {
  }
  try {
    const calib::CacheManifest m = calib::parse_manifest(text, "fuzz.cache.json");
    calib::parse_manifest(calib::format_manifest(m), "fuzz.cache.json (formatted)");
  } catch (const Error&) {
  }
  return 0;
}
