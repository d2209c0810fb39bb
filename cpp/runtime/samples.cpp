#include "runtime/samples.h"

#include <cmath>
#include <cstring>
#include <filesystem>
#include <set>

#include "trtcore/error.h"
#include "trtcore/io.h"

namespace trtcore {

static void check_size(const std::string& path, size_t bytes, const SampleInput& in, size_t expected) {
  if (bytes != expected)
    fail(ErrorKind::kInvalidArgument, "sample file '", path, "' has ", bytes, " bytes; input '", in.name,
         "' of shape ", shape_str(in.shape), " (float32) needs exactly ", expected, " bytes");
}

// The names one input's files must match: every other input's sub-folder holds exactly these.
static void check_pairing(const std::string& dir, const SampleInput& first, const SampleInput& in,
                          const std::vector<std::string>& want, const std::vector<std::string>& got) {
  const std::set<std::string> have(got.begin(), got.end()), need(want.begin(), want.end());
  for (const std::string& f : want)
    if (!have.count(f))
      fail(ErrorKind::kInvalidArgument, "sample folder '", dir, "': input '", in.name, "' has no file '", f,
           "' (input '", first.name, "' has)");
  for (const std::string& f : got)
    if (!need.count(f))
      fail(ErrorKind::kInvalidArgument, "sample folder '", dir, "': input '", first.name, "' has no file '", f,
           "' (input '", in.name, "' has)");
}

SampleFolder::SampleFolder(const std::string& dir, std::vector<SampleInput> inputs)
    : dir_(dir), inputs_(std::move(inputs)) {
  if (inputs_.empty()) fail(ErrorKind::kInvalidArgument, "sample folder '", dir, "': the model has no inputs");
  for (size_t i = 0; inputs_.size() > 1 && i < inputs_.size(); ++i)
    if (!std::filesystem::is_directory(input_dir(i)))
      fail(ErrorKind::kInvalidArgument, "sample folder '", dir, "' has no sub-folder '", inputs_[i].name,
           "'; a model with several inputs reads one sub-folder per input, named after it");
  files_ = list_directory(input_dir(0));
  for (size_t i = 1; i < inputs_.size(); ++i)
    check_pairing(dir, inputs_[0], inputs_[i], files_, list_directory(input_dir(i)));
  for (size_t i = 0; i < inputs_.size(); ++i)
    for (size_t s = 0; s < files_.size(); ++s) {
      const std::string p = path(i, s);
      std::error_code ec;
      const auto bytes = std::filesystem::file_size(p, ec);
      if (ec) fail(ErrorKind::kIo, "cannot read sample file '", p, "': ", ec.message());
      check_size(p, size_t(bytes), inputs_[i], sample_floats(i) * sizeof(float));
    }
}

std::string SampleFolder::input_dir(size_t input) const {
  return inputs_.size() == 1 ? dir_ : path_join(dir_, inputs_[input].name);
}

std::string SampleFolder::path(size_t input, size_t sample) const {
  return path_join(input_dir(input), files_[sample]);
}

size_t SampleFolder::sample_floats(size_t input) const { return size_t(numel(inputs_[input].shape)); }

void SampleFolder::read(size_t first, size_t count, const std::vector<float*>& dst) const {
  if (dst.size() != inputs_.size() || first + count > files_.size())
    fail(ErrorKind::kInvalidArgument, "sample folder '", dir_, "': read of samples ", first, "..", first + count,
         " into ", dst.size(), " buffer(s); it holds ", files_.size(), " samples of ", inputs_.size(), " input(s)");
  for (size_t i = 0; i < inputs_.size(); ++i) {
    const size_t n = sample_floats(i);
    for (size_t k = 0; k < count; ++k) {
      const std::string p = path(i, first + k);
      const std::string bytes = read_file(p);
      check_size(p, bytes.size(), inputs_[i], n * sizeof(float));
      float* out = dst[i] + k * n;
      std::memcpy(out, bytes.data(), bytes.size());  // string storage carries no float alignment guarantee
      for (size_t e = 0; e < n; ++e)
        if (!std::isfinite(out[e]))
          fail(ErrorKind::kInvalidArgument, "sample file '", p, "' holds ", std::isnan(out[e]) ? "NaN" : "Inf",
               " at element ", e, "; inputs must be finite float32 values");
    }
  }
}

}  // namespace trtcore
