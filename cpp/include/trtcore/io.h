// File helpers shared by the plan writer, the ONNX writer, the runner and the calibrators.
#pragma once
#include <string>
#include <vector>

namespace trtcore {

std::string read_file(const std::string& path);  // throws kIo naming the path
// Writes to "<path>.tmp.<pid>" then renames over `path`, so readers never see a partial file.
void write_file_atomic(const std::string& path, const std::string& bytes);
void write_file_atomic(const std::string& path, const void* data, size_t size);
// Regular files of a directory, sorted by name; hidden files skipped. Throws kIo if missing/not a directory.
std::vector<std::string> list_directory(const std::string& dir);
void make_directories(const std::string& dir);  // throws kIo if it cannot be created or written
std::string path_join(const std::string& a, const std::string& b);
std::string file_name(const std::string& path);

}  // namespace trtcore
