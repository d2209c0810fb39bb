// The int8 GEMM of cutlass_gemm.h as a CUTLASS 3.x Hopper kernel template: TMA loads, wgmma on int8 with int32
// accumulation, a warp-specialized persistent kernel, and the QConv epilogue as an epilogue visitor tree. Each
// configuration is instantiated in a translation unit of its own (int8_gemm_<config>.cu, compiled for sm_90a only:
// cmake/cutlass.cmake), so they compile in parallel; int8_gemm_sm90.cu lists them.
#pragma once
#include <cutlass/gemm/collective/collective_builder.hpp>
#include <cutlass/gemm/device/gemm_universal_adapter.h>
#include <cutlass/gemm/kernel/gemm_universal.hpp>

#include "backends/cuda/cutlass/int8_epilogue_sm90.cuh"
#include "backends/cuda/cutlass/int8_gemm_configs.h"

namespace trtcore::cuda::cutlass_sm90 {

template <int TM, int TN, int TK, int CM, int CN, class KernelSchedule, class EpilogueSchedule>
struct Config {
  using Tile = Shape<Int<TM>, Int<TN>, Int<TK>>;
  using Cluster = Shape<Int<CM>, Int<CN>, _1>;
  using Epilogue = QConvEpilogueOf<Tile, Cluster, cutlass::layout::RowMajor, EpilogueSchedule>;
  using Mainloop = typename cutlass::gemm::collective::CollectiveBuilder<
      cutlass::arch::Sm90, cutlass::arch::OpClassTensorOp, int8_t, cutlass::layout::RowMajor, kAlign, int8_t,
      cutlass::layout::ColumnMajor, kAlign, int32_t, Tile, Cluster,
      cutlass::gemm::collective::StageCountAutoCarveout<static_cast<int>(sizeof(typename Epilogue::SharedStorage))>,
      KernelSchedule>::CollectiveOp;
  using Kernel = cutlass::gemm::kernel::GemmUniversal<Shape<int, int, int, int>, Mainloop, Epilogue>;
  using Gemm = cutlass::gemm::device::GemmUniversalAdapter<Kernel>;
};

template <class Cfg>
typename Cfg::Gemm::Arguments arguments_of(const CutlassInt8Gemm& p) {
  using Kernel = typename Cfg::Kernel;
  using Tree = QConvTree<typename Cfg::Tile>;
  const typename Kernel::StrideA da = cute::make_stride(p.k, _1{}, p.m * p.k);  // A [M, K] row-major
  const typename Kernel::StrideB db = cute::make_stride(p.k, _1{}, p.n * p.k);  // B [N, K] row-major
  const typename Kernel::StrideC dc = cute::make_stride(p.n, _1{}, p.m * p.n);  // C, D [M, N] row-major
  const typename Kernel::StrideD dd = cute::make_stride(p.n, _1{}, p.m * p.n);
  const typename Tree::Arguments tree = qconv_tree_arguments<typename Cfg::Tile>(p.alpha, p.bias, p.beta, p.lower);
  cutlass::KernelHardwareInfo hw;
  static_cast<void>(cudaGetDevice(&hw.device_id));
  hw.sm_count = p.sm_count;
  // without a residual C is never read (beta is 0), but its TMA descriptor is still made: D stands in for it
  const void* c = p.c ? p.c : p.d;
  return typename Cfg::Gemm::Arguments{
      cutlass::gemm::GemmUniversalMode::kGemm,
      {int(p.m), int(p.n), int(p.k), 1},
      {static_cast<const int8_t*>(p.a), da, static_cast<const int8_t*>(p.b), db},
      {tree, static_cast<const int8_t*>(c), dc, static_cast<int8_t*>(p.d), dd},
      hw};
}

template <class Cfg>
size_t workspace_of(const CutlassInt8Gemm& p) {
  return Cfg::Gemm::get_workspace_size(arguments_of<Cfg>(p));
}

template <class Cfg>
std::string prepare(const CutlassInt8Gemm& p) {
  using Gemm = typename Cfg::Gemm;
  const cutlass::Status s = Gemm::can_implement(arguments_of<Cfg>(p));
  if (s != cutlass::Status::kSuccess) return std::string("the kernel does not take this problem: ") + status_text(s);
  const int smem = int(Cfg::Kernel::SharedStorageSize);
  const cudaError_t e = cudaFuncSetAttribute(cutlass::device_kernel<typename Cfg::Kernel>,
                                             cudaFuncAttributeMaxDynamicSharedMemorySize, smem);
  if (e != cudaSuccess) {
    static_cast<void>(cudaGetLastError());
    return std::string("shared memory of ") + std::to_string(smem) + " bytes refused: " + cudaGetErrorString(e);
  }
  return "";
}

template <class Cfg>
std::string run(const CutlassInt8Gemm& p, void* workspace, cudaStream_t stream) {
  using Gemm = typename Cfg::Gemm;
  const typename Gemm::Arguments args = arguments_of<Cfg>(p);
  cutlass::Status s = Cfg::Kernel::initialize_workspace(args, workspace, stream);  // none for these schedulers
  if (s != cutlass::Status::kSuccess) return std::string("workspace set-up failed: ") + status_text(s);
  typename Gemm::Params params = Cfg::Kernel::to_underlying_arguments(args, workspace);
  s = Gemm::run(params, stream);
  if (s != cutlass::Status::kSuccess) return std::string("launch failed: ") + status_text(s);
  return "";
}

using Cooperative = cutlass::gemm::KernelTmaWarpSpecializedCooperative;
using CooperativeEpilogue = cutlass::epilogue::TmaWarpSpecializedCooperative;
using Pingpong = cutlass::gemm::KernelTmaWarpSpecializedPingpong;
using PingpongEpilogue = cutlass::epilogue::TmaWarpSpecialized;

template <class Cfg>
CutlassInt8Entry entry(const char* name) {
  return CutlassInt8Entry{name, &workspace_of<Cfg>, &prepare<Cfg>, &run<Cfg>};
}

}  // namespace trtcore::cuda::cutlass_sm90
