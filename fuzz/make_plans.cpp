// Seeds for fuzz_plan_run: each ONNX file given is built on the cpu backend (max batch 2) and saved as a plan in
// the output folder; models trtcore refuses are skipped. Usage: fuzz_make_plans OUT_DIR MODEL.onnx...
#include <cstdio>
#include <filesystem>
#include <string>

#include "common.h"
#include "trtcore/engine.h"
#include "trtcore/error.h"
#include "trtcore/onnx_import.h"

int main(int argc, char** argv) {
  using namespace trtcore;
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s OUT_DIR MODEL.onnx...\n", argv[0]);
    return 2;
  }
  std::filesystem::create_directories(argv[1]);
  int written = 0;
  for (int i = 2; i < argc; ++i) {
    try {
      ModelOptions model;
      model.onnx_path = argv[i];
      model.max_batch = fuzz::kMaxBatch;
      if (!fuzz::small_enough(import_onnx(model))) continue;
      BuildOptions build;
      build.backend = BackendKind::kCpu;
      SystemOptions sys;
      sys.threads = 1;
      const std::string stem = std::filesystem::path(argv[i]).stem().string();
      Engine::build(model, build, sys)->save(std::string(argv[1]) + "/" + stem + ".plan");
      ++written;
    } catch (const Error&) {
    }
  }
  std::printf("%d plans written to %s\n", written, argv[1]);
  return 0;
}
