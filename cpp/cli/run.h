// The command line's run stage, shared by `run`, the thesis script's form and `trtcore trtexec`: batch and shapes,
// warm-up, timing until --iter and --duration are both reached, the report and its exports.
#pragma once
#include <iosfwd>
#include <map>
#include <string>

#include "cli/options.h"
#include "trtcore/engine.h"
#include "trtcore/progress.h"

namespace trtcore {

// The one progress display: a bar on stderr when it is a terminal, nothing otherwise (logs carry no \r frames).
ProgressFn terminal_progress();

// name:1x3x224x224[,name2:...] from every value of `key` (--shapes, --maxShapes, ...).
std::map<std::string, Shape> shape_specs(const Args& a, const std::string& key);

// Flags that mean nothing on the cpu backend are errors there, not ignored.
void check_backend_flags(const Args& a, const std::string& backend);

// Times (and with --dir runs) an engine as the flags say and prints the report; returns the exit code.
int run_engine(Engine& e, const Args& a, std::ostream& out);

}  // namespace trtcore
