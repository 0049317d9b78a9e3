// Element functions of LiteRT's activations, unary math and CAST, and the
// half-precision conversions they need.
#pragma once

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>

// Compiles a function three times, for AVX-512, AVX2 with FMA and baseline
// x86-64, the best picked when the program loads (GCC's target_clones).
// Kernels put it on the loops over the approximations below, which then
// run 3-4x faster on current CPUs than the SSE2 baseline build.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define K2L_VECTOR_CLONES \
  __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define K2L_VECTOR_CLONES
#endif

namespace k2l::runtime::reference {

// out[i] = f(in[i]) for i < n.
template <typename In, typename Out, typename F>
inline void Map(const In* in, Out* out, int64_t n, const F& f) {
  for (int64_t i = 0; i < n; ++i) out[i] = f(in[i]);
}

// --- Activations (float) -----------------------------------------------------

inline float Relu(float x) { return std::max(x, 0.f); }
inline float ClampTo(float x, float lo, float hi) {
  return std::min(std::max(x, lo), hi);
}

// LiteRT's logistic: exact sigmoid written so it neither overflows nor loses
// the tail (its cut-offs at -9 and 16.6 move results by < 2e-8).
inline float Logistic(float x) {
  if (x >= 0) return 1.f / (1.f + std::exp(-x));
  float e = std::exp(x);
  return e / (1.f + e);
}

// GELU with erf (written with erfc, as LiteRT does, so large negative inputs
// do not cancel) or with the tanh approximation.
inline float Gelu(float x) {
  return 0.5f * x * std::erfc(x * -0.70710678118654752440f);
}
inline float GeluTanh(float x) {
  constexpr float kSqrt2OverPi = 0.79788456080286535588f;
  return 0.5f * x *
         (1.f + std::tanh(kSqrt2OverPi * (x + 0.044715f * x * x * x)));
}

inline float HardSwish(float x) {
  return x * std::min(6.f, std::max(0.f, x + 3.f)) / 6.f;
}

inline float Elu(float x) { return x < 0.f ? std::expm1(x) : x; }

// Alpha may be negative or above 1, so this is not a max.
inline float LeakyRelu(float x, float alpha) { return x > 0 ? x : x * alpha; }
inline float Prelu(float x, float alpha) { return x >= 0 ? x : x * alpha; }

// --- Vectorizable approximations ---------------------------------------------
//
// The float kernels use these instead of libm: branch-free, so loops over
// them vectorize, and within a few ulp (exp, logistic) or 1e-7 absolute
// (tanh, erfc near 0), well inside the 1e-5 the runtime promises against
// LiteRT (whose own XNNPACK kernels approximate too).

// c ? a : b through the bits. GCC (with its default -ftrapping-math) will
// not vectorize a float select that feeds more float arithmetic; this form
// it does.
inline float SelectF(bool c, float a, float b) {
  const int32_t m = -static_cast<int32_t>(c);
  return std::bit_cast<float>((std::bit_cast<int32_t>(a) & m) |
                              (std::bit_cast<int32_t>(b) & ~m));
}

// e^x: Cody-Waite reduction by ln 2 and a degree-7 Taylor polynomial on
// |r| <= ln2/2 (truncation error 5e-9). Inf above 88.72; inputs below -86
// give e^-86 (~4e-38) instead of a denormal.
inline float FastExp(float x) {
  float xc = SelectF(x < -86.f, -86.f, x);
  xc = SelectF(xc > 89.f, 89.f, xc);
  const float n = (xc * 1.44269504088896341f + 12582912.f) - 12582912.f;
  float r = xc - n * 0.693145751953125f;   // ln 2, high bits (exact product)
  r = r - n * 1.42860682030941723212e-6f;  // ln 2, low bits
  float p = 1.f / 5040;
  p = p * r + 1.f / 720;
  p = p * r + 1.f / 120;
  p = p * r + 1.f / 24;
  p = p * r + 1.f / 6;
  p = p * r + 0.5f;
  p = p * r + 1.f;
  p = p * r + 1.f;
  // 2^(n-1) as float bits (n in [-124, 129]), times 2: above 88.72 this
  // overflows to inf, as e^x does. (std::bit_cast, unlike memcpy, leaves
  // the loop vectorizable for GCC.)
  const float scale =
      std::bit_cast<float>((static_cast<int32_t>(n) + 126) << 23);
  return p * scale * 2.f;
}

inline float FastLogistic(float x) { return 1.f / (1.f + FastExp(-x)); }

// tanh(x) = 1 - 2 / (e^2x + 1), odd-symmetrized; absolute error ~1e-7.
inline float FastTanh(float x) {
  const float ax = SelectF(std::abs(x) > 20.f, 20.f, std::abs(x));
  const float t = 1.f - 2.f / (FastExp(2.f * ax) + 1.f);
  return std::copysign(t, x);
}

// erfc with fractional error below 1.2e-7 (Numerical Recipes' erfcc: a
// Chebyshev fit of erfc(z) e^(z^2) in t = 1 / (1 + z/2)).
inline float FastErfc(float z) {
  const float az = std::abs(z);
  const float t = 1.f / (1.f + 0.5f * az);
  float p = 0.17087277f;
  p = p * t - 0.82215223f;
  p = p * t + 1.48851587f;
  p = p * t - 1.13520398f;
  p = p * t + 0.27886807f;
  p = p * t - 0.18628806f;
  p = p * t + 0.09678418f;
  p = p * t + 0.37409196f;
  p = p * t + 1.00002368f;
  p = p * t - 1.26551223f;
  const float y = t * FastExp(-az * az + p);
  return SelectF(z >= 0.f, y, 2.f - y);
}

inline float FastGelu(float x) {
  return 0.5f * x * FastErfc(x * -0.70710678118654752440f);
}
inline float FastGeluTanh(float x) {
  constexpr float kSqrt2OverPi = 0.79788456080286535588f;
  return 0.5f * x *
         (1.f + FastTanh(kSqrt2OverPi * (x + 0.044715f * x * x * x)));
}
inline float FastElu(float x) { return SelectF(x < 0.f, FastExp(x) - 1.f, x); }

// --- Unary math --------------------------------------------------------------

// Round half to even (TF's tf.round, "banker's rounding").
inline float RoundHalfEven(float x) {
  float f = std::floor(x);
  float diff = x - f;
  if (diff < 0.5f) return f;
  if (diff > 0.5f) return f + 1.f;
  return std::fmod(f, 2.f) == 0.f ? f : f + 1.f;
}

template <typename T>
inline T Sign(T x) {
  if constexpr (std::is_floating_point_v<T>) {
    if (std::isnan(x)) return x;
  }
  return x > T(0) ? T(1) : (x < T(0) ? T(-1) : T(0));
}

template <typename T>
inline T Abs(T x) {
  if constexpr (std::is_integral_v<T>) {
    // abs(INT_MIN) wraps to INT_MIN as it does in LiteRT's build.
    using U = std::make_unsigned_t<T>;
    return x < 0 ? static_cast<T>(U(0) - static_cast<U>(x)) : x;
  } else {
    return std::abs(x);
  }
}

template <typename T>
inline T Neg(T x) {
  if constexpr (std::is_integral_v<T>) {
    using U = std::make_unsigned_t<T>;
    return static_cast<T>(U(0) - static_cast<U>(x));
  } else {
    return -x;
  }
}

// --- Half precision ----------------------------------------------------------

inline float HalfToFloat(uint16_t h) {
  uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1f;
  uint32_t man = h & 0x3ff;
  uint32_t bits;
  if (exp == 0x1f) {
    bits = sign | 0x7f800000 | (man << 13);  // inf or nan
  } else if (exp != 0) {
    bits = sign | ((exp + 112) << 23) | (man << 13);
  } else if (man == 0) {
    bits = sign;
  } else {
    // Subnormal: value = man * 2^-24, exact in float.
    float v = std::ldexp(static_cast<float>(man), -24);
    return sign ? -v : v;
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

// IEEE float -> half, rounding to nearest even.
inline uint16_t FloatToHalf(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  uint16_t sign = static_cast<uint16_t>((x >> 16) & 0x8000);
  uint32_t ax = x & 0x7fffffff;
  if (ax >= 0x7f800000) {  // inf or nan (keep nan quiet)
    return sign | 0x7c00 | (ax > 0x7f800000 ? 0x200 : 0);
  }
  if (ax >= 0x477ff000) return sign | 0x7c00;  // rounds past 65504
  if (ax < 0x38800000) {                       // below the smallest normal
    // Scale into the subnormal grid; the float add rounds to nearest even.
    float a;
    std::memcpy(&a, &ax, 4);
    float r = a * 16777216.f;  // 2^24: one subnormal step becomes 1
    uint32_t m = static_cast<uint32_t>(std::nearbyint(r));
    return sign | static_cast<uint16_t>(m);
  }
  uint32_t rounded = ax + 0xfff + ((ax >> 13) & 1);
  return sign | static_cast<uint16_t>((rounded - 0x38000000) >> 13);
}

inline float BFloat16ToFloat(uint16_t h) {
  uint32_t bits = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

inline uint16_t FloatToBFloat16(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  if ((x & 0x7fffffff) > 0x7f800000) return static_cast<uint16_t>(0x7fc0);
  x += 0x7fff + ((x >> 16) & 1);
  return static_cast<uint16_t>(x >> 16);
}

// --- CAST --------------------------------------------------------------------

// Float to integer as LiteRT's CAST does it: truncate toward zero, saturate
// at the type's limits, NaN becomes the maximum.
template <typename To, typename From>
inline To SaturatingCast(From x) {
  if (std::isnan(x)) return std::numeric_limits<To>::max();
  if (x < static_cast<From>(std::numeric_limits<To>::min()))
    return std::numeric_limits<To>::min();
  // max()+1 is a power of two, exact in every floating type.
  constexpr From kUpper =
      static_cast<From>(std::numeric_limits<To>::max() / 2 + 1) * From(2);
  if (x >= kUpper) return std::numeric_limits<To>::max();
  return static_cast<To>(x);
}

template <typename To, typename From>
inline To CastValue(From x) {
  if constexpr (std::is_same_v<To, bool>) {
    return x != From(0);
  } else if constexpr (std::is_floating_point_v<From> &&
                       std::is_integral_v<To>) {
    return SaturatingCast<To>(x);
  } else {
    return static_cast<To>(x);
  }
}

}  // namespace k2l::runtime::reference
