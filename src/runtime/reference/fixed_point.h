// Fixed-point helpers of LiteRT's integer kernels: a real multiplier as an
// int32 Q31 mantissa plus a power-of-two shift, the gemmlowp rounding
// primitives, and the clamp range of a fused activation on quantized values.
//
// These reproduce LiteRT's default build (double rounding: a saturating
// rounding doubling high multiply, then a rounding right shift), so integer
// kernels built on them are bit-exact with its reference kernels.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

namespace k2l::runtime::reference {

// Splits `real` into q * 2^shift with q in [2^30, 2^31) as a Q31 int32
// (round half away from zero). Zero gives (0, 0); multipliers below about
// 2^-31 flush to (0, 0) as in LiteRT.
inline void QuantizeMultiplier(double real, int32_t* multiplier, int* shift) {
  if (real == 0.) {
    *multiplier = 0;
    *shift = 0;
    return;
  }
  const double q = std::frexp(real, shift);
  int64_t q_fixed = static_cast<int64_t>(std::round(q * (1LL << 31)));
  if (q_fixed == (1LL << 31)) {
    q_fixed /= 2;
    ++*shift;
  }
  if (*shift < -31) {
    *shift = 0;
    q_fixed = 0;
  }
  *multiplier = static_cast<int32_t>(q_fixed);
}

// (a * b * 2) >> 32 rounded to nearest, with INT32_MIN * INT32_MIN
// saturating to INT32_MAX (gemmlowp's SaturatingRoundingDoublingHighMul).
inline int32_t SaturatingRoundingDoublingHighMul(int32_t a, int32_t b) {
  if (a == b && a == std::numeric_limits<int32_t>::min())
    return std::numeric_limits<int32_t>::max();
  const int64_t ab = static_cast<int64_t>(a) * static_cast<int64_t>(b);
  const int64_t nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
  return static_cast<int32_t>((ab + nudge) / (int64_t{1} << 31));
}

// x / 2^exponent rounded to nearest, ties away from zero (gemmlowp's
// RoundingDivideByPOT); exponent in [0, 31].
inline int32_t RoundingDivideByPOT(int32_t x, int exponent) {
  const int32_t mask = static_cast<int32_t>((int64_t{1} << exponent) - 1);
  const int32_t remainder = x & mask;
  const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

// x * multiplier * 2^shift, rounded as LiteRT does (shift may be either
// sign; a left shift is applied to x first and wraps like LiteRT's).
inline int32_t MultiplyByQuantizedMultiplier(int32_t x, int32_t multiplier,
                                             int shift) {
  const int left = shift > 0 ? shift : 0;
  const int right = shift > 0 ? 0 : -shift;
  const int32_t shifted =
      static_cast<int32_t>(static_cast<uint32_t>(x) << left);
  return RoundingDivideByPOT(
      SaturatingRoundingDoublingHighMul(shifted, multiplier), right);
}

// The int64 form LiteRT uses for wide accumulators (16x8 kernels): the
// multiplier is reduced to 16 bits and applied with one rounding.
inline int32_t MultiplyByQuantizedMultiplier(int64_t x, int32_t multiplier,
                                             int shift) {
  const int32_t reduced =
      multiplier < 0x7FFF0000 ? ((multiplier + (1 << 15)) >> 16) : 0x7FFF;
  const int total_shift = 15 - shift;
  const int64_t rounded =
      x * static_cast<int64_t>(reduced) + (int64_t{1} << (total_shift - 1));
  return static_cast<int32_t>(rounded >> total_shift);
}

// For multipliers known to be below one (shift <= 0).
inline int32_t MultiplyByQuantizedMultiplierSmallerThanOneExp(
    int32_t x, int32_t multiplier, int shift) {
  return RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(x, multiplier),
                             -shift);
}

// For multipliers known to be above one (shift >= 0).
inline int32_t MultiplyByQuantizedMultiplierGreaterThanOne(int32_t x,
                                                           int32_t multiplier,
                                                           int shift) {
  return SaturatingRoundingDoublingHighMul(
      static_cast<int32_t>(static_cast<uint32_t>(x) << shift), multiplier);
}

// float -> int32 as x86's truncating conversion does it (what LiteRT's
// static_cast compiles to): values outside int32, and NaN, give INT32_MIN.
inline int32_t TruncateToInt32(float x) {
  if (!(x >= -2147483648.f && x < 2147483648.f))
    return std::numeric_limits<int32_t>::min();
  return static_cast<int32_t>(x);
}

// The quantized value of real `x`: round(x / scale) + zero_point in float,
// as LiteRT's QUANTIZE and activation ranges compute it (the int32 add
// wraps, as in its build).
inline int32_t QuantizeValue(float x, float scale, int32_t zero_point) {
  const int32_t q = TruncateToInt32(std::round(x / scale));
  return static_cast<int32_t>(static_cast<uint32_t>(q) +
                              static_cast<uint32_t>(zero_point));
}

// The clamp range, in quantized units of an output with this scale and
// zero point and type range [qmin, qmax], of a fused activation: RELU
// clamps below at real 0, RELU6 to [0, 6], RELU_N1_TO_1 to [-1, 1]; other
// activations clamp to the type's range only.
enum class FusedActivation { kNone, kRelu, kRelu6, kReluN1To1 };
struct QuantizedRange {
  int32_t min;
  int32_t max;
};
inline QuantizedRange QuantizedActivationRange(FusedActivation act, float scale,
                                               int32_t zero_point, int32_t qmin,
                                               int32_t qmax) {
  switch (act) {
    case FusedActivation::kRelu:
      return {std::max(qmin, QuantizeValue(0.f, scale, zero_point)), qmax};
    case FusedActivation::kRelu6:
      return {std::max(qmin, QuantizeValue(0.f, scale, zero_point)),
              std::min(qmax, QuantizeValue(6.f, scale, zero_point))};
    case FusedActivation::kReluN1To1:
      return {std::max(qmin, QuantizeValue(-1.f, scale, zero_point)),
              std::min(qmax, QuantizeValue(1.f, scale, zero_point))};
    case FusedActivation::kNone:
      break;
  }
  return {qmin, qmax};
}

}  // namespace k2l::runtime::reference
