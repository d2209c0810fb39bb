// Protobuf field numbers of the ONNX messages trtcore reads and writes (onnx.proto). The reader (onnx_model.cpp)
// and the writer (onnx_writer.cpp) both name fields through this one table.
#pragma once
#include <cstdint>

namespace trtcore::onnx::field {

namespace model {  // ModelProto
constexpr uint32_t kIrVersion = 1, kProducerName = 2, kGraph = 7, kOpsetImport = 8;
}

namespace opset {  // OperatorSetIdProto
constexpr uint32_t kDomain = 1, kVersion = 2;
}

namespace entry {  // StringStringEntryProto
constexpr uint32_t kKey = 1, kValue = 2;
}

namespace graph {  // GraphProto
constexpr uint32_t kNode = 1, kName = 2, kInitializer = 5, kInput = 11, kOutput = 12, kSparseInitializer = 15;
}

namespace sparse_tensor {  // SparseTensorProto
constexpr uint32_t kValues = 1;
}

namespace node {  // NodeProto
constexpr uint32_t kInput = 1, kOutput = 2, kName = 3, kOpType = 4, kAttribute = 5, kDomain = 7;
}

namespace attribute {  // AttributeProto
constexpr uint32_t kName = 1, kF = 2, kI = 3, kS = 4, kT = 5, kG = 6, kFloats = 7, kInts = 8, kStrings = 9,
                   kTensors = 10, kGraphs = 11, kTp = 14, kTypeProtos = 15, kType = 20, kSparseTensor = 22,
                   kSparseTensors = 23;
}

namespace tensor {  // TensorProto
constexpr uint32_t kDims = 1, kDataType = 2, kSegment = 3, kFloatData = 4, kInt32Data = 5, kStringData = 6,
                   kInt64Data = 7, kName = 8, kRawData = 9, kDoubleData = 10, kUint64Data = 11,
                   kExternalData = 13, kDataLocation = 14;
}

namespace value_info {  // ValueInfoProto
constexpr uint32_t kName = 1, kType = 2;
}

namespace type {  // TypeProto
constexpr uint32_t kTensorType = 1;
}

namespace tensor_type {  // TypeProto.Tensor
constexpr uint32_t kElemType = 1, kShape = 2;
}

namespace shape {  // TensorShapeProto
constexpr uint32_t kDim = 1;
}

namespace dim {  // TensorShapeProto.Dimension
constexpr uint32_t kValue = 1, kParam = 2;
}

}  // namespace trtcore::onnx::field
