// Branch-free float exp, sigmoid and tanh written as plain arithmetic and selects, so loops calling them vectorize
// (std::exp is an opaque library call per element). exp is within a few ulp of std::exp over the whole float
// range, including overflow to inf, gradual underflow to subnormals and 0, and NaN.
#pragma once
#include "backends/cpu/isa.h"
#include <cstdint>
#include <cstring>

TRTCORE_CPU_NAMESPACE_BEGIN

inline float bits_to_float(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

// exp(x) = 2^n * exp(r) with n = round(x / ln2) and |r| <= ln2 / 2; exp(r) by its Taylor series to degree 7
// (truncation < 0.1 ulp on that interval); 2^n is built in two exponent-field halves so that n up to +-254
// scales correctly and results round once into the subnormal or overflow range.
inline float exp_fast(float x) {
  constexpr float kLog2e = 1.44269504088896341f;
  constexpr float kLn2Hi = 0.693145751953125f;        // few significant bits: n * kLn2Hi is exact
  constexpr float kLn2Lo = 1.428606765330187045e-06f;  // ln2 - kLn2Hi
  constexpr float kRound = 12582912.f;                 // 1.5 * 2^23: adding it rounds to an integer
  // Beyond these, exp is inf or 0 in float; clamping keeps n small. NaN passes the clamps unchanged and is
  // replaced by 0 (so no NaN reaches the integer conversion), then restored at the end.
  float xc = x > 100.f ? 100.f : x;
  xc = xc < -110.f ? -110.f : xc;
  xc = xc == xc ? xc : 0.f;
  const float nf = (xc * kLog2e + kRound) - kRound;
  const float r = (xc - nf * kLn2Hi) - nf * kLn2Lo;
  float p = 1.f / 5040.f;
  p = p * r + 1.f / 720.f;
  p = p * r + 1.f / 120.f;
  p = p * r + 1.f / 24.f;
  p = p * r + 1.f / 6.f;
  p = p * r + 0.5f;
  p = p * r + 1.f;
  p = p * r + 1.f;
  const int32_t n = int32_t(nf);
  const int32_t n1 = n / 2, n2 = n - n1;
  const float s1 = bits_to_float(uint32_t(n1 + 127) << 23);
  const float s2 = bits_to_float(uint32_t(n2 + 127) << 23);
  const float y = (p * s1) * s2;
  return x == x ? y : x;
}

// With e = exp(-|x|) (never overflows): 1 / (1 + e) for x >= 0 and e / (1 + e) below, so tiny results for very
// negative x stay tiny instead of becoming 0 through an infinite exp(-x); NaN stays NaN.
inline float sigmoid_fast(float x) {
  const float e = exp_fast(x < 0.f ? x : -x);
  const float s = 1.f / (1.f + e);
  return x < 0.f ? e * s : s;
}

// tanh(x): an odd Taylor polynomial for |x| < 0.25 (where 1 - 2 / (e^2x + 1) would cancel), that identity above.
inline float tanh_fast(float x) {
  const float a = x < 0.f ? -x : x;
  const float a2 = a * a;
  float q = -1382.f / 155925.f;
  q = q * a2 + 62.f / 2835.f;
  q = q * a2 - 17.f / 315.f;
  q = q * a2 + 2.f / 15.f;
  q = q * a2 - 1.f / 3.f;
  const float small = a + a * a2 * q;
  const float large = 1.f - 2.f / (exp_fast(2.f * a) + 1.f);
  const float t = a < 0.25f ? small : large;
  const float s = x < 0.f ? -t : t;
  return x == x ? s : x;
}

TRTCORE_CPU_NAMESPACE_END
