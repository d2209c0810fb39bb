// The INT8 build step between optimize and lowering: scales from a calibration cache when it exists, else from
// calibrating the model over the calibration samples (and the cache written), then the INT8 precision stage.
#pragma once
#include <string>

#include "precision/calibrator.h"
#include "precision/int8_policy.h"
#include "trtcore/backend.h"

namespace trtcore {

// Rewrites the optimized graph `g` into its Q/DQ form for `build`; log lines go to `log`.
Int8Report apply_int8(Graph& g, const ModelOptions& model, const BuildOptions& build, const SystemOptions& sys,
                      Backend& backend, std::string* log, const ProgressFn& progress);

}  // namespace trtcore
