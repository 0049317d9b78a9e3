// Quantized math of LiteRT's builtin kernels: QUANTIZE / DEQUANTIZE /
// requantize, 256-entry lookup tables (int8/uint8 LOGISTIC, TANH), and the
// element functions of quantized ADD, SUB and MUL. All bit-exact with
// LiteRT's reference integer kernels.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "runtime/reference/fixed_point.h"

namespace k2l::runtime::reference {

template <typename T>
inline T ClampTo(int32_t v) {
  return static_cast<T>(
      std::min<int32_t>(std::max<int32_t>(v, std::numeric_limits<T>::min()),
                        std::numeric_limits<T>::max()));
}

// QUANTIZE float -> T per tensor, as ai-edge-litert 2.3.0 computes it on
// x86, where its NEON code runs through an SSE translation (measured
// against it; it differs from the portable reference). Whole blocks of 8
// elements from the start: x times the float reciprocal of the scale,
// rounded half to even. The remaining tail: x / scale in double, rounded
// half away from zero. Both convert the x86 way (out of int32 range or NaN
// -> INT32_MIN), add the zero point with wrap-around and clamp to T.
inline int32_t WrapAdd32(int32_t a, int32_t b) {
  return static_cast<int32_t>(static_cast<uint32_t>(a) +
                              static_cast<uint32_t>(b));
}
inline int32_t TruncateToInt32(double x) {
  if (!(x >= -2147483648.0 && x < 2147483648.0))
    return std::numeric_limits<int32_t>::min();
  return static_cast<int32_t>(x);
}
template <typename T>
inline void AffineQuantize(const float* in, T* out, int64_t n, float scale,
                           int32_t zero_point) {
  const float inverse_scale = static_cast<float>(1.0 / scale);
  const int64_t blocks = n - n % 8;
  for (int64_t i = 0; i < blocks; ++i) {
    const int32_t q = TruncateToInt32(std::nearbyint(in[i] * inverse_scale));
    out[i] = ClampTo<T>(WrapAdd32(q, zero_point));
  }
  for (int64_t i = blocks; i < n; ++i) {
    const double q = std::round(static_cast<double>(in[i]) / scale);
    out[i] = ClampTo<T>(WrapAdd32(TruncateToInt32(q), zero_point));
  }
}

// DEQUANTIZE T -> float: scale * (q - zero_point), rounded once.
template <typename T>
inline void Dequantize(const T* in, float* out, int64_t n, float scale,
                       int32_t zero_point) {
  for (int64_t i = 0; i < n; ++i) {
    out[i] = static_cast<float>(static_cast<double>(scale) *
                                (static_cast<int32_t>(in[i]) - zero_point));
  }
}

// Per-channel forms over [outer, channels, inner], channel c using
// scale[c] and zero_point[c]. Per-channel QUANTIZE is LiteRT's reference:
// float division, rounded half away from zero.
template <typename T>
inline void PerChannelQuantize(const float* in, T* out, int64_t outer,
                               int64_t channels, int64_t inner,
                               const float* scale, const int32_t* zero_point) {
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t c = 0; c < channels; ++c) {
      const int64_t at = (o * channels + c) * inner;
      for (int64_t i = 0; i < inner; ++i)
        out[at + i] =
            ClampTo<T>(QuantizeValue(in[at + i], scale[c], zero_point[c]));
    }
}
template <typename T>
inline void PerChannelDequantize(const T* in, float* out, int64_t outer,
                                 int64_t channels, int64_t inner,
                                 const float* scale,
                                 const int32_t* zero_point) {
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t c = 0; c < channels; ++c) {
      const int64_t at = (o * channels + c) * inner;
      Dequantize(in + at, out + at, inner, scale[c], zero_point[c]);
    }
}

// QUANTIZE between integer types: (q - in_zp) * (in_scale / out_scale) +
// out_zp, with the multiplier from QuantizeMultiplier.
//
// Between 8-bit types ai-edge-litert 2.3.0 (x86) runs NEON code through an
// SSE translation on whole blocks of 16 elements from the start, whose
// final right shift rounds half up (toward +inf) instead of half away from
// zero; the tail uses the reference rounding. Measured against it over
// every input value and random scales, this matches exactly. Pairs with a
// 16-bit side use the reference rounding throughout.
template <typename In, typename Out>
inline void Requantize(const In* in, Out* out, int64_t n, int32_t multiplier,
                       int shift, int32_t in_zp, int32_t out_zp) {
  constexpr bool kEightBit = sizeof(In) == 1 && sizeof(Out) == 1;
  const int64_t blocks = kEightBit ? n - n % 16 : 0;
  const int left = shift > 0 ? shift : 0;
  const int right = shift > 0 ? 0 : -shift;
  for (int64_t i = 0; i < n; ++i) {
    const int32_t v = static_cast<int32_t>(in[i]) - in_zp;
    int32_t r;
    if (i < blocks) {
      r = SaturatingRoundingDoublingHighMul(
          static_cast<int32_t>(static_cast<uint32_t>(v) << left), multiplier);
      if (right > 0)
        r = static_cast<int32_t>(
            (static_cast<int64_t>(r) + (int64_t{1} << (right - 1))) >> right);
    } else {
      r = MultiplyByQuantizedMultiplier(v, multiplier, shift);
    }
    out[i] = ClampTo<Out>(r + out_zp);
  }
}

// A table of f over every int8/uint8 input value (LiteRT's LUTPopulate):
// dequantize, apply f in float, round(y / out_scale) + out_zp, clamp.
// Indexed by the value's bit pattern as uint8.
template <typename T, typename F>
inline void PopulateLut(float in_scale, int32_t in_zp, float out_scale,
                        int32_t out_zp, const F& f, T lut[256]) {
  const float inverse_scale = 1 / out_scale;
  for (int32_t v = std::numeric_limits<T>::min();
       v <= std::numeric_limits<T>::max(); ++v) {
    const float x = in_scale * static_cast<float>(v - in_zp);
    const float y = std::round(f(x) * inverse_scale);
    // The zero point is added in float before the conversion, as LiteRT does.
    const int32_t q = TruncateToInt32(y + static_cast<float>(out_zp));
    lut[static_cast<uint8_t>(static_cast<T>(v))] = ClampTo<T>(q);
  }
}

template <typename T>
inline void LookupTable(const T* in, T* out, int64_t n, const T lut[256]) {
  for (int64_t i = 0; i < n; ++i) out[i] = lut[static_cast<uint8_t>(in[i])];
}

// --- Quantized ADD / SUB / MUL -----------------------------------------------

// Both inputs are scaled to a common Q(31 - left_shift) grid, added (or
// subtracted), and rescaled to the output; LiteRT's 8-bit kernels use
// left_shift 20.
struct QuantizedAddParams {
  int32_t input1_offset, input2_offset, output_offset;  // offsets = -zp, +zp
  int32_t input1_multiplier, input2_multiplier, output_multiplier;
  int input1_shift, input2_shift, output_shift;
  int left_shift;
  int32_t act_min, act_max;
  bool subtract;
};

// The parameters LiteRT's Prepare derives from the three scales.
inline QuantizedAddParams MakeQuantizedAddParams(float s1, int32_t zp1,
                                                 float s2, int32_t zp2,
                                                 float so, int32_t zpo,
                                                 bool subtract) {
  QuantizedAddParams p;
  p.input1_offset = -zp1;
  p.input2_offset = -zp2;
  p.output_offset = zpo;
  p.left_shift = 20;
  const double twice_max = 2 * static_cast<double>(std::max(s1, s2));
  QuantizeMultiplier(s1 / twice_max, &p.input1_multiplier, &p.input1_shift);
  QuantizeMultiplier(s2 / twice_max, &p.input2_multiplier, &p.input2_shift);
  QuantizeMultiplier(
      twice_max / ((1 << p.left_shift) * static_cast<double>(so)),
      &p.output_multiplier, &p.output_shift);
  p.act_min = std::numeric_limits<int32_t>::min();
  p.act_max = std::numeric_limits<int32_t>::max();
  p.subtract = subtract;
  return p;
}

template <typename T>
struct QuantizedAdd {
  QuantizedAddParams p;
  T operator()(T x, T y) const {
    const int32_t a = (p.input1_offset + x) * (1 << p.left_shift);
    const int32_t b = (p.input2_offset + y) * (1 << p.left_shift);
    const int32_t sa = MultiplyByQuantizedMultiplierSmallerThanOneExp(
        a, p.input1_multiplier, p.input1_shift);
    const int32_t sb = MultiplyByQuantizedMultiplierSmallerThanOneExp(
        b, p.input2_multiplier, p.input2_shift);
    const int32_t raw = p.subtract ? sa - sb : sa + sb;
    const int32_t out = MultiplyByQuantizedMultiplierSmallerThanOneExp(
                            raw, p.output_multiplier, p.output_shift) +
                        p.output_offset;
    return static_cast<T>(std::min(p.act_max, std::max(p.act_min, out)));
  }
};

// ADD as ai-edge-litert 2.3.0 computes it on x86 in whole SIMD blocks from
// the start of each contiguous run of its broadcast loops (its NEON code
// through an SSE translation). The input rescaling differs from the
// reference above: int8 runs where both inputs advance (blocks of 16) fold
// the input shift into the left shift before the multiply; the others
// (uint8, and int8 runs against a broadcast scalar; blocks of 8) multiply,
// then shift right without rounding. The sum is narrowed to int16
// (wrapping) before the zero point is added and the result saturated.
// Measured against it, this is exact where the reference form is 1 LSB off
// on about 0.2% of elements.
template <typename T>
struct QuantizedAddSimd {
  QuantizedAddParams p;
  bool fold_shift;  // int8 with both inputs advancing
  int32_t Scale(int32_t v, int32_t multiplier, int shift) const {
    if (fold_shift) {
      const int total = p.left_shift + shift;
      v = total >= 0 ? static_cast<int32_t>(static_cast<uint32_t>(v) << total)
                     : v >> -total;
      return SaturatingRoundingDoublingHighMul(v, multiplier);
    }
    v = SaturatingRoundingDoublingHighMul(
        static_cast<int32_t>(static_cast<uint32_t>(v) << p.left_shift),
        multiplier);
    return shift >= 0 ? static_cast<int32_t>(static_cast<uint32_t>(v) << shift)
                      : v >> -shift;
  }
  T operator()(T x, T y) const {
    const int32_t a =
        Scale(p.input1_offset + x, p.input1_multiplier, p.input1_shift);
    const int32_t b =
        Scale(p.input2_offset + y, p.input2_multiplier, p.input2_shift);
    const int32_t sum = RoundingDivideByPOT(
        SaturatingRoundingDoublingHighMul(a + b, p.output_multiplier),
        -p.output_shift);
    const int16_t narrow = static_cast<int16_t>(static_cast<uint16_t>(sum));
    const int16_t with_zp =
        static_cast<int16_t>(static_cast<uint16_t>(narrow + p.output_offset));
    const int32_t q = ClampTo<T>(with_zp);
    return static_cast<T>(std::min(p.act_max, std::max(p.act_min, q)));
  }
};

// Quantized comparisons bring both sides to a common scale first: each
// value, offset by its zero point and shifted left by 8, is multiplied by
// its scale as a fixed-point multiplier (below one).
struct CompareRescale {
  int32_t offset;  // -zero_point
  int32_t multiplier;
  int shift;
  int32_t operator()(int32_t q) const {
    return MultiplyByQuantizedMultiplierSmallerThanOneExp(
        (offset + q) * (1 << 8), multiplier, shift);
  }
};
template <typename T, typename Cmp>
struct QuantizedCompare {
  CompareRescale a, b;
  Cmp cmp;
  bool operator()(T x, T y) const { return cmp(a(x), b(y)); }
};

// Quantized RELU family: rescale to the output, clamp to the activation's
// range in output units (LiteRT's ReluX).
struct QuantizedReluParams {
  int32_t input_zp, output_zp, multiplier;
  int shift;
  int32_t act_min, act_max;
};
template <typename T>
struct QuantizedRelu {
  QuantizedReluParams p;
  T operator()(T x) const {
    const int32_t v = p.output_zp + MultiplyByQuantizedMultiplier(
                                        static_cast<int32_t>(x) - p.input_zp,
                                        p.multiplier, p.shift);
    return static_cast<T>(std::min(p.act_max, std::max(p.act_min, v)));
  }
};

// Quantized LEAKY_RELU: the identity scale for x >= zero point, alpha times
// it below (a negative alpha multiplier is applied by magnitude, then
// negated).
struct QuantizedLeakyReluParams {
  int32_t input_zp, output_zp;
  int32_t identity_multiplier, alpha_multiplier;
  int identity_shift, alpha_shift;
};
template <typename T>
struct QuantizedLeakyRelu {
  QuantizedLeakyReluParams p;
  T operator()(T x) const {
    const int32_t v = static_cast<int32_t>(x) - p.input_zp;
    int32_t out = p.output_zp;
    if (v >= 0) {
      out += MultiplyByQuantizedMultiplier(v, p.identity_multiplier,
                                           p.identity_shift);
    } else {
      const bool negative = p.alpha_multiplier < 0;
      const int32_t scaled = MultiplyByQuantizedMultiplier(
          v, negative ? -p.alpha_multiplier : p.alpha_multiplier,
          p.alpha_shift);
      out += negative ? -scaled : scaled;
    }
    return ClampTo<T>(out);
  }
};

struct QuantizedMulParams {
  int32_t input1_offset, input2_offset, output_offset;
  int32_t output_multiplier;
  int output_shift;
  int32_t act_min, act_max;
};

template <typename T>
struct QuantizedMul {
  QuantizedMulParams p;
  T operator()(T x, T y) const {
    const int32_t a = p.input1_offset + x;
    const int32_t b = p.input2_offset + y;
    const int32_t out =
        p.output_offset + MultiplyByQuantizedMultiplier(
                              a * b, p.output_multiplier, p.output_shift);
    return static_cast<T>(std::min(p.act_max, std::max(p.act_min, out)));
  }
};

}  // namespace k2l::runtime::reference
