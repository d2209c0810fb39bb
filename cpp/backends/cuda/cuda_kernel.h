// The cuda backend's per-op kernel interface and the helpers every kernel file shares.
//
// One op (or small family) per .cu file under cpp/backends/cuda/. A kernel file:
//   1. derives from CudaKernel;
//   2. does its one-time work in init(): reads attributes, uploads/packs weights it wants in another form, creates
//      cuDNN/cuBLASLt descriptors and chooses algorithms for the maximum-batch shapes (graph.value(id).shape);
//   3. enqueues its work in run() on ctx.stream only: no allocation, no host synchronisation, no blocking call —
//      run() may be recorded into a CUDA graph and replayed;
//   4. ends with TRTCORE_CUDA_KERNEL_FACTORY(OpName, Class) and gets one X(OpName) line in TRTCORE_CUDA_OPS in
//      kernel_table.cpp (explicit on purpose: objects in a static library are linked only when referenced).
//
// Every CUDA/cuDNN/cuBLAS status is checked with the TRTCORE_*_CHECK macros (below; TRTCORE_CUDA_CHECK in
// backends/gpu_common.h): a failure throws trtcore::Error(kRuntime) naming the node and the call. Never abort, exit
// or print.
#pragma once
#include <cublasLt.h>
#include <cuda_runtime.h>
#include <cudnn.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "backends/gpu_common.h"
#include "trtcore/backend.h"
#include "trtcore/error.h"
#include "trtcore/graph.h"
#include "trtcore/options.h"
#include "trtcore/tensor.h"

namespace trtcore::cuda {

// ---------------------------------------------------------------------------------------------------------------
// Status checks. `where` is any streamable context (usually node.describe()); it is only formatted on failure.
// ---------------------------------------------------------------------------------------------------------------
#define TRTCORE_CUDNN_CHECK(where, call)                                                      \
  do {                                                                                        \
    const cudnnStatus_t trtcore_status_ = (call);                                             \
    if (trtcore_status_ != CUDNN_STATUS_SUCCESS)                                              \
      ::trtcore::fail(::trtcore::ErrorKind::kRuntime, where, ": ", #call, " failed: ",        \
                      cudnnGetErrorString(trtcore_status_), " (", int(trtcore_status_), ")"); \
  } while (0)

#define TRTCORE_CUBLAS_CHECK(where, call)                                                           \
  do {                                                                                              \
    const cublasStatus_t trtcore_status_ = (call);                                                  \
    if (trtcore_status_ != CUBLAS_STATUS_SUCCESS)                                                   \
      ::trtcore::fail(::trtcore::ErrorKind::kRuntime, where, ": ", #call, " failed: cublas status ", \
                      int(trtcore_status_));                                                        \
  } while (0)

// After a <<<...>>> launch: catches bad launch configurations without synchronising.
#define TRTCORE_CUDA_LAUNCH_CHECK(where, kernel_name) \
  TRTCORE_CUDA_CHECK(where, (static_cast<void>(kernel_name), cudaGetLastError()))

// ---------------------------------------------------------------------------------------------------------------
// Launch configuration: 1-D grid-stride loops over int64 element counts.
// ---------------------------------------------------------------------------------------------------------------
constexpr int kBlockSize = 256;
constexpr int64_t kMaxGridBlocks = 65535LL * 8;  // grid-stride loops cover the rest

// Whether p is a multiple of `bytes` (vector loads and stores need their width's alignment).
inline bool aligned(const void* p, size_t bytes) { return reinterpret_cast<uintptr_t>(p) % bytes == 0; }

inline unsigned grid_for(int64_t n, int block = kBlockSize) {
  int64_t blocks = (n + block - 1) / block;
  if (blocks < 1) blocks = 1;
  if (blocks > kMaxGridBlocks) blocks = kMaxGridBlocks;
  return unsigned(blocks);
}

// ---------------------------------------------------------------------------------------------------------------
// Device memory owned by a kernel or the executable (move-only RAII; freeing never throws).
// ---------------------------------------------------------------------------------------------------------------
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  // Allocates `bytes` (0 allowed); `where` names the owner in the error message.
  DeviceBuffer(size_t bytes, const std::string& where);
  ~DeviceBuffer() { reset(); }
  DeviceBuffer(DeviceBuffer&& o) noexcept : ptr_(std::exchange(o.ptr_, nullptr)), bytes_(std::exchange(o.bytes_, 0)) {}
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
    if (this != &o) {
      reset();
      ptr_ = std::exchange(o.ptr_, nullptr);
      bytes_ = std::exchange(o.bytes_, 0);
    }
    return *this;
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  void reset();
  void* get() const { return ptr_; }
  template <class T> T* as() const { return static_cast<T*>(ptr_); }
  size_t bytes() const { return bytes_; }

 private:
  void* ptr_ = nullptr;
  size_t bytes_ = 0;
};

// Synchronous upload used at init time only (never inside run()).
DeviceBuffer upload(const void* host, size_t bytes, const std::string& where);
DeviceBuffer upload_floats(const std::vector<float>& host, const std::string& where);

// ---------------------------------------------------------------------------------------------------------------
// Contexts handed to kernels.
// ---------------------------------------------------------------------------------------------------------------

// Build tunes (times candidate algorithms); load reuses the tactic string recorded at build.
enum class TacticMode { kTune, kReuse };

// Storage layout of a planned buffer. The executable stores float16 4-D activations kNHWC between kernels that
// accept it (see LayoutRule), so convolutions run on tensor cores without per-layer layout transforms.
enum class Layout { kNCHW, kNHWC };

// The operands our own direct convolution kernels (depthwise, short-reduction) take besides their weights.
struct DirectConvIo {
  const void* x = nullptr;
  const void* bias = nullptr;  // [output channels] or null
  const void* z = nullptr;     // residual in y's shape, or null
  void* y = nullptr;
  Layout x_layout = Layout::kNCHW, y_layout = Layout::kNCHW, z_layout = Layout::kNCHW;
  int64_t y_channel_pitch = 0;  // channels of the buffer y is stored in (a Concat's, when wider); 0 = dense
};

// How a kernel handles NHWC-stored activations (asked before init on a fresh instance):
//   kNchwOnly   every input and output is NCHW (the default; the producer of an input converts);
//   kSameLayout input 0 and output 0 share one layout, decided by the executable; other inputs are NCHW;
//   kAnyLayout  each 4-D activation input and output 0 may be NCHW or NHWC independently (the kernel converts);
//   kAllSameLayout  every 4-D activation input and output 0 share one layout (e.g. Concat).
enum class LayoutRule { kNchwOnly, kSameLayout, kAnyLayout, kAllSameLayout };

struct CudaInitContext {
  cudaStream_t stream = nullptr;          // the executable's stream (for uploads/timing during init)
  cudnnHandle_t cudnn = nullptr;          // bound to `stream`
  cublasLtHandle_t cublaslt = nullptr;
  int device = 0;
  int sm_major = 0, sm_minor = 0;
  Fp32Math fp32_math = Fp32Math::kStrict;
  TacticMode mode = TacticMode::kTune;
  std::string tactic;                     // kReuse: the string this kernel's tactic() returned at build
  size_t workspace_limit = size_t(256) << 20;  // per-kernel cap when choosing algorithms
  // Device pointer of a constant value (weights are uploaded once by the executable, in their graph dtype/shape).
  std::function<const void*(int value_id)> device_constant;
  // Storage layout of each node input/output (same positions as node.inputs/outputs; missing entries are kNCHW).
  std::vector<Layout> in_layouts, out_layouts;
  Layout in_layout(size_t k) const { return k < in_layouts.size() ? in_layouts[k] : Layout::kNCHW; }
  Layout out_layout(size_t k) const { return k < out_layouts.size() ? out_layouts[k] : Layout::kNCHW; }
  // Concat elimination: output k is written as a channel slice of a wider [N, C_total, H, W] buffer (in its storage
  // layout) when out_slice_channels[k] > 0 (C_total); the data pointer given to run() is the slice's start.
  std::vector<int64_t> out_slice_channels;
  int64_t out_slice(size_t k) const { return k < out_slice_channels.size() ? out_slice_channels[k] : 0; }
  // For a Concat: which inputs their producers write in place (so run() skips their copies).
  std::vector<char> in_place_inputs;
  // kTune: every form timed, with its milliseconds, for the build's report (see LayerInfo::candidates).
  std::vector<TacticTime> timed;
  void record(const std::string& tactic, float ms, const std::string& note = "") {
    const bool ran = ms < 3.0e38f;  // infinite: the form refused the layer
    timed.push_back({tactic, ran ? double(ms) : -1.0, ran || !note.empty() ? note : "refused"});
  }
};

// Per-run state. Handles are already bound to `stream`.
struct CudaRunContext {
  cudaStream_t stream = nullptr;
  cudnnHandle_t cudnn = nullptr;
  cublasLtHandle_t cublaslt = nullptr;
  void* workspace = nullptr;              // shared scratch of at least max(workspace_size()) bytes
  size_t workspace_bytes = 0;
};

// Whether output 0 may share input 0's device buffer (Reshape-like ops). The planner decides; when it does not
// alias, run() still has to copy, so such kernels test `out[0].data != in[0].data`.
enum class OutputAlias { kNone, kInput0 };

class CudaKernel {
 public:
  virtual ~CudaKernel() = default;

  // Once at build/load. `g` holds the maximum-batch shapes; constant inputs are readable on the host through
  // g.value(id).constant and on the device through ctx.device_constant(id). Throws kUnsupported naming the node
  // for attribute values it cannot run, kRuntime for failed CUDA calls.
  virtual void init(const Node& node, const Graph& g, CudaInitContext& ctx) { (void)node; (void)g; (void)ctx; }

  // Enqueues the op on ctx.stream. Views are device memory with this run's shapes (batch may be below the
  // maximum); absent optional inputs/outputs have data == nullptr. Outputs are preallocated.
  virtual void run(const std::vector<TensorView>& in, const std::vector<TensorView>& out, CudaRunContext& ctx) = 0;

  // Scratch bytes run() needs at the maximum batch (known after init).
  virtual size_t workspace_size() const { return 0; }
  // Device bytes this kernel owns beyond the shared constants (packed weights), for memory().
  virtual size_t weights_bytes() const { return 0; }
  // Chosen algorithm, stored in the plan and handed back at load; must not contain ';' or '='. "" for none.
  virtual std::string tactic() const { return ""; }
  // "fp32", "tf32" (TF32 tensor cores), "fp16" or "int8"; "" for data movement and elementwise kernels, whose
  // precision is their output's dtype.
  virtual std::string precision() const { return ""; }
  virtual OutputAlias alias() const { return OutputAlias::kNone; }
  // Whether output 0 can be written as a channel slice of a wider buffer (see CudaInitContext::out_slice_channels):
  // then a Concat that is its only consumer needs no copy. Asked before init on a fresh instance.
  virtual bool accepts_output_slice(const Node& node, const Graph& g) const {
    (void)node;
    (void)g;
    return false;
  }
  // After init: the C_total it writes output 0 with (0 = dense). A kernel may decline a planned slice (e.g. no cuDNN
  // algorithm takes the strided output); the Concat then copies that input as usual.
  virtual int64_t output_slice() const { return 0; }
  // After init: an input whose buffer output 0 may be written over when no later step reads it (the kernel reads
  // each of its elements before writing the same element), or -1.
  virtual int output_over_input() const { return -1; }
  // Which activation layouts this kernel can read and write for `node` (see LayoutRule).
  virtual LayoutRule layout_rule(const Node& node, const Graph& g) const {
    (void)node;
    (void)g;
    return LayoutRule::kNchwOnly;
  }

  // Host-only check before any GPU work (called by unsupported_nodes on a fresh instance): "" when this kernel can
  // run the node, else the reason. The default accepts nodes whose present inputs and outputs are all float32.
  virtual std::string check(const Node& node, const Graph& g) const;
};

// Concat/Split geometry: the node's `axis` attribute normalised against `rank` (fails naming the node when out of
// range), and a shape seen as `outer` rows whose axis-and-after part holds `inner` elements per axis step.
inline int64_t node_axis(const Node& node, int64_t rank, const std::string& where) {
  int64_t axis = node.attrs.get_int("axis", 0);
  if (axis < 0) axis += rank;
  if (axis < 0 || axis >= rank) fail(ErrorKind::kInvalidArgument, where, ": axis out of range for rank ", rank);
  return axis;
}
struct AxisRows {
  int64_t outer = 1, inner = 1;
};
inline AxisRows axis_rows(const Shape& s, int64_t axis) {
  AxisRows r;
  for (int64_t d = 0; d < int64_t(s.size()); ++d) {
    if (d < axis) r.outer *= s[size_t(d)];
    else if (d > axis) r.inner *= s[size_t(d)];
  }
  return r;
}

using KernelFactory = std::unique_ptr<CudaKernel> (*)();

struct KernelDef {
  const char* op;
  KernelFactory make;
};

const KernelDef* find_cuda_kernel(const std::string& op);  // nullptr when the op has no GPU kernel
const std::vector<KernelDef>& all_cuda_kernels();

// Small host helpers used by several kernels.
cudnnDataType_t cudnn_dtype(DType t, const std::string& where);  // throws kUnsupported for others
cudnnMathType_t cudnn_math(Fp32Math m);                           // kStrict -> CUDNN_FMA_MATH
// "" when every present input and output is float32, or every one is float16; else the reason.
std::string check_one_float_type(const Node& node, const Graph& g);

// ---------------------------------------------------------------------------------------------------------------
// Strided indexing for broadcasting/transposing kernels (device code; passed by value as a kernel argument).
// ---------------------------------------------------------------------------------------------------------------
constexpr int kMaxRank = 8;

// Maps a linear index over `dims` (C order) to an offset using per-axis `strides` (0 on broadcast axes).
struct StridedIndex {
  int rank = 0;
  int64_t dims[kMaxRank] = {};
  int64_t strides[kMaxRank] = {};
#ifdef __CUDACC__
  __host__ __device__ int64_t offset(int64_t linear) const {
    int64_t off = 0;
    for (int d = rank - 1; d >= 0; --d) {
      const int64_t i = linear % dims[d];
      linear /= dims[d];
      off += i * strides[d];
    }
    return off;
  }
#endif
};

// Strides of `in` read as if broadcast to `out` (numpy rules, right-aligned); throws kUnsupported past kMaxRank.
StridedIndex broadcast_index(const Shape& in, const Shape& out, const std::string& where);
// Contiguous C-order strides of `s` walked in `s`'s own order.
StridedIndex contiguous_index(const Shape& s, const std::string& where);

}  // namespace trtcore::cuda

// Defines ::make_cuda_<OpName>() for the table in kernel_table.cpp.
#define TRTCORE_CUDA_KERNEL_FACTORY(OpName, Class) \
  std::unique_ptr<::trtcore::cuda::CudaKernel> make_cuda_##OpName() { return std::make_unique<Class>(); }
