// The cpu backend's int8 GEMM for quantized convolutions: int8 weights (rows) times unsigned 8-bit activation
// panels (columns), int32 accumulation. Signed activations enter as x + 128 and the caller subtracts
// (128 + zero point) * row_sum, so one u8 x s8 kernel (AVX-512 VNNI's vpdpbusd where present) serves both types.
#pragma once
#include "backends/cpu/isa.h"
#include <cstdint>
#include <vector>

TRTCORE_CPU_NAMESPACE_BEGIN

constexpr int64_t kI8Mr = 6;   // weight rows per micro-kernel call
constexpr int64_t kI8Nr = 64;  // activation columns (pixels) per panel

// Weights [m][k] repacked as row blocks of kI8Mr, each [k4][kI8Mr][4] bytes (k padded to quads with zeros).
struct PackedI8Weights {
  int64_t m = 0, k = 0, k4 = 0;
  std::vector<int8_t> data;
  std::vector<int32_t> row_sums;  // sum of each row's weights, for the activation offset correction
};
PackedI8Weights pack_i8_weights(const int8_t* w, int64_t m, int64_t k);

// acc[r * kI8Nr + j] = sum_k w[row0 + r][k] * panel(k, j) for rows [row0, row0 + rows) and at least columns
// [0, cols) (cols <= kI8Nr; the rest of acc may be left as it was); `panel` is [k4][kI8Nr][4] unsigned bytes.
void igemm_rows(const PackedI8Weights& w, int64_t row0, int64_t rows, int64_t cols, const uint8_t* panel,
                int32_t* acc);
// The same finished as floats: y[r * kI8Nr + j] = float(sum) - corr[r], the activation offset taken out (the
// quantized convolution's epilogue input), converted while the sums are still in registers.
void igemm_rows_float(const PackedI8Weights& w, int64_t row0, int64_t rows, int64_t cols, const uint8_t* panel,
                      const float* corr, float* y);
// The same with k quad q's kI8Nr x 4 bytes at base + quad_offsets[q] (at least 16 * ceil(cols / 16) columns there
// must be readable).
void igemm_rows_at(const PackedI8Weights& w, int64_t row0, int64_t rows, int64_t cols, const uint8_t* base,
                   const int64_t* quad_offsets, int32_t* acc);

// dst[j * 4 + t] = rows[t][j] for the kI8Nr columns: four k rows of pixels as the quads the kernels read.
void interleave4(const uint8_t (*rows)[kI8Nr], uint8_t* dst);

TRTCORE_CPU_NAMESPACE_END
