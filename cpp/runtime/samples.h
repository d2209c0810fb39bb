// Raw float32 sample folders, the format of `--dir` and of calibration data: one sample per file, the bytes of
// ndarray.tobytes() for the input's shape without the batch axis. A model with several inputs reads a folder with
// one sub-folder per input name, whose files pair up by file name.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

#include "trtcore/dtype.h"

namespace trtcore {

struct SampleInput {
  std::string name;
  Shape shape;  // one sample: the input's shape without the batch axis
};

class SampleFolder {
 public:
  // Lists the sorted regular files and checks that they pair up and have the byte size of one float32 sample
  // (errors name the file, its size and the expected count); values are checked when read. An empty folder is
  // not an error here: callers decide whether they need samples.
  SampleFolder(const std::string& dir, std::vector<SampleInput> inputs);

  size_t size() const { return files_.size(); }
  // The samples' file names, sorted; with several inputs, the names every input's sub-folder holds.
  const std::vector<std::string>& files() const { return files_; }
  const std::vector<SampleInput>& inputs() const { return inputs_; }
  std::string path(size_t input, size_t sample) const;
  size_t sample_floats(size_t input) const;

  // Reads samples [first, first + count) into dst[i] (count * sample_floats(i) floats each), in input order;
  // a non-finite value is an error naming the file and the element.
  void read(size_t first, size_t count, const std::vector<float*>& dst) const;

 private:
  std::string input_dir(size_t input) const;
  std::string dir_;
  std::vector<SampleInput> inputs_;
  std::vector<std::string> files_;
};

}  // namespace trtcore
