// The standalone executable: the same commands and flags as the Python `trtcore` command, no Python needed.
#include <iostream>

#include "cli/cli.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return trtcore::run_cli(args, std::cout, std::cerr);
}
