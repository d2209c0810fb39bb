// GPU helpers shared by the backends that run on CUDA (cuda, tensorrt): the CUDA runtime status check, an event
// for timing and pinned host memory. CUDA runtime API only: no cuDNN, cuBLAS or TensorRT here.
#pragma once
#include <cuda_runtime.h>

#include <cstddef>
#include <string>
#include <utility>

#include "trtcore/error.h"

// Throws trtcore::Error(kRuntime) naming `where` (any streamable context, formatted only on failure) and the call.
#define TRTCORE_CUDA_CHECK(where, call)                                                                   \
  do {                                                                                                    \
    const cudaError_t trtcore_status_ = (call);                                                           \
    if (trtcore_status_ != cudaSuccess)                                                                   \
      ::trtcore::fail(::trtcore::ErrorKind::kRuntime, where, ": ", #call, " failed: ",                    \
                      cudaGetErrorName(trtcore_status_), " (", cudaGetErrorString(trtcore_status_), ")"); \
  } while (0)

namespace trtcore::gpu {

// A CUDA event (move-only; destruction never throws). `where` names the owner in the error message.
class Event {
 public:
  explicit Event(const std::string& where) { TRTCORE_CUDA_CHECK(where, cudaEventCreate(&e_)); }
  ~Event() {
    if (e_) static_cast<void>(cudaEventDestroy(e_));
  }
  Event(Event&& o) noexcept : e_(std::exchange(o.e_, nullptr)) {}
  Event& operator=(Event&&) = delete;
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;
  cudaEvent_t get() const { return e_; }

 private:
  cudaEvent_t e_ = nullptr;
};

// Milliseconds from `a` to `b`, both recorded and `b` complete.
inline float elapsed_ms(const Event& a, const Event& b, const std::string& where) {
  float ms = 0.f;
  TRTCORE_CUDA_CHECK(where, cudaEventElapsedTime(&ms, a.get(), b.get()));
  return ms;
}

// Page-locked host memory for asynchronous copies (move-only; freeing never throws).
class PinnedBuffer {
 public:
  PinnedBuffer() = default;
  // Allocates `bytes` (0 allowed); `where` names the owner in the error message.
  PinnedBuffer(size_t bytes, const std::string& where) : bytes_(bytes) {
    if (bytes) TRTCORE_CUDA_CHECK(where, cudaMallocHost(&ptr_, bytes));
  }
  ~PinnedBuffer() {
    if (ptr_) static_cast<void>(cudaFreeHost(ptr_));
  }
  PinnedBuffer(PinnedBuffer&& o) noexcept : ptr_(std::exchange(o.ptr_, nullptr)), bytes_(std::exchange(o.bytes_, 0)) {}
  PinnedBuffer& operator=(PinnedBuffer&& o) noexcept {
    std::swap(ptr_, o.ptr_);  // the old buffer is freed with `o`
    std::swap(bytes_, o.bytes_);
    return *this;
  }
  PinnedBuffer(const PinnedBuffer&) = delete;
  PinnedBuffer& operator=(const PinnedBuffer&) = delete;
  void* get() const { return ptr_; }
  size_t bytes() const { return bytes_; }

 private:
  void* ptr_ = nullptr;
  size_t bytes_ = 0;
};

}  // namespace trtcore::gpu
