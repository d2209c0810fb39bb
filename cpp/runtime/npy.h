// NumPy's .npy and .npz files (what numpy.save / numpy.savez write), read as float32 arrays: calibration data given as
// one file instead of a folder of raw samples.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "trtcore/dtype.h"

namespace trtcore {

struct NpyArray {
  Shape shape;
  std::vector<float> data;  // C order, converted from the file's float32/float64/int/uint8 elements
};

// Parses .npy bytes; errors name `file` and what was expected.
NpyArray parse_npy(const std::string& bytes, const std::string& file);
// Reads a .npy file, or every array of an uncompressed .npz (numpy.savez) keyed by its name without ".npy".
std::map<std::string, NpyArray> read_arrays(const std::string& path);

}  // namespace trtcore
