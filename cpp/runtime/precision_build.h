// The precision stage of a build, between optimize and lowering. INT8: scales from a calibration cache when it exists,
// else from calibrating the model over the calibration samples (and the cache written), then the Q/DQ rewrite, then
// (build.int8_fallback; by default where the backend builds FP16 plans) the FP16 rewrite of what stays float.
// FP16: the FP16 rewrite, keeping float32 where the calibration samples (when given) leave float16's range.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "precision/calibrator.h"
#include "precision/fp16_policy.h"
#include "precision/int8_policy.h"
#include "trtcore/backend.h"

namespace trtcore {

// A calibration cache that does not exist yet is written after calibrating: its folder is checked before the work.
void check_calibration_cache_writable(const BuildOptions& build);

// Per tensor, one value per channel (axis 1).
using ChannelRanges = std::map<std::string, std::vector<float>>;

// --int8-equalization activations: the per-channel max |x| of the tensors equalize_int8 balances, measured on the
// float model before equalization (one pass over the calibration samples), or read from <cache>.ranges when the
// calibration cache exists. Empty for every other build. Optimize with PassContext::int8_channel_ranges set to it.
ChannelRanges int8_equalization_ranges(const ModelOptions& model, const BuildOptions& build, const SystemOptions& sys,
                                       Backend& backend, std::string* log, const ProgressFn& progress);

// Rewrites the optimized graph `g` into its Q/DQ form for `build`; log lines go to `log`. `equalization_ranges`:
// what int8_equalization_ranges returned for the graph's optimization (calibration optimizes the model alike).
Int8Report apply_int8(Graph& g, const ModelOptions& model, const BuildOptions& build, const SystemOptions& sys,
                      Backend& backend, std::string* log, const ProgressFn& progress,
                      const ChannelRanges& equalization_ranges = {});

Fp16Report apply_fp16(Graph& g, const ModelOptions& model, const BuildOptions& build, const SystemOptions& sys,
                      Backend& backend, std::string* log, const ProgressFn& progress);

// The stage for `build.precision` (nothing for FP32).
void apply_precision(Graph& g, const ModelOptions& model, const BuildOptions& build, const SystemOptions& sys,
                     Backend& backend, std::string* log, const ProgressFn& progress,
                     const ChannelRanges& equalization_ranges = {});

}  // namespace trtcore
