// Untrusted ONNX bytes through the whole pipeline: import, optimize, build on the cpu backend, run at batch 1 and at
// the maximum batch. Only trtcore::Error is an acceptable failure.
#include <cstddef>
#include <cstdint>

#include "common.h"
#include "trtcore/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = trtcore::fuzz::scratch_path("model.onnx");
  trtcore::fuzz::write_file(path, data, size);
  try {
    trtcore::fuzz::import_build_run(path);
  } catch (const trtcore::Error&) {
  }
  return 0;
}
