// Untrusted plan bytes: deserialize, load on the cpu backend and run at batch 1, half the maximum and the maximum.
// The trailing CRC-64 is recomputed over the mutated bytes first, so mutations reach the sections behind it (a
// plan damaged by accident fails at the checksum; one crafted to pass it must still fail cleanly).
#include <cstddef>
#include <cstdint>
#include <algorithm>
#include <cstring>
#include <string>

#include "common.h"
#include "plan/checksum.h"
#include "trtcore/error.h"
#include "trtcore/plan.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace trtcore;
  std::string bytes(reinterpret_cast<const char*>(data), size);
  if (bytes.size() >= 8) {
    const uint64_t crc = crc64(bytes.data(), bytes.size() - 8);
    std::memcpy(&bytes[bytes.size() - 8], &crc, 8);
  }
  try {
    Plan plan = deserialize_plan(bytes, "fuzz.plan");
    if (!fuzz::small_enough(plan.graph)) return 0;
    std::unique_ptr<Backend> backend = create_backend(BackendKind::kCpu, plan.build);
    backend->check_environment(plan.environment);
    SystemOptions sys;
    sys.threads = 1;
    std::unique_ptr<Executable> x = backend->load(plan.graph, plan.build, sys, plan.tactics);
    // A plan may claim any maximum batch; the runs stay within the first few.
    const int64_t top = plan.graph.has_batch_axis ? std::min<int64_t>(plan.graph.max_batch, 8) : 1;
    for (int64_t b : {int64_t(1), top / 2, top})
      if (b >= 1) fuzz::run_deterministic(*x, plan.graph, b);
  } catch (const Error&) {
  }
  return 0;
}
