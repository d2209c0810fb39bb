// The command line shared by the standalone executable and the Python `trtcore` command: one parser, one set of
// option groups (model, build, system, inference, reporting), one implementation of build/run/inspect.
#pragma once
#include <iosfwd>
#include <string>
#include <vector>

namespace trtcore {

// Runs `trtcore <args...>` (args exclude the program name). Returns the process exit code: 0 ok, 1 runtime
// failure, 2 usage or input error. Errors are printed as one line to `err`, never as a crash.
int run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace trtcore
