// fuzz_onnx_build_run with a structure-aware mutator: inputs are mutated as ONNX graphs (onnx_mutator.h) rather
// than as bytes, so most of them import and reach the optimizer, the builder and the kernels. Now and then, and
// whenever the input does not import, libFuzzer's byte mutation runs instead. Graphs are kept an order of magnitude
// smaller than fuzz_onnx_build_run's and run once, at the maximum batch; mutants beyond that are never added to the
// corpus, so the search stays on small, fast structures.
#include <cstddef>
#include <cstdint>
#include <random>

#include "common.h"
#include "onnx_mutator.h"
#include "trtcore/error.h"

extern "C" size_t LLVMFuzzerMutate(uint8_t* data, size_t size, size_t max_size);

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size, unsigned int seed) {
  if (seed % 16 != 0) {
    const size_t n = trtcore::fuzz::mutate_onnx_bytes(data, size, max_size, seed);
    if (n > 0) return n;
  }
  return LLVMFuzzerMutate(data, size, max_size);
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = trtcore::fuzz::scratch_path("structured.onnx");
  trtcore::fuzz::write_file(path, data, size);
  try {
    // -1: libFuzzer keeps inputs beyond the caps out of the corpus
    if (!trtcore::fuzz::import_build_run(path, trtcore::fuzz::structured_caps())) return -1;
  } catch (const trtcore::Error&) {
  }
  return 0;
}
