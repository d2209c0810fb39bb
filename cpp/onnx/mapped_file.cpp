#include "onnx/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "trtcore/error.h"

namespace trtcore::onnx {

MappedFile::MappedFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail(ErrorKind::kIo, "cannot open '", path, "': ", std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    fail(ErrorKind::kIo, "'", path, "' is not a readable regular file");
  }
  size_ = size_t(st.st_size);
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
