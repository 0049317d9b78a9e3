// AVERAGE_POOL_2D, MAX_POOL_2D and L2_POOL_2D over NHWC data. The window is
// clipped to the input: padding never counts, in the average's divisor
// either, as in LiteRT's reference.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "runtime/reference/conv.h"

namespace k2l::runtime::reference {

enum class PoolKind { kAverage, kMax, kL2 };

// The clipped window of output (oy, ox): taps [y_begin, y_end) x
// [x_begin, x_end) relative to origin (y0, x0).
struct PoolWindow {
  int y0, x0, y_begin, y_end, x_begin, x_end;
  int count() const {
    return std::max(0, y_end - y_begin) * std::max(0, x_end - x_begin);
  }
};

inline PoolWindow ClipPoolWindow(const Window& w, int oy, int ox) {
  PoolWindow p;
  p.y0 = oy * w.stride_h - w.pad_h;
  p.x0 = ox * w.stride_w - w.pad_w;
  p.y_begin = std::max(0, -p.y0);
  p.y_end = std::min(w.k_h, w.in_h - p.y0);
  p.x_begin = std::max(0, -p.x0);
  p.x_end = std::min(w.k_w, w.in_w - p.x0);
  return p;
}

// Float pooling of output rows (batch * out_h + y) in [row_begin, row_end).
// Returns false when a window holds no input value (LiteRT fails the op).
inline bool Pool(PoolKind kind, const Window& w, const float* input,
                 float act_min, float act_max, float* output, int64_t row_begin,
                 int64_t row_end) {
  const int c = w.in_c;
  std::vector<float> acc(c);
  for (int64_t row = row_begin; row < row_end; ++row) {
    const int64_t b = row / w.out_h;
    const int oy = static_cast<int>(row % w.out_h);
    for (int ox = 0; ox < w.out_w; ++ox) {
      const PoolWindow p = ClipPoolWindow(w, oy, ox);
      const int count = p.count();
      if (count == 0 && kind != PoolKind::kMax) return false;
      std::fill(
          acc.begin(), acc.end(),
          kind == PoolKind::kMax ? std::numeric_limits<float>::lowest() : 0.f);
      for (int ky = p.y_begin; ky < p.y_end; ++ky) {
        for (int kx = p.x_begin; kx < p.x_end; ++kx) {
          const float* in =
              input + ((b * w.in_h + p.y0 + ky) * w.in_w + p.x0 + kx) * c;
          switch (kind) {
            case PoolKind::kAverage:
              for (int i = 0; i < c; ++i) acc[i] += in[i];
              break;
            case PoolKind::kMax:
              for (int i = 0; i < c; ++i) acc[i] = std::max(acc[i], in[i]);
              break;
            case PoolKind::kL2:
              for (int i = 0; i < c; ++i) acc[i] += in[i] * in[i];
              break;
          }
        }
      }
      float* out = output + (row * w.out_w + ox) * c;
      const float n = static_cast<float>(count);
      for (int i = 0; i < c; ++i) {
        float v = acc[i];
        if (kind == PoolKind::kAverage) v = v / n;
        if (kind == PoolKind::kL2) v = std::sqrt(v / n);
        out[i] = std::min(std::max(v, act_min), act_max);
      }
    }
  }
  return true;
}

// Integer AVERAGE_POOL_2D and MAX_POOL_2D (int8 or uint8; the output shares
// the input's scale and zero point). The average sums the stored values and
// divides rounding half away from zero, as LiteRT's reference does.
template <typename T>
bool PoolQuantized(PoolKind kind, const Window& w, const T* input,
                   int32_t act_min, int32_t act_max, T* output,
                   int64_t row_begin, int64_t row_end) {
  const int c = w.in_c;
  std::vector<int32_t> acc(c);
  for (int64_t row = row_begin; row < row_end; ++row) {
    const int64_t b = row / w.out_h;
    const int oy = static_cast<int>(row % w.out_h);
    for (int ox = 0; ox < w.out_w; ++ox) {
      const PoolWindow p = ClipPoolWindow(w, oy, ox);
      const int count = p.count();
      if (count == 0 && kind == PoolKind::kAverage) return false;
      std::fill(acc.begin(), acc.end(),
                kind == PoolKind::kMax ? std::numeric_limits<T>::lowest() : 0);
      for (int ky = p.y_begin; ky < p.y_end; ++ky) {
        for (int kx = p.x_begin; kx < p.x_end; ++kx) {
          const T* in =
              input + ((b * w.in_h + p.y0 + ky) * w.in_w + p.x0 + kx) * c;
          if (kind == PoolKind::kMax) {
            for (int i = 0; i < c; ++i)
              acc[i] = std::max(acc[i], static_cast<int32_t>(in[i]));
          } else {
            for (int i = 0; i < c; ++i) acc[i] += in[i];
          }
        }
      }
      T* out = output + (row * w.out_w + ox) * c;
      for (int i = 0; i < c; ++i) {
        int32_t v = acc[i];
        if (kind == PoolKind::kAverage) {
          v = v > 0 ? (v + count / 2) / count : (v - count / 2) / count;
        }
        out[i] = static_cast<T>(std::min(std::max(v, act_min), act_max));
      }
    }
  }
  return true;
}

}  // namespace k2l::runtime::reference
