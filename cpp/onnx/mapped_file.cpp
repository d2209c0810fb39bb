#include "onnx/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "trtcore/error.h"
#include "trtcore/io.h"

namespace trtcore::onnx {

MappedFile::MappedFile(const std::string& path) {
  const int fd = open_regular_file(path, &size_);
  if (size_ > 0) {
    void* m = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (m != MAP_FAILED) {
      mapping_ = m;
      data_ = static_cast<const uint8_t*>(m);
    } else {  // some filesystems cannot map: read instead
      owned_.resize(size_);
      size_t done = 0;
      while (done < size_) {
        const ssize_t n = ::pread(fd, owned_.data() + done, size_ - done, off_t(done));
        if (n <= 0) {
          ::close(fd);
          fail(ErrorKind::kIo, "cannot read '", path, "'");
        }
        done += size_t(n);
      }
      data_ = owned_.data();
    }
  }
  ::close(fd);
}

MappedFile::MappedFile(std::vector<uint8_t> bytes) : owned_(std::move(bytes)) {
  data_ = owned_.data();
  size_ = owned_.size();
}

MappedFile::~MappedFile() {
  if (mapping_) ::munmap(mapping_, size_);
}

}  // namespace trtcore::onnx
