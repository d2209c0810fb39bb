// Shared host helpers of the cuda backend: device buffers, uploads, dtype/math mapping, index maps.
#include "backends/cuda/cuda_kernel.h"

namespace trtcore::cuda {

DeviceBuffer::DeviceBuffer(size_t bytes, const std::string& where) : bytes_(bytes) {
  if (bytes == 0) return;
  TRTCORE_CUDA_CHECK(where, cudaMalloc(&ptr_, bytes));
}

void DeviceBuffer::reset() {
  if (ptr_) static_cast<void>(cudaFree(ptr_));  // destructor path: a failed free has nobody to report to
  ptr_ = nullptr;
  bytes_ = 0;
}

DeviceBuffer upload(const void* host, size_t bytes, const std::string& where) {
  DeviceBuffer b(bytes, where);
  if (bytes) TRTCORE_CUDA_CHECK(where, cudaMemcpy(b.get(), host, bytes, cudaMemcpyHostToDevice));
  return b;
}

DeviceBuffer upload_floats(const std::vector<float>& host, const std::string& where) {
  return upload(host.data(), host.size() * sizeof(float), where);
}

std::string check_one_float_type(const Node& node, const Graph& g) {
  const DType t = g.value(node.inputs.at(0)).dtype;
  if (t != DType::kFloat32 && t != DType::kFloat16) return std::string("input dtype ") + dtype_name(t);
  for (const std::vector<int>* ids : {&node.inputs, &node.outputs})
    for (int id : *ids)
      if (id >= 0 && g.value(id).dtype != t)
        return "value '" + g.value(id).name + "' is " + dtype_name(g.value(id).dtype) + " but the input is " +
               dtype_name(t);
  return "";
}

cudnnDataType_t cudnn_dtype(DType t, const std::string& where) {
  switch (t) {
    case DType::kFloat32: return CUDNN_DATA_FLOAT;
    case DType::kFloat16: return CUDNN_DATA_HALF;
    case DType::kInt8: return CUDNN_DATA_INT8;
    case DType::kInt32: return CUDNN_DATA_INT32;
    default: break;
  }
  fail(ErrorKind::kUnsupported, where, ": dtype ", dtype_name(t), " has no cuDNN equivalent");
}

cudnnMathType_t cudnn_math(Fp32Math m) {
  return m == Fp32Math::kStrict ? CUDNN_FMA_MATH : CUDNN_DEFAULT_MATH;
}

StridedIndex broadcast_index(const Shape& in, const Shape& out, const std::string& where) {
  if (out.size() > size_t(kMaxRank))
    fail(ErrorKind::kUnsupported, where, ": rank ", out.size(), " exceeds the cuda backend's limit of ", kMaxRank);
  if (in.size() > out.size())
    fail(ErrorKind::kRuntime, where, ": cannot broadcast ", shape_str(in), " to ", shape_str(out));
  StridedIndex ix;
  ix.rank = int(out.size());
  const size_t lead = out.size() - in.size();
  int64_t stride = 1;
  for (int d = ix.rank - 1; d >= 0; --d) {
    ix.dims[d] = out[size_t(d)];
    if (size_t(d) < lead) {
      ix.strides[d] = 0;
      continue;
    }
    const int64_t n = in[size_t(d) - lead];
    if (n != 1 && n != out[size_t(d)])
      fail(ErrorKind::kRuntime, where, ": cannot broadcast ", shape_str(in), " to ", shape_str(out));
    ix.strides[d] = n == 1 ? 0 : stride;
    stride *= n;
  }
  return ix;
}

StridedIndex contiguous_index(const Shape& s, const std::string& where) { return broadcast_index(s, s, where); }

}  // namespace trtcore::cuda

namespace trtcore::cuda {

std::string CudaKernel::check(const Node& node, const Graph& g) const {
  for (const std::vector<int>* ids : {&node.inputs, &node.outputs})
    for (int id : *ids)
      if (id >= 0 && g.value(id).dtype != DType::kFloat32)
        return std::string("value '") + g.value(id).name + "' is " + dtype_name(g.value(id).dtype) +
               "; this cuda kernel runs float32 only";
  return "";
}

}  // namespace trtcore::cuda
