// Python access to the one reader of raw sample folders (runtime/samples.h), so Python helpers apply the same checks.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "runtime/samples.h"
#include "trtcore/error.h"

namespace py = pybind11;

void bind_samples(py::module_& m) {
  m.def(
      "read_sample_folder",
      [](const std::string& dir, const std::vector<std::pair<std::string, trtcore::Shape>>& inputs) {
        std::vector<trtcore::SampleInput> in;
        for (const auto& [name, shape] : inputs) in.push_back({name, shape});
        const trtcore::SampleFolder folder(dir, in);
        if (folder.size() == 0)
          trtcore::fail(trtcore::ErrorKind::kIo, "sample folder '", dir, "' holds no samples");
        std::vector<py::array_t<float>> arrays;
        std::vector<float*> dst;
        for (const auto& [name, shape] : inputs) {
          std::vector<py::ssize_t> dims{py::ssize_t(folder.size())};
          for (int64_t d : shape) dims.push_back(py::ssize_t(d));
          arrays.emplace_back(dims);
          dst.push_back(arrays.back().mutable_data());
        }
        {
          py::gil_scoped_release release;
          folder.read(0, folder.size(), dst);
        }
        py::dict out;
        for (size_t i = 0; i < inputs.size(); ++i) out[py::str(inputs[i].first)] = arrays[i];
        return py::make_tuple(folder.files(), out);
      },
      py::arg("dir"), py::arg("inputs"),
      "(sorted file names, {input name: N x shape float32 array}) of a raw sample folder: one file per sample, or one "
      "sub-folder per input for several inputs; wrong sizes and non-finite values are errors naming the file.");
}
