// TensorProto → trtcore::Tensor: payload from raw_data, the typed repeated fields or an external file.
#pragma once
#include <map>
#include <memory>
#include <string>

#include "onnx/mapped_file.h"
#include "onnx/onnx_model.h"
#include "trtcore/tensor.h"

namespace trtcore::onnx {

// External data files of one model, mapped once each and resolved relative to the model's directory.
class ExternalFiles {
 public:
  explicit ExternalFiles(std::string model_path);
  const std::string& model_path() const { return model_path_; }
  // Maps `location` (relative, no '..', no link out of the model's directory); throws kCorrupt for an unsafe path
  // and kIo naming both files if missing or not a regular file.
  const MappedFile& open(const std::string& location, const std::string& tensor_desc);

 private:
  std::string resolve_inside_model_dir(const std::string& location, const std::string& tensor_desc) const;
  std::string model_path_;
  std::string model_dir_;
  std::map<std::string, std::shared_ptr<MappedFile>> files_;
};

// Copies the tensor's payload once. `desc` names it in errors ("initializer 'fc.weight'"). Throws kUnsupported
// for element types trtcore cannot hold, kCorrupt when the payload does not match the dims.
Tensor to_tensor(const OnnxTensor& t, const std::string& desc, ExternalFiles& external);

}  // namespace trtcore::onnx
