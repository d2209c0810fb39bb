// The QConv epilogue as a CUTLASS 3.x Hopper epilogue visitor tree, shared by the int8 GEMM (int8_gemm_sm90.cuh)
// and the int8 implicit-GEMM convolution (int8_conv_sm90.cuh): per output channel alpha and bias, an optional int8
// residual weighted by a scalar beta, a ReLU clamp, and int8 out by round-to-nearest-even saturation.
#pragma once
#include <cute/tensor.hpp>
#include <cutlass/cutlass.h>
#include <cutlass/epilogue/collective/collective_builder.hpp>
#include <cutlass/epilogue/thread/activation.h>

#include <limits>

namespace trtcore::cuda::cutlass_sm90 {

namespace fusion = cutlass::epilogue::fusion;
using cute::_0;
using cute::_1;
using cute::Int;
using cute::Shape;
using cute::Stride;

constexpr auto kNearest = cutlass::FloatRoundStyle::round_to_nearest;
using PerChannel = Stride<_0, _1, int64_t>;  // a vector over N, the same for every row m

// clamp(beta * C + (alpha[n] * acc + bias[n]), lower, +max), converted to int8 by cvt.rni.sat (round to nearest
// even, saturate): the requantization run_lt's cuBLASLt epilogue computes. The scalar beta lets the kernel skip
// reading C when it is 0.
template <class Tile>
using QConvTree = fusion::Sm90EVT<
    fusion::Sm90Compute<cutlass::epilogue::thread::Clamp, int8_t, float, kNearest>,
    fusion::Sm90EVT<fusion::Sm90Compute<cutlass::homogeneous_multiply_add, float, float, kNearest>,
                    fusion::Sm90ScalarBroadcast<float>,  // beta
                    fusion::Sm90SrcFetch<int8_t>,        // C, the residual
                    fusion::Sm90EVT<fusion::Sm90Compute<cutlass::homogeneous_multiply_add, float, float, kNearest>,
                                    fusion::Sm90RowBroadcast<0, Tile, float, float, PerChannel>,  // alpha
                                    fusion::Sm90AccFetch,
                                    fusion::Sm90RowBroadcast<0, Tile, float, float, PerChannel>>>>;  // bias

constexpr int kAlign = 16;  // int8 elements in 16 bytes: what TMA needs of every row

// The epilogue collective over int8 C and D of layout `LayoutTag` (RowMajor for the GEMM, TensorNHWC for the
// convolution), int32 accumulators, float arithmetic.
template <class Tile, class Cluster, class LayoutTag, class EpilogueSchedule>
using QConvEpilogueOf = typename cutlass::epilogue::collective::CollectiveBuilder<
    cutlass::arch::Sm90, cutlass::arch::OpClassTensorOp, Tile, Cluster,
    cutlass::epilogue::collective::EpilogueTileAuto, int32_t, float, int8_t, LayoutTag, kAlign, int8_t, LayoutTag,
    kAlign, EpilogueSchedule, QConvTree<Tile>>::CollectiveOp;

// The tree's arguments: alpha and bias device vectors of N, beta a scalar (0: C is not read), `lower` the clamp's
// lower bound (0 for a ReLU, -max for none).
template <class Tile>
typename QConvTree<Tile>::Arguments qconv_tree_arguments(const float* alpha, const float* bias, float beta,
                                                         float lower) {
  return typename QConvTree<Tile>::Arguments{
      {                                                 // beta * C + (alpha * acc + bias)
       {{beta}},                                        //   beta
       {},                                              //   C
       {{alpha, 0.f, {}}, {}, {bias, 0.f, {}}, {}},     //   alpha * acc + bias
       {}},
      {lower, std::numeric_limits<float>::max()}};     // the clamp's bounds
}

inline const char* status_text(cutlass::Status s) { return cutlass::cutlassGetStatusString(s); }

}  // namespace trtcore::cuda::cutlass_sm90
