// Float SOFTMAX, LOG_SOFTMAX and L2_NORMALIZATION over the last axis, one
// row of `depth` contiguous values at a time.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

namespace k2l::runtime::reference {

// Sums are accumulated in double: LiteRT's float sums differ from the exact
// value by a few ulp, and so stay within tolerance of this one.

// out = exp((x - max) * beta) / sum, per row.
inline void Softmax(const float* in, float* out, int64_t rows, int64_t depth,
                    float beta) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* x = in + r * depth;
    float* y = out + r * depth;
    float max = std::numeric_limits<float>::lowest();
    for (int64_t i = 0; i < depth; ++i) max = std::max(max, x[i]);
    double sum = 0;
    for (int64_t i = 0; i < depth; ++i) {
      y[i] = std::exp((x[i] - max) * beta);
      sum += y[i];
    }
    const float inv = static_cast<float>(1.0 / sum);
    for (int64_t i = 0; i < depth; ++i) y[i] *= inv;
  }
}

// out = x - max - log(sum(exp(x - max))), per row.
inline void LogSoftmax(const float* in, float* out, int64_t rows,
                       int64_t depth) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* x = in + r * depth;
    float* y = out + r * depth;
    float max = std::numeric_limits<float>::lowest();
    for (int64_t i = 0; i < depth; ++i) max = std::max(max, x[i]);
    double sum = 0;
    for (int64_t i = 0; i < depth; ++i) sum += std::exp(x[i] - max);
    const float log_sum = static_cast<float>(std::log(sum));
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

}  // namespace k2l::runtime::reference
