// CONCATENATION, PACK, SPLIT, SPLIT_V and UNPACK: every input (or output) is
// [outer, axis_i, inner] and moves as outer runs of axis_i * inner elements.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

namespace k2l::runtime::reference {

// out = concat(ins) where input i contributes `axis_sizes[i] * inner`
// contiguous elements per outer step.
inline void Concatenate(const std::vector<const uint8_t*>& ins,
                        const std::vector<int64_t>& axis_sizes, int64_t outer,
                        int64_t inner, size_t elem, uint8_t* out) {
  for (int64_t k = 0; k < outer; ++k) {
    for (size_t i = 0; i < ins.size(); ++i) {
      const int64_t bytes = axis_sizes[i] * inner * static_cast<int64_t>(elem);
      if (bytes == 0) continue;
      std::memcpy(out, ins[i] + k * bytes, bytes);
      out += bytes;
    }
  }
}

// The inverse: outs[i] receives `axis_sizes[i] * inner` elements per step.
inline void Split(const uint8_t* in, const std::vector<int64_t>& axis_sizes,
                  int64_t outer, int64_t inner, size_t elem,
                  const std::vector<uint8_t*>& outs) {
  for (int64_t k = 0; k < outer; ++k) {
    for (size_t i = 0; i < outs.size(); ++i) {
      const int64_t bytes = axis_sizes[i] * inner * static_cast<int64_t>(elem);
      if (bytes == 0) continue;
      std::memcpy(outs[i] + k * bytes, in, bytes);
      in += bytes;
    }
  }
}

// LiteRT's uint8 concatenation of inputs with other scales: each value is
// mapped in float as round(q * s + b) + out_zp with s = in_scale / out_scale
// and b = -in_zp * s, rounding half away from zero, clamped to [0, 255].
inline void RequantizeUint8(const uint8_t* in, int64_t n, float in_scale,
                            int32_t in_zp, float out_scale, int32_t out_zp,
                            uint8_t* out) {
  const float inverse = 1.f / out_scale;
  const float scale = in_scale * inverse;
  const float bias = -in_zp * scale;
  for (int64_t i = 0; i < n; ++i) {
    const int32_t v =
        static_cast<int32_t>(std::round(in[i] * scale + bias)) + out_zp;
    out[i] = static_cast<uint8_t>(std::clamp(v, 0, 255));
  }
}

// Concatenation of uint8 inputs whose quantization differs from the output.
inline void ConcatenateUint8(const std::vector<const uint8_t*>& ins,
                             const std::vector<int64_t>& axis_sizes,
                             const std::vector<float>& scales,
                             const std::vector<int32_t>& zero_points,
                             int64_t outer, int64_t inner, float out_scale,
                             int32_t out_zp, uint8_t* out) {
  for (int64_t k = 0; k < outer; ++k) {
    for (size_t i = 0; i < ins.size(); ++i) {
      const int64_t n = axis_sizes[i] * inner;
      const uint8_t* src = ins[i] + k * n;
      if (scales[i] == out_scale && zero_points[i] == out_zp) {
        std::memcpy(out, src, n);
      } else {
        RequantizeUint8(src, n, scales[i], zero_points[i], out_scale, out_zp,
                        out);
      }
      out += n;
    }
  }
}

}  // namespace k2l::runtime::reference
