// Dynamic-range ("hybrid") CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED:
// the float input is quantized to int8 on the fly (one scale, and for the
// asymmetric form one zero point, per batch row), multiplied by the int8
// weights in int32, and scaled back to float. The rounding follows LiteRT's
// SymmetricQuantizeFloats and AsymmetricQuantizeFloats (portable forms).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace k2l::runtime::reference {

// One quantized row: value ~= scale * (q - offset).
struct HybridRow {
  float scale = 1.f;
  int32_t offset = 0;
};

// q = round(v * 127 / max|v|) clamped to [-127, 127], in float arithmetic;
// an all-zero row gets scale 1.
inline HybridRow SymmetricQuantizeFloats(const float* v, int64_t n, int8_t* q) {
  HybridRow r;
  if (n <= 0) return r;
  const auto [lo, hi] = std::minmax_element(v, v + n);
  const float range = std::max(std::abs(*lo), std::abs(*hi));
  if (range == 0.f) {
    std::fill(q, q + n, int8_t{0});
    return r;
  }
  r.scale = range / 127.f;
  const float inv = 127.f / range;
  for (int64_t i = 0; i < n; ++i) {
    const float p = v[i] * inv;
    const int32_t k = static_cast<int32_t>(std::round(p));
    q[i] = static_cast<int8_t>(std::min(127, std::max(-127, k)));
  }
  return r;
}

// The range [min(0, min v), max(0, max v)] mapped onto [-128, 127]: the scale
// and the zero point (the nearer of the two candidate zero points, rounded
// and clamped) in double, then q = round(offset + v / scale) in float.
inline HybridRow AsymmetricQuantizeFloats(const float* v, int64_t n,
                                          int8_t* q) {
  HybridRow r;
  if (n <= 0) return r;
  const auto [lo, hi] = std::minmax_element(v, v + n);
  const double rmin = std::min(0.f, *lo);
  const double rmax = std::max(0.f, *hi);
  if (rmin == rmax) {
    std::fill(q, q + n, int8_t{0});
    return r;
  }
  const double qmin = -128.0, qmax = 127.0;
  const double scale = (rmax - rmin) / (qmax - qmin);
  const double zp_from_min = qmin - rmin / scale;
  const double zp_from_max = qmax - rmax / scale;
  const double err_min = std::abs(qmin) + std::abs(rmin / scale);
  const double err_max = std::abs(qmax) + std::abs(rmax / scale);
  const double zp = err_min < err_max ? zp_from_min : zp_from_max;
  int32_t offset = 0;
  if (zp <= qmin) {
    offset = -128;
  } else if (zp >= qmax) {
    offset = 127;
  } else {
    offset = static_cast<int32_t>(std::round(zp));
  }
  r.scale = static_cast<float>(scale);
  r.offset = offset;
  const float inv = static_cast<float>(1.0 / r.scale);
  const float foffset = static_cast<float>(offset);
  for (int64_t i = 0; i < n; ++i) {
    const float p = v[i] * inv;
    const int32_t k = static_cast<int32_t>(std::round(foffset + p));
    q[i] = static_cast<int8_t>(std::min(127, std::max(-128, k)));
  }
  return r;
}

// Quantizes `rows` rows of `size` values each.
inline void QuantizeHybridRows(const float* v, int64_t rows, int64_t size,
                               bool asymmetric, int8_t* q, HybridRow* out) {
  for (int64_t b = 0; b < rows; ++b) {
    out[b] = asymmetric
                 ? AsymmetricQuantizeFloats(v + b * size, size, q + b * size)
                 : SymmetricQuantizeFloats(v + b * size, size, q + b * size);
  }
}

// The float result of one int32 sum: bias + acc * (row scale * channel
// scale), then the clamp. `channel_scale` null: the weights' one scale is
// already folded into the row scale (LiteRT's per-tensor form).
inline float HybridOutput(int32_t acc, float row_scale,
                          const float* channel_scale, int64_t channel,
                          const float* bias, float act_min, float act_max) {
  float scale = row_scale;
  if (channel_scale != nullptr) scale *= channel_scale[channel];
  float v = static_cast<float>(acc) * scale;
  if (bias != nullptr) v = bias[channel] + v;
  return std::min(std::max(v, act_min), act_max);
}

}  // namespace k2l::runtime::reference
