// Progress of a long step (calibration, tactic timing, directory runs): `what` names the step, `done` of `total` units.
#pragma once
#include <cstddef>
#include <functional>
#include <string>

namespace trtcore {

using ProgressFn = std::function<void(const std::string& what, size_t done, size_t total)>;

}  // namespace trtcore
