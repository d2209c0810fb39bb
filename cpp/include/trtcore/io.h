// File helpers shared by the plan writer, the ONNX writer, the runner and the calibrators.
#pragma once
#include <string>
#include <vector>

namespace trtcore {

std::string read_file(const std::string& path);  // throws kIo naming the path
// Opens a regular file for reading (never blocking on a FIFO or device) and returns its descriptor and size;
// throws kIo naming the path and what it is otherwise.
int open_regular_file(const std::string& path, size_t* size);
// Writes to "<path>.tmp.<pid>" then renames over `path`, so readers never see a partial file. Temporary files
// of `path` left by processes that no longer run are removed first.
void write_file_atomic(const std::string& path, const std::string& bytes);
void write_file_atomic(const std::string& path, const void* data, size_t size);
// Regular files of a directory, sorted by name; hidden files skipped. Throws kIo if missing/not a directory.
std::vector<std::string> list_directory(const std::string& dir);
void make_directories(const std::string& dir);  // throws kIo if it cannot be created or written
// Throws kIo naming `what` and the path when a file cannot be created at `path` (missing or unwritable folder,
// or a directory in the way): checked before long work whose result goes there.
void check_writable_file(const std::string& path, const std::string& what);
// True when both paths exist and are the same file or directory (links and spellings resolved).
bool same_file(const std::string& a, const std::string& b);
std::string path_join(const std::string& a, const std::string& b);
std::string file_name(const std::string& path);

}  // namespace trtcore
