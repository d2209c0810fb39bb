// A read-only memory-mapped file: the model's bytes are read in place, so weights are copied only once.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace trtcore::onnx {

class MappedFile {
 public:
  // Throws kIo naming `path` when it cannot be opened or read.
  explicit MappedFile(const std::string& path);
  // Wraps bytes already in memory (tests, small buffers).
  explicit MappedFile(std::vector<uint8_t> bytes);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  void* mapping_ = nullptr;     // non-null when mmap'ed
  std::vector<uint8_t> owned_;  // used when the file is empty or mmap is unavailable
};

}  // namespace trtcore::onnx
