// The cpu backend's persistent worker pool, shared by GEMM, Conv, pooling, depthwise, Winograd and the strided
// element-wise loops.
#pragma once
#include <cstdint>
#include <functional>

namespace trtcore::cpu {

// Runs task(0) .. task(tasks - 1) on up to `threads` threads of a persistent pool; the caller works too. Tasks are
// claimed one at a time, and the call waits only for tasks already claimed, never for a worker that has not
// woken up yet (on a busy machine a descheduled thread then costs nothing). Idle workers poll for the next call
// for about 100 us (back-to-back parallel layers then pay no wake-up), then sleep.
// A call made while the pool is busy with another caller's work runs its tasks on the calling thread.
void parallel_tasks(int threads, int64_t tasks, const std::function<void(int64_t)>& task);

// Multiply-adds below which a conv or GEMM stays on the calling thread: handing work to a second thread costs
// microseconds (more on a busy machine), as much as the product itself at this size.
constexpr int64_t kMinParallelMacs = int64_t(1) << 20;
// The same for per-channel window ops (depthwise convolutions): a multiply-add there costs ten times a GEMM's
// (shuffles, unaligned loads, one weight per channel), so a layer of 256k of them already takes tens of microseconds.
constexpr int64_t kMinParallelWindowMacs = int64_t(1) << 18;

}  // namespace trtcore::cpu
