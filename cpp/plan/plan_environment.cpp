// The default check of a plan's recorded environment against this machine. It lives in the core (not beside the
// backend registry) so that the cuda backend's own library, which links the core but not the runtime, has it too.
#include <map>
#include <string>

#include "trtcore/backend.h"
#include "trtcore/error.h"

namespace trtcore {

void Backend::check_environment(const std::map<std::string, std::string>& plan_env) const {
  const std::map<std::string, std::string> here = environment();
  for (const auto& [key, value] : plan_env) {
    auto it = here.find(key);
    if (it == here.end() || it->second != value)
      fail(ErrorKind::kInvalidArgument, "plan was built for ", key, " '", value, "' but this machine has '",
           it == here.end() ? std::string("none") : it->second, "'; rebuild the plan here");
  }
}

}  // namespace trtcore
