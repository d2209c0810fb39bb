// The command line's flags: one table saying, per flag, its phase (model, build, system, inference, reporting), the
// commands it belongs to and why it does not belong to the others; the parser that enforces it (a flag of another
// command is an error naming why, an unknown one gets "did you mean") and the per-command help.
#pragma once
#include <cstdint>
#include <iosfwd>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace trtcore {

// `trtcore <command>`; kLegacy is the thesis script's form (`--file=... --plan=...`, no command word), kTrtexec
// takes a whole trtexec command line (`trtcore trtexec --onnx=m.onnx --fp16 ...`).
enum class Command { kBuild, kRun, kInspect, kQuantize, kLegacy, kTrtexec };

std::optional<Command> command_from_name(const std::string& name);
// The name in `commands` nearest to a mistyped `word` (a few edits at most), or "" when none is near.
std::string nearest_command(const std::string& word, const std::vector<std::string>& commands);
const char* command_name(Command c);

// Parsed flags by canonical name (aliases such as --fp16 or --saveEngine are stored under --half and --plan).
struct Args {
  std::map<std::string, std::vector<std::string>> values;  // canonical name -> values (repeatable)
  std::map<std::string, std::string> spelled;              // canonical name -> the spelling last used, for errors
  bool has(const std::string& k) const { return values.count(k) != 0; }
  std::string get(const std::string& k, const std::string& def = "") const;
  // The flag as the user wrote it ("--fp16"), so errors quote their own words.
  std::string flag(const std::string& k) const;
  int64_t get_int(const std::string& k, int64_t def) const;
  double get_double(const std::string& k, double def) const;
  std::vector<std::string> list(const std::string& k) const;  // every value, comma lists split
};

// Parses args[start..] for `cmd`. Throws kInvalidArgument for unknown flags (with the nearest names), flags of
// another command (saying why), missing or extra values.
Args parse_args(const std::vector<std::string>& args, size_t start, Command cmd);

// The overview (commands) when `cmd` is empty, else one command's flags grouped by phase.
void print_help(std::ostream& out, std::optional<Command> cmd);

}  // namespace trtcore
