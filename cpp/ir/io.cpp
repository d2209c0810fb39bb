// File helpers: whole-file reads, atomic writes (temp file + fsync + rename), sorted directory listings.
#include "trtcore/io.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <system_error>

#include "trtcore/error.h"

namespace trtcore {

namespace fs = std::filesystem;

static std::string os_error() { return std::strerror(errno); }

static const char* file_kind(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode) || S_ISBLK(mode)) return "a device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a plain file";
}

int open_regular_file(const std::string& path, size_t* size) {
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) fail(ErrorKind::kIo, "cannot open '", path, "': ", os_error());
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    const mode_t mode = st.st_mode;
    ::close(fd);
    fail(ErrorKind::kIo, "cannot read '", path, "': it is not a regular file (", file_kind(mode), ")");
  }
  *size = size_t(st.st_size);
  return fd;
}

std::string read_file(const std::string& path) {
  size_t size = 0;
  const int fd = open_regular_file(path, &size);
  // At most the size the file had when opened: a file that keeps growing cannot exhaust memory.
  std::string bytes(size, '\0');
  size_t done = 0;
  while (done < size) {
    const ssize_t n = ::read(fd, &bytes[done], size - done);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      const std::string why = os_error();
      ::close(fd);
      fail(ErrorKind::kIo, "cannot read '", path, "': ", why);
    }
    done += size_t(n);
  }
  ::close(fd);
  bytes.resize(done);
  return bytes;
}

static std::string parent_dir(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? "." : path.substr(0, slash == 0 ? 1 : slash);
}

// "<name>.tmp.<pid>" names in `dir` whose process is gone: leftovers of writers that were killed.
static std::vector<std::string> dead_temporaries(const std::string& dir) {
  std::vector<std::string> found;
  std::error_code ec;
  fs::directory_iterator it(dir, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    const size_t tag = name.rfind(".tmp.");
    if (tag == std::string::npos || tag == 0) continue;
    const std::string digits = name.substr(tag + 5);
    if (digits.empty() || digits.size() > 9 || digits.find_first_not_of("0123456789") != std::string::npos) continue;
    const pid_t pid = pid_t(std::stol(digits));
    if (pid > 0 && pid != ::getpid() && ::kill(pid, 0) != 0 && errno == ESRCH) found.push_back(name);
  }
  return found;
}

// Removes the dead temporaries of `path`. A folder is listed once per process (a run writes thousands of outputs
// into one folder), so temporaries left by a writer that dies later are removed by the next process.
static void remove_stale_temporaries(const std::string& path) {
  static std::mutex mutex;
  static std::map<std::string, std::vector<std::string>> dead_by_dir;
  const std::string dir = parent_dir(path), prefix = file_name(path) + ".tmp.";
  std::lock_guard<std::mutex> lock(mutex);
  auto it = dead_by_dir.find(dir);
  if (it == dead_by_dir.end()) it = dead_by_dir.emplace(dir, dead_temporaries(dir)).first;
  std::vector<std::string>& dead = it->second;
  for (size_t k = 0; k < dead.size();) {
    const std::string& name = dead[k];
    if (name.size() > prefix.size() && name.compare(0, prefix.size(), prefix) == 0 &&
        name.find('.', prefix.size()) == std::string::npos) {
      ::unlink(path_join(dir, name).c_str());
      dead.erase(dead.begin() + long(k));
    } else {
      ++k;
    }
  }
}

void check_writable_file(const std::string& path, const std::string& what) {
  const std::string dir = parent_dir(path);
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0)
    fail(ErrorKind::kIo, "cannot write ", what, " '", path, "': folder '", dir, "' does not exist");
  if (!S_ISDIR(st.st_mode))
    fail(ErrorKind::kIo, "cannot write ", what, " '", path, "': '", dir, "' is a file, not a folder");
  if (::access(dir.c_str(), W_OK | X_OK) != 0)
    fail(ErrorKind::kIo, "cannot write ", what, " '", path, "': folder '", dir, "' is not writable");
  // access() says yes to root on read-only folders and /proc: creating a file there is the real test
  const std::string probe = path_join(dir, ".trtcore-write-check." + std::to_string(::getpid()));
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0 && errno != EEXIST)
    fail(ErrorKind::kIo, "cannot write ", what, " '", path, "': folder '", dir, "' is not writable (",
         std::strerror(errno), ")");
  if (fd >= 0) {
    ::close(fd);
    ::unlink(probe.c_str());
  }
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
    fail(ErrorKind::kIo, "cannot write ", what, " '", path, "': it is a directory");
}

bool same_file(const std::string& a, const std::string& b) {
  struct stat sa {}, sb {};
  return ::stat(a.c_str(), &sa) == 0 && ::stat(b.c_str(), &sb) == 0 && sa.st_dev == sb.st_dev &&
         sa.st_ino == sb.st_ino;
}

void write_file_atomic(const std::string& path, const std::string& bytes) {
  write_file_atomic(path, bytes.data(), bytes.size());
}

namespace {

// Writes all bytes to fd, retrying short writes and EINTR; false with errno set on failure.
bool write_all(int fd, const void* data, size_t size) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = ::write(fd, p, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += n;
    size -= size_t(n);
  }
  return true;
}

// A new temp file beside the target. O_EXCL|O_NOFOLLOW: a file or link planted under the temp name is removed and
// never written through.
int open_temporary(const std::string& tmp) {
  const int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
  int fd = ::open(tmp.c_str(), flags, 0644);
  if (fd < 0 && errno == EEXIST && ::unlink(tmp.c_str()) == 0) fd = ::open(tmp.c_str(), flags, 0644);
  return fd;
}

}  // namespace

void write_file_atomic(const std::string& path, const void* data, size_t size) {
  struct stat st;
  if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
    // A device (/dev/null, /dev/stdout) is written in place: renaming over it would replace the device node.
    if (!S_ISCHR(st.st_mode))
      fail(ErrorKind::kIo, "cannot write '", path, "': it exists and is not a regular file");
    const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) fail(ErrorKind::kIo, "cannot write '", path, "': ", os_error());
    const bool ok = write_all(fd, data, size);
    const std::string why = ok ? "" : os_error();
    ::close(fd);
    if (!ok) fail(ErrorKind::kIo, "cannot write '", path, "': ", why);
    return;
  }
  remove_stale_temporaries(path);
  // The temp file sits beside the target so the final rename never crosses a filesystem.
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  const int fd = open_temporary(tmp);
  if (fd < 0) fail(ErrorKind::kIo, "cannot write '", path, "': ", os_error());
  auto abandon = [&](const char* what) {
    const std::string why = os_error();
    ::close(fd);
    ::unlink(tmp.c_str());
    fail(ErrorKind::kIo, "cannot write '", path, "' (", what, "): ", why);
  };
  if (!write_all(fd, data, size)) abandon("write");
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
