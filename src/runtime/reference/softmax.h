// Float SOFTMAX, LOG_SOFTMAX and L2_NORMALIZATION over the last axis, one
// row of `depth` contiguous values at a time.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "runtime/reference/unary.h"

namespace k2l::runtime::reference {

// Sums are accumulated in double: LiteRT's float sums differ from the exact
// value by a few ulp, and so stay within tolerance of this one.

// Sum of n floats in double, four partial sums for throughput.
inline double SumAsDouble(const float* v, int64_t n) {
  double s[4] = {0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 4 <= n; i += 4)
    for (int k = 0; k < 4; ++k) s[k] += v[i + k];
  for (; i < n; ++i) s[0] += v[i];
  return (s[0] + s[1]) + (s[2] + s[3]);
}

// Maximum of n >= 1 floats, eight partial maxima for throughput.
inline float RowMax(const float* v, int64_t n) {
  float m[8];
  for (int k = 0; k < 8; ++k) m[k] = v[0];
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; ++k) m[k] = std::max(m[k], v[i + k]);
  for (; i < n; ++i) m[0] = std::max(m[0], v[i]);
  float r = m[0];
  for (int k = 1; k < 8; ++k) r = std::max(r, m[k]);
  return r;
}

// out = exp((x - max) * beta) / sum, per row.
inline void Softmax(const float* in, float* out, int64_t rows, int64_t depth,
                    float beta) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* x = in + r * depth;
    float* y = out + r * depth;
    const float max = RowMax(x, depth);
    for (int64_t i = 0; i < depth; ++i) y[i] = FastExp((x[i] - max) * beta);
    const float inv = static_cast<float>(1.0 / SumAsDouble(y, depth));
    for (int64_t i = 0; i < depth; ++i) y[i] *= inv;
  }
}

// out = x - max - log(sum(exp(x - max))), per row.
inline void LogSoftmax(const float* in, float* out, int64_t rows,
                       int64_t depth) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* x = in + r * depth;
    float* y = out + r * depth;
    const float max = RowMax(x, depth);
    // The exponentials go through y, which the last loop overwrites.
    for (int64_t i = 0; i < depth; ++i) y[i] = FastExp(x[i] - max);
    const float log_sum = static_cast<float>(std::log(SumAsDouble(y, depth)));
    for (int64_t i = 0; i < depth; ++i) y[i] = x[i] - max - log_sum;
  }
}

// out = x / max(sqrt(sum(x^2)), epsilon), per row.
inline void L2Normalize(const float* in, float* out, int64_t rows,
                        int64_t depth, float epsilon) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* x = in + r * depth;
    float* y = out + r * depth;
    double sq = 0;
    for (int64_t i = 0; i < depth; ++i) sq += static_cast<double>(x[i]) * x[i];
    const float norm = std::max(static_cast<float>(std::sqrt(sq)), epsilon);
    for (int64_t i = 0; i < depth; ++i) y[i] = x[i] / norm;
  }
}

// --- Quantized SOFTMAX (LiteRT's x86 kernel) ---------------------------------
//
// LiteRT's optimized int8/uint8 softmax works in float from a table of
// exp(-input_scale * beta * d) for each distance d = max - x in [0, 255],
// stored so that table[255 - d] holds it. Using the same float operations
// in the same order makes this bit-exact with it.

inline void PopulateSoftmaxTable(float input_scale, float beta,
                                 float table[256]) {
  const float scale = -input_scale * beta;
  for (int32_t d = 0; d <= 255; ++d)
    table[255 - d] = std::exp(scale * static_cast<float>(d));
}

// Per row: probabilities table[255 - max + x] / sum, divided by the output
// scale and rounded (uint8 outputs truncate p + 0.5 and ignore the zero
// point, as LiteRT's non-ARM build does), clamped to Out's range.
template <typename In, typename Out>
inline void QuantizedSoftmax(const In* in, Out* out, int64_t rows,
                             int64_t depth, const float table[256],
                             float out_scale, int32_t out_zero_point) {
  for (int64_t r = 0; r < rows; ++r) {
    const In* x = in + r * depth;
    Out* y = out + r * depth;
    int32_t max = std::numeric_limits<In>::min();
    for (int64_t i = 0; i < depth; ++i)
      max = std::max(max, static_cast<int32_t>(x[i]));
    const float* t = table + (255 - max);
    float sum = 0.f;
    for (int64_t i = 0; i < depth; ++i) sum += t[x[i]];
    const float inv = 1.0f / (sum * out_scale);
    for (int64_t i = 0; i < depth; ++i) {
      const float p = t[x[i]] * inv;
      int32_t q;
      if constexpr (std::is_same_v<Out, uint8_t>) {
        q = static_cast<int32_t>(p + 0.5f);
      } else {
        q = static_cast<int32_t>(std::round(p)) + out_zero_point;
      }
      q = std::min<int32_t>(
          std::max<int32_t>(q, std::numeric_limits<Out>::min()),
          std::numeric_limits<Out>::max());
      y[i] = static_cast<Out>(q);
    }
  }
}

}  // namespace k2l::runtime::reference
