// Untrusted sample files: bytes split into up to four files (one length byte before each) read by the sample-folder
// reader, for a one-input model through Engine::run_directory and for a two-input folder layout directly.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "common.h"
#include "onnx/onnx_writer.h"
#include "runtime/samples.h"
#include "trtcore/engine.h"
#include "trtcore/error.h"

namespace {

using namespace trtcore;

// x [batch, 3, 4, 4] -> Relu -> y, batch axis dynamic up to 2.
std::unique_ptr<Engine> make_engine() {
  Graph g;
  g.name = "fuzz_samples";
  g.has_batch_axis = true;
  g.max_batch = 2;
  const int x = g.add_value({"x", DType::kFloat32, {2, 3, 4, 4}, nullptr});
  const int y = g.add_value({"y", DType::kFloat32, {2, 3, 4, 4}, nullptr});
  Node n;
  n.name = "relu";
  n.op = "Relu";
  n.inputs = {x};
  n.outputs = {y};
  g.nodes.push_back(n);
  g.inputs = {x};
  g.outputs = {y};
  ModelOptions model;
  model.onnx_path = fuzz::scratch_path("samples_model.onnx");
  onnx::write_onnx(g, {onnx::FloatStorage::kAsGraph, onnx::BatchDim::kDynamic, 0}, model.onnx_path);
  model.max_batch = 2;
  BuildOptions build;
  build.backend = BackendKind::kCpu;
  SystemOptions sys;
  sys.threads = 1;
  return Engine::build(model, build, sys);
}

// Writes the files of `data` under `dir` (one length byte, then that many bytes, per file; names 0..3).
void write_samples(const std::string& dir, const uint8_t*& data, size_t& size, size_t files) {
  std::filesystem::create_directories(dir);
  for (size_t f = 0; f < files && size > 0; ++f) {
    const size_t len = std::min<size_t>(data[0], size - 1);
    fuzz::write_file(dir + "/" + std::to_string(f), data + 1, len);
    data += 1 + len;
    size -= 1 + len;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static std::unique_ptr<Engine> engine = make_engine();
  static const std::string dir = fuzz::scratch_path("samples");
  if (size < 1) return 0;
  const uint8_t mode = data[0];
  ++data;
  --size;
  std::filesystem::remove_all(dir);
  try {
    if (mode & 1) {
      // two inputs: sub-folders a [3, 4, 4] and b [5]
      write_samples(dir + "/a", data, size, 1 + ((mode >> 1) & 3));
      write_samples(dir + "/b", data, size, 1 + ((mode >> 3) & 3));
      const SampleFolder folder(dir, {{"a", {3, 4, 4}}, {"b", {5}}});
      std::vector<float> a(folder.size() * folder.sample_floats(0)), b(folder.size() * folder.sample_floats(1));
      folder.read(0, folder.size(), {a.data(), b.data()});
    } else {
      write_samples(dir, data, size, 1 + ((mode >> 1) & 3));
      const std::string out = (mode & 8) ? dir + "_out" : std::string();
      engine->run_directory(dir, out, 1 + ((mode >> 4) & 1), 1);
    }
  } catch (const Error&) {
  }
  return 0;
}
