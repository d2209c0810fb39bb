// The int8 convolution of cutlass_conv.h as a CUTLASS 3.x Hopper implicit-GEMM kernel template: the activation
// tile loaded by TMA in im2col mode (taps outside the image filled with zeros by the copy engine), KRSC filters by
// ordinary TMA, wgmma on int8 with int32 accumulation, and the int8 GEMM's epilogue tree (int8_epilogue_sm90.cuh)
// over NHWC outputs. GEMM view: M = N*P*Q output pixels, N = K output channels, K = (C, S, R) in tiles of C.
// CUTLASS offers conv only on its non-persistent warp-specialized kernel (one producer and one consumer warp group).
// Each configuration is instantiated in a translation unit of its own (int8_conv_<config>.cu); int8_conv_sm90.cu
// lists them.
#pragma once
// cute and the epilogue first: CUTLASS's conv headers use cute without including it
#include "backends/cuda/cutlass/int8_epilogue_sm90.cuh"

#include <cutlass/conv/collective/collective_builder.hpp>
#include <cutlass/conv/convnd_problem_shape.hpp>
#include <cutlass/conv/device/conv_universal_adapter.hpp>
#include <cutlass/conv/dispatch_policy.hpp>
#include <cutlass/conv/kernel/conv_universal.hpp>

#include "backends/cuda/cutlass/int8_conv_configs.h"

namespace trtcore::cuda::cutlass_sm90 {

template <int TM, int TN, int TK, int CM, int CN>
struct ConvConfig {
  // K nested: its tiles split the channels of one filter tap, never two taps (what an im2col box can load)
  using Tile = Shape<Int<TM>, Int<TN>, Shape<Int<TK>>>;
  using Cluster = Shape<Int<CM>, Int<CN>, _1>;
  using Epilogue = QConvEpilogueOf<Tile, Cluster, cutlass::layout::TensorNHWC, cutlass::epilogue::TmaWarpSpecialized>;
  using Mainloop = typename cutlass::conv::collective::CollectiveBuilder<
      cutlass::arch::Sm90, cutlass::arch::OpClassTensorOp, cutlass::conv::Operator::kFprop, int8_t,
      cutlass::layout::TensorNHWC, kAlign, int8_t, cutlass::layout::TensorNHWC, kAlign, int32_t, Tile, Cluster,
      cutlass::conv::collective::StageCountAutoCarveout<static_cast<int>(sizeof(typename Epilogue::SharedStorage))>,
      cutlass::conv::KernelImplicitTmaWarpSpecializedSm90>::CollectiveOp;
  using Problem = cutlass::conv::ConvProblemShape<cutlass::conv::Operator::kFprop, 2>;
  using Kernel = cutlass::conv::kernel::ConvUniversal<Problem, Mainloop, Epilogue>;
  using Conv = cutlass::conv::device::ConvUniversalAdapter<Kernel>;
};

template <class Cfg>
typename Cfg::Problem problem_of(const CutlassInt8Conv& p) {
  using Problem = typename Cfg::Problem;
  return Problem(cutlass::conv::Mode::kCrossCorrelation, typename Problem::TensorExtent{p.n, p.h, p.w, p.c},
                 typename Problem::TensorExtent{p.k, p.r, p.s, p.c},
                 typename Problem::ShapePadding{p.pad_top, p.pad_left},
                 typename Problem::ShapePadding{p.pad_bottom, p.pad_right},
                 typename Problem::TraversalStride{p.stride_h, p.stride_w},
                 typename Problem::ShapeDilation{p.dilation_h, p.dilation_w}, 1);
}

template <class Cfg>
typename Cfg::Conv::Arguments conv_arguments_of(const CutlassInt8Conv& p) {
  using Kernel = typename Cfg::Kernel;
  const typename Cfg::Problem problem = problem_of<Cfg>(p);
  // C and D are NHWC of the output's size: their M mode is (Q, P, N), each with the problem's packed stride
  typename Kernel::StrideC dc{};
  cute::get<0, 0>(dc) = problem.stride_C[2];
  cute::get<0, 1>(dc) = problem.stride_C[1];
  cute::get<0, 2>(dc) = problem.stride_C[0];
  typename Kernel::StrideD dd{};
  cute::get<0, 0>(dd) = problem.stride_C[2];
  cute::get<0, 1>(dd) = problem.stride_C[1];
  cute::get<0, 2>(dd) = problem.stride_C[0];
  cutlass::KernelHardwareInfo hw;
  static_cast<void>(cudaGetDevice(&hw.device_id));
  hw.sm_count = p.sm_count;
  // without a residual C is never read (beta is 0), but its TMA descriptor is still made: y stands in for it
  const void* c = p.z ? p.z : p.y;
  return typename Cfg::Conv::Arguments{
      problem,
      {static_cast<const int8_t*>(p.x), static_cast<const int8_t*>(p.weights)},
      {qconv_tree_arguments<typename Cfg::Tile>(p.alpha, p.bias, p.beta, p.lower), static_cast<const int8_t*>(c), dc,
       static_cast<int8_t*>(p.y), dd},
      hw};
}

template <class Cfg>
size_t conv_workspace_of(const CutlassInt8Conv& p) {
  return Cfg::Conv::get_workspace_size(conv_arguments_of<Cfg>(p));
}

template <class Cfg>
std::string conv_prepare(const CutlassInt8Conv& p) {
  const typename Cfg::Conv::Arguments args = conv_arguments_of<Cfg>(p);
  // the output size CUTLASS derives (floor rounding, as ONNX's) must be the layer's
  if (args.problem_shape.shape_C[1] != p.p || args.problem_shape.shape_C[2] != p.q)
    return "the kernel's output size " + std::to_string(args.problem_shape.shape_C[1]) + "x" +
           std::to_string(args.problem_shape.shape_C[2]) + " differs from the layer's";
  const cutlass::Status s = Cfg::Conv::can_implement(args);
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
std::string conv_run(const CutlassInt8Conv& p, void* workspace, cudaStream_t stream) {
  using Conv = typename Cfg::Conv;
  const typename Conv::Arguments args = conv_arguments_of<Cfg>(p);
  cutlass::Status s = Cfg::Kernel::initialize_workspace(args, workspace, stream);  // none for this kernel
  if (s != cutlass::Status::kSuccess) return std::string("workspace set-up failed: ") + status_text(s);
  typename Conv::Params params = Cfg::Kernel::to_underlying_arguments(args, workspace);
  s = Conv::run(params, stream);
  if (s != cutlass::Status::kSuccess) return std::string("launch failed: ") + status_text(s);
  return "";
}

template <class Cfg>
CutlassConvEntry conv_entry(const char* name) {
  return CutlassConvEntry{name, &conv_workspace_of<Cfg>, &conv_prepare<Cfg>, &conv_run<Cfg>};
}

}  // namespace trtcore::cuda::cutlass_sm90
