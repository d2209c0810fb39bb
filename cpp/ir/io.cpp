// File helpers: whole-file reads, atomic writes (temp file + fsync + rename), sorted directory listings.
#include "trtcore/io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "trtcore/error.h"

namespace trtcore {

namespace fs = std::filesystem;

static std::string os_error() { return std::strerror(errno); }

std::string read_file(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) fail(ErrorKind::kIo, "cannot open '", path, "': ", os_error());
  if (S_ISDIR(st.st_mode)) fail(ErrorKind::kIo, "cannot read '", path, "': it is a directory, expected a file");
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail(ErrorKind::kIo, "cannot open '", path, "': ", os_error());
  std::string bytes;
  if (S_ISREG(st.st_mode) && st.st_size > 0) bytes.reserve(size_t(st.st_size));
  char buf[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      const std::string why = os_error();
      ::close(fd);
      fail(ErrorKind::kIo, "cannot read '", path, "': ", why);
    }
    bytes.append(buf, size_t(n));
  }
  ::close(fd);
  return bytes;
}

void write_file_atomic(const std::string& path, const std::string& bytes) {
  write_file_atomic(path, bytes.data(), bytes.size());
}

void write_file_atomic(const std::string& path, const void* data, size_t size) {
  // The temp file sits beside the target so the final rename never crosses a filesystem.
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail(ErrorKind::kIo, "cannot write '", path, "': ", os_error());
  auto abandon = [&](const char* what) {
    const std::string why = os_error();
    ::close(fd);
    ::unlink(tmp.c_str());
    fail(ErrorKind::kIo, "cannot write '", path, "' (", what, "): ", why);
  };
  const char* p = static_cast<const char*>(data);
  size_t left = size;
  while (left > 0) {
    const ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      abandon("write");
    }
    p += n;
    left -= size_t(n);
  }
  if (::fsync(fd) != 0) abandon("fsync");
  if (::close(fd) != 0) {
    const std::string why = os_error();
    ::unlink(tmp.c_str());
    fail(ErrorKind::kIo, "cannot write '", path, "' (close): ", why);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = os_error();
    ::unlink(tmp.c_str());
    fail(ErrorKind::kIo, "cannot write '", path, "' (rename): ", why);
  }
}

std::vector<std::string> list_directory(const std::string& dir) {
  std::error_code ec;
  const fs::file_status st = fs::status(dir, ec);
  if (ec || !fs::exists(st)) fail(ErrorKind::kIo, "directory '", dir, "' does not exist");
  if (!fs::is_directory(st)) fail(ErrorKind::kIo, "'", dir, "' is not a directory");
  std::vector<std::string> names;
  fs::directory_iterator it(dir, ec), end;
  if (ec) fail(ErrorKind::kIo, "cannot list directory '", dir, "': ", ec.message());
  for (; it != end; it.increment(ec)) {
    if (ec) fail(ErrorKind::kIo, "cannot list directory '", dir, "': ", ec.message());
    const std::string name = it->path().filename().string();
    if (name.empty() || name[0] == '.') continue;  // hidden files (.DS_Store, editor swap files)
    std::error_code fec;
    if (!it->is_regular_file(fec) || fec) continue;
    names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

void make_directories(const std::string& dir) {
  if (dir.empty()) fail(ErrorKind::kIo, "cannot create a directory with an empty name");
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) fail(ErrorKind::kIo, "cannot create directory '", dir, "': ", ec.message());
  if (!fs::is_directory(dir, ec)) fail(ErrorKind::kIo, "'", dir, "' exists and is not a directory");
  if (::access(dir.c_str(), W_OK | X_OK) != 0) fail(ErrorKind::kIo, "directory '", dir, "' is not writable");
}

std::string path_join(const std::string& a, const std::string& b) {
  if (a.empty() || (!b.empty() && b[0] == '/')) return b;
  if (b.empty()) return a;
  return a.back() == '/' ? a + b : a + "/" + b;
}

std::string file_name(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace trtcore
