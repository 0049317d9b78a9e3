// FULLY_CONNECTED: out[b, u] = clamp(sum_d in[b, d] * weights[u, d] +
// bias[u]) with weights [units, depth].
#pragma once

#include <algorithm>
#include <cstdint>

#include "runtime/reference/hybrid.h"
#include "runtime/reference/matmul.h"
#include "runtime/reference/quantized_util.h"

namespace k2l::runtime::reference {

// Plain loops over output rows [row_begin, row_end), as LiteRT's reference:
// float accumulation from zero, then the bias, then the clamp.
inline void FullyConnected(const float* input, const float* weights,
                           const float* bias, int64_t depth, int64_t units,
                           float act_min, float act_max, float* output,
                           int64_t row_begin, int64_t row_end) {
  for (int64_t b = row_begin; b < row_end; ++b) {
    const float* in = input + b * depth;
    for (int64_t u = 0; u < units; ++u) {
      const float* w = weights + u * depth;
      float total = 0.f;
      for (int64_t d = 0; d < depth; ++d) total += in[d] * w[d];
      const float v = total + (bias != nullptr ? bias[u] : 0.f);
      output[b * units + u] = std::min(std::max(v, act_min), act_max);
    }
  }
}

// The GEMM path for the block of rows [row_begin, row_end) and units
// [unit_begin, unit_end).
inline void FullyConnectedGemm(const float* input, const float* weights,
                               const float* bias, int64_t depth, int64_t units,
                               float act_min, float act_max, float* output,
                               int64_t row_begin, int64_t row_end,
                               int64_t unit_begin, int64_t unit_end) {
  const int64_t rows = row_end - row_begin;
  const int64_t cols = unit_end - unit_begin;
  float* out = output + row_begin * units + unit_begin;
  Gemm(false, true, rows, cols, depth, input + row_begin * depth, depth,
       weights + unit_begin * depth, depth, out, units);
  BiasAndClamp(rows, cols, bias != nullptr ? bias + unit_begin : nullptr,
               act_min, act_max, out, units);
}

// Integer FULLY_CONNECTED (int8 or uint8) with LiteRT's fixed-point
// requantization, rows [row_begin, row_end) and units [unit_begin,
// unit_end).
template <typename T>
void FullyConnectedQuantized(const T* input, const T* weights,
                             const int32_t* bias, int64_t depth, int64_t units,
                             const QuantizedOutput& q, T* output,
                             int64_t row_begin, int64_t row_end,
                             int64_t unit_begin, int64_t unit_end) {
  for (int64_t b = row_begin; b < row_end; ++b) {
    const T* in = input + b * depth;
    for (int64_t u = unit_begin; u < unit_end; ++u) {
      const T* w = weights + u * depth;
      int32_t acc = 0;
      for (int64_t d = 0; d < depth; ++d) {
        acc += (static_cast<int32_t>(w[d]) + q.filter_offset) *
               (static_cast<int32_t>(in[d]) + q.input_offset);
      }
      if (bias != nullptr) acc += bias[u];
      output[b * units + u] = static_cast<T>(q.Apply(acc, static_cast<int>(u)));
    }
  }
}

// Dynamic-range FULLY_CONNECTED: `q` holds the input rows quantized to int8
// (`row[b]` their scale and zero point), the int32 sum of weights * (q -
// offset) is scaled back per row and unit (see HybridOutput). Rows
// [row_begin, row_end) and units [unit_begin, unit_end).
inline void FullyConnectedHybrid(const int8_t* q, const HybridRow* row,
                                 const int8_t* weights, const float* unit_scale,
                                 const float* bias, int64_t depth,
                                 int64_t units, float act_min, float act_max,
                                 float* output, int64_t row_begin,
                                 int64_t row_end, int64_t unit_begin,
                                 int64_t unit_end) {
  for (int64_t b = row_begin; b < row_end; ++b) {
    const int8_t* in = q + b * depth;
    const int32_t offset = row[b].offset;
    for (int64_t u = unit_begin; u < unit_end; ++u) {
      const int8_t* w = weights + u * depth;
      int32_t acc = 0;
      for (int64_t d = 0; d < depth; ++d) {
        acc +=
            static_cast<int32_t>(w[d]) * (static_cast<int32_t>(in[d]) - offset);
      }
      output[b * units + u] = HybridOutput(acc, row[b].scale, unit_scale, u,
                                           bias, act_min, act_max);
    }
  }
}

}  // namespace k2l::runtime::reference
