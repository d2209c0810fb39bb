// LtGemm: the row-major problem is solved as its column-major transpose, D^T = op(B)^T * op(A)^T, so cuBLASLt's
// "A" is our B and its rows are our n (the bias epilogue then adds bias[n] along our rows).
#include "backends/cuda/lt_gemm.h"

#include <algorithm>

namespace trtcore::cuda {
namespace {

constexpr int kCandidates = 8;

void set_layout_batch(const std::string& where, cublasLtMatrixLayout_t l, const GemmShape& s, int64_t stride) {
  const int32_t count = int32_t(s.batch);
  TRTCORE_CUBLAS_CHECK(where, cublasLtMatrixLayoutSetAttribute(l, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, &count,
                                                               sizeof(count)));
  TRTCORE_CUBLAS_CHECK(where, cublasLtMatrixLayoutSetAttribute(l, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET,
                                                               &stride, sizeof(stride)));
}

}  // namespace

LtGemm::~LtGemm() {
  for (auto& [shape, p] : plans_) {
    if (p.a) static_cast<void>(cublasLtMatrixLayoutDestroy(p.a));
    if (p.b) static_cast<void>(cublasLtMatrixLayoutDestroy(p.b));
    if (p.d) static_cast<void>(cublasLtMatrixLayoutDestroy(p.d));
  }
  if (pref_) static_cast<void>(cublasLtMatmulPreferenceDestroy(pref_));
  if (desc_) static_cast<void>(cublasLtMatmulDescDestroy(desc_));
}

void LtGemm::configure(const std::string& where, Transpose ta, Transpose tb, GemmEpilogue ep, Fp32Math math,
                       GemmData data) {
  where_ = where;
  ta_ = ta;
  tb_ = tb;
  ep_ = ep;
  data_ = data;
  type_ = data == GemmData::kFloat16 ? CUDA_R_16F : data == GemmData::kInt8 ? CUDA_R_8I : CUDA_R_32F;
  // Float16 data runs on tensor cores with FP32 accumulation under plain COMPUTE_32F.
  const cublasComputeType_t compute = data == GemmData::kInt8 ? CUBLAS_COMPUTE_32I
                                      : math == Fp32Math::kStrict || data == GemmData::kFloat16
                                          ? CUBLAS_COMPUTE_32F
                                          : CUBLAS_COMPUTE_32F_FAST_TF32;
  TRTCORE_CUBLAS_CHECK(where_, cublasLtMatmulDescCreate(&desc_, compute, CUDA_R_32F));
  if (data == GemmData::kInt8) {
    // Tensor-core int8 kernels take cuBLASLt's A transposed ("TN"): our B transposed, our A as stored.
    if (ta != Transpose::kNo || tb != Transpose::kYes)
      fail(ErrorKind::kUnsupported, where_, ": int8 GEMMs need A as stored and B transposed");
    const cublasLtPointerMode_t mode = CUBLASLT_POINTER_MODE_ALPHA_DEVICE_VECTOR_BETA_HOST;
    TRTCORE_CUBLAS_CHECK(where_, cublasLtMatmulDescSetAttribute(desc_, CUBLASLT_MATMUL_DESC_POINTER_MODE, &mode,
                                                                sizeof(mode)));
    const cudaDataType_t bias_type = CUDA_R_32F;
    TRTCORE_CUBLAS_CHECK(where_, cublasLtMatmulDescSetAttribute(desc_, CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE,
                                                                &bias_type, sizeof(bias_type)));
  }
  // cuBLASLt's A is our B and vice versa.
  const cublasOperation_t op_a = tb_ == Transpose::kYes ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t op_b = ta_ == Transpose::kYes ? CUBLAS_OP_T : CUBLAS_OP_N;
  TRTCORE_CUBLAS_CHECK(where_, cublasLtMatmulDescSetAttribute(desc_, CUBLASLT_MATMUL_DESC_TRANSA, &op_a, sizeof(op_a)));
  TRTCORE_CUBLAS_CHECK(where_, cublasLtMatmulDescSetAttribute(desc_, CUBLASLT_MATMUL_DESC_TRANSB, &op_b, sizeof(op_b)));
  cublasLtEpilogue_t e = CUBLASLT_EPILOGUE_DEFAULT;
  switch (ep_) {
    case GemmEpilogue::kNone: e = CUBLASLT_EPILOGUE_DEFAULT; break;
    case GemmEpilogue::kBias: e = CUBLASLT_EPILOGUE_BIAS; break;
    case GemmEpilogue::kRelu: e = CUBLASLT_EPILOGUE_RELU; break;
    case GemmEpilogue::kBiasRelu: e = CUBLASLT_EPILOGUE_RELU_BIAS; break;
  }
  TRTCORE_CUBLAS_CHECK(where_, cublasLtMatmulDescSetAttribute(desc_, CUBLASLT_MATMUL_DESC_EPILOGUE, &e, sizeof(e)));
  TRTCORE_CUBLAS_CHECK(where_, cublasLtMatmulPreferenceCreate(&pref_));
  const uint64_t ws = kWorkspaceBytes;
  TRTCORE_CUBLAS_CHECK(where_, cublasLtMatmulPreferenceSetAttribute(pref_, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES,
                                                                    &ws, sizeof(ws)));
}

LtGemm::Plan& LtGemm::plan_for(cublasLtHandle_t h, const GemmShape& s) {
  auto it = plans_.find(s);
  if (it != plans_.end()) return it->second;
  Plan p;
  // Stored (pre-op) column-major dims of cuBLASLt's A (our B), B (our A) and D (our D transposed).
  const uint64_t a_rows = uint64_t(tb_ == Transpose::kYes ? s.k : s.n);
  const uint64_t a_cols = uint64_t(tb_ == Transpose::kYes ? s.n : s.k);
  const uint64_t b_rows = uint64_t(ta_ == Transpose::kYes ? s.m : s.k);
  const uint64_t b_cols = uint64_t(ta_ == Transpose::kYes ? s.k : s.m);
  TRTCORE_CUBLAS_CHECK(where_, cublasLtMatrixLayoutCreate(&p.a, type_, a_rows, a_cols, int64_t(a_rows)));
  TRTCORE_CUBLAS_CHECK(where_, cublasLtMatrixLayoutCreate(&p.b, type_, b_rows, b_cols, int64_t(b_rows)));
  TRTCORE_CUBLAS_CHECK(where_, cublasLtMatrixLayoutCreate(&p.d, type_, uint64_t(s.n), uint64_t(s.m), s.n));
  if (s.batch > 1) {
    set_layout_batch(where_, p.a, s, s.stride_b);
    set_layout_batch(where_, p.b, s, s.stride_a);
    set_layout_batch(where_, p.d, s, s.stride_d);
  }
  p.algos.resize(kCandidates);
  int returned = 0;
  TRTCORE_CUBLAS_CHECK(where_, cublasLtMatmulAlgoGetHeuristic(h, desc_, p.a, p.b, p.d, p.d, pref_, kCandidates,
                                                              p.algos.data(), &returned));
  p.algos.resize(size_t(returned));
  if (p.algos.empty())
    fail(ErrorKind::kRuntime, where_, ": cuBLASLt found no algorithm for ", s.m, "x", s.n, "x", s.k, " (batch ",
         s.batch, ")");
  return plans_.emplace(s, p).first->second;
}

void LtGemm::tune(cublasLtHandle_t h, cudaStream_t stream, const GemmShape& max_shape, const GemmArgs& args) {
  max_shape_ = max_shape;
  Plan& p = plan_for(h, max_shape);
  DeviceBuffer ws(kWorkspaceBytes, where_ + " (tuning workspace)");
  gpu::Event start(where_), stop(where_);
  float best = -1.f;
  for (size_t i = 0; i < p.algos.size(); ++i) {
    p.pick = int(i);
    run(h, stream, max_shape, args, ws.get(), ws.bytes());  // warm-up
    TRTCORE_CUDA_CHECK(where_, cudaEventRecord(start.get(), stream));
    for (int r = 0; r < 5; ++r) run(h, stream, max_shape, args, ws.get(), ws.bytes());
    TRTCORE_CUDA_CHECK(where_, cudaEventRecord(stop.get(), stream));
    TRTCORE_CUDA_CHECK(where_, cudaEventSynchronize(stop.get()));
    const float ms = gpu::elapsed_ms(start, stop, where_);
    if (best < 0.f || ms < best) {
      best = ms;
      chosen_ = int(i);
    }
  }
  p.pick = chosen_;
}

void LtGemm::reuse(cublasLtHandle_t h, const GemmShape& max_shape, const std::string& tactic) {
  max_shape_ = max_shape;
  Plan& p = plan_for(h, max_shape);
  int idx = 0;
  if (tactic.size() > 1 && tactic[0] == 'h') {
    try {
      idx = std::stoi(tactic.substr(1));
    } catch (const std::exception&) {
      idx = 0;
    }
  }
  chosen_ = (idx >= 0 && size_t(idx) < p.algos.size()) ? idx : 0;
  p.pick = chosen_;
}

void LtGemm::run(cublasLtHandle_t h, cudaStream_t stream, const GemmShape& shape, const GemmArgs& args,
                 void* workspace, size_t workspace_bytes) {
  Plan& p = plan_for(h, shape);
  if (ep_ == GemmEpilogue::kBias || ep_ == GemmEpilogue::kBiasRelu) {
    const void* bias = args.bias;
    TRTCORE_CUBLAS_CHECK(where_, cublasLtMatmulDescSetAttribute(desc_, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias,
                                                                sizeof(bias)));
  }
  const cublasLtMatmulHeuristicResult_t& r = p.algos[size_t(std::min<int>(p.pick, int(p.algos.size()) - 1))];
  if (r.workspaceSize > workspace_bytes)
    fail(ErrorKind::kRuntime, where_, ": cuBLASLt algorithm needs ", r.workspaceSize, " bytes of workspace, ",
         workspace_bytes, " available");
  const void* c = args.c ? args.c : args.d;
  const void* alpha = data_ == GemmData::kInt8 ? static_cast<const void*>(args.alpha_vector) : &args.alpha;
  if (data_ == GemmData::kInt8 && !alpha) fail(ErrorKind::kRuntime, where_, ": int8 GEMM without its alpha vector");
  TRTCORE_CUBLAS_CHECK(where_, cublasLtMatmul(h, desc_, alpha, args.b, p.a, args.a, p.b, &args.beta, c, p.d,
                                              args.d, p.d, &r.algo, workspace, workspace_bytes, stream));
}

}  // namespace trtcore::cuda
