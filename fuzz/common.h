// Shared pieces of the libFuzzer harnesses: scratch files, work caps, deterministic inputs and runs on the cpu
// backend. Only trtcore::Error is an expected outcome; anything else escapes to libFuzzer as a finding.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "trtcore/backend.h"
#include "trtcore/graph.h"

namespace trtcore::fuzz {

// Caps that keep one execution in milliseconds: bytes of all activations / of all weights at the maximum batch,
// and a rough multiply-add count of the whole graph.
constexpr size_t kMaxActivationBytes = size_t(2) << 20;
constexpr size_t kMaxWeightBytes = size_t(2) << 20;
constexpr double kMaxWork = 2e7;
constexpr int64_t kMaxBatch = 2;

// Per-harness limits: fuzz_onnx_build_run uses the constants above; the structured harness, whose inputs are always
// valid models, keeps to smaller graphs and one run so that most of its time goes to new structures.
struct Caps {
  size_t activation_bytes = kMaxActivationBytes;
  size_t weight_bytes = kMaxWeightBytes;
  double work = kMaxWork;
  bool run_batch_one = true;  // false: only the maximum batch runs (batch 1 when the graph has no batch axis)
};

// A file name unique to this process under TMPDIR (or /tmp), for APIs that read paths.
std::string scratch_path(const std::string& name);
void write_file(const std::string& path, const uint8_t* data, size_t size);
void write_file(const std::string& path, const std::string& bytes);

// False when the graph's activations, weights or estimated work exceed the caps.
bool small_enough(const Graph& g, const Caps& caps = Caps());

// Fills every input of `g` with deterministic values suited to its dtype and runs `x` at `batch`.
void run_deterministic(Executable& x, const Graph& g, int64_t batch);

// The ONNX model at `onnx_path` imported for kMaxBatch, capped, optimized, built on the cpu backend and run at
// batch 1 and at the maximum batch. trtcore::Error propagates to the caller. False when the model was skipped as
// beyond the caps (libFuzzer then keeps it out of the corpus).
bool import_build_run(const std::string& onnx_path, const Caps& caps = Caps());

}  // namespace trtcore::fuzz
