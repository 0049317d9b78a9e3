// DEPTHWISE_CONV_2D: filter [1, k_h, k_w, in_c * multiplier]; output
// channel oc reads input channel oc / multiplier.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "runtime/reference/conv.h"

namespace k2l::runtime::reference {

// Output rows (batch * out_h + y) in [row_begin, row_end). The sum for one
// output starts at zero, visits the taps in (ky, kx) order and adds the bias
// last, as LiteRT's reference does; the channel loop is innermost so it
// vectorizes.
inline void DepthwiseConv2D(const Window& w, const float* input,
                            const float* filter, const float* bias,
                            float act_min, float act_max, float* output,
                            int64_t row_begin, int64_t row_end) {
  const int mult = w.out_c / w.in_c;
  for (int64_t row = row_begin; row < row_end; ++row) {
    const int64_t b = row / w.out_h;
    const int oy = static_cast<int>(row % w.out_h);
    const int y0 = oy * w.stride_h - w.pad_h;
    for (int ox = 0; ox < w.out_w; ++ox) {
      const int x0 = ox * w.stride_w - w.pad_w;
      float* out = output + ((row * w.out_w) + ox) * w.out_c;
      std::fill(out, out + w.out_c, 0.f);
      for (int ky = 0; ky < w.k_h; ++ky) {
        const int y = y0 + ky * w.dil_h;
        if (y < 0 || y >= w.in_h) continue;
        for (int kx = 0; kx < w.k_w; ++kx) {
          const int x = x0 + kx * w.dil_w;
          if (x < 0 || x >= w.in_w) continue;
          const float* in = input + ((b * w.in_h + y) * w.in_w + x) * w.in_c;
          const float* f = filter + (ky * w.k_w + kx) * w.out_c;
          if (mult == 1) {
            for (int c = 0; c < w.out_c; ++c) out[c] += in[c] * f[c];
          } else {
            for (int ic = 0; ic < w.in_c; ++ic) {
              for (int m = 0; m < mult; ++m) {
                const int oc = ic * mult + m;
                out[oc] += in[ic] * f[oc];
              }
            }
          }
        }
      }
      for (int c = 0; c < w.out_c; ++c) {
        const float v = out[c] + (bias != nullptr ? bias[c] : 0.f);
        out[c] = std::min(std::max(v, act_min), act_max);
      }
    }
  }
}

// Integer DEPTHWISE_CONV_2D (int8 or uint8), LiteRT's reference math (see
// Conv2DQuantized). Output rows [row_begin, row_end).
template <typename T>
void DepthwiseConv2DQuantized(const Window& w, const T* input, const T* filter,
                              const int32_t* bias, const QuantizedOutput& q,
                              T* output, int64_t row_begin, int64_t row_end) {
  const int mult = w.out_c / w.in_c;
  std::vector<int32_t> acc(w.out_c);
  for (int64_t row = row_begin; row < row_end; ++row) {
    const int64_t b = row / w.out_h;
    const int oy = static_cast<int>(row % w.out_h);
    const int y0 = oy * w.stride_h - w.pad_h;
    for (int ox = 0; ox < w.out_w; ++ox) {
      const int x0 = ox * w.stride_w - w.pad_w;
      std::fill(acc.begin(), acc.end(), 0);
      for (int ky = 0; ky < w.k_h; ++ky) {
        const int y = y0 + ky * w.dil_h;
        if (y < 0 || y >= w.in_h) continue;
        for (int kx = 0; kx < w.k_w; ++kx) {
          const int x = x0 + kx * w.dil_w;
          if (x < 0 || x >= w.in_w) continue;
          const T* in = input + ((b * w.in_h + y) * w.in_w + x) * w.in_c;
          const T* f = filter + (ky * w.k_w + kx) * w.out_c;
          for (int oc = 0; oc < w.out_c; ++oc) {
            acc[oc] += (static_cast<int32_t>(f[oc]) + q.filter_offset) *
                       (static_cast<int32_t>(in[oc / mult]) + q.input_offset);
          }
        }
      }
      T* out = output + ((row * w.out_w) + ox) * w.out_c;
      for (int oc = 0; oc < w.out_c; ++oc) {
        const int32_t total = acc[oc] + (bias != nullptr ? bias[oc] : 0);
        out[oc] = static_cast<T>(q.Apply(total, oc));
      }
    }
  }
}

// Dynamic-range DEPTHWISE_CONV_2D (see Conv2DHybrid): int32 sums of filter *
// (q - offset) over the window, scaled back per batch and channel. Output
// rows [row_begin, row_end).
inline void DepthwiseConv2DHybrid(const Window& w, const int8_t* q,
                                  const HybridRow* row, const int8_t* filter,
                                  const float* channel_scale, const float* bias,
                                  float act_min, float act_max, float* output,
                                  int64_t row_begin, int64_t row_end) {
  const int mult = w.out_c / w.in_c;
  std::vector<int32_t> acc(w.out_c);
  for (int64_t r = row_begin; r < row_end; ++r) {
    const int64_t b = r / w.out_h;
    const int32_t offset = row[b].offset;
    const int oy = static_cast<int>(r % w.out_h);
    const int y0 = oy * w.stride_h - w.pad_h;
    for (int ox = 0; ox < w.out_w; ++ox) {
      const int x0 = ox * w.stride_w - w.pad_w;
      std::fill(acc.begin(), acc.end(), 0);
      for (int ky = 0; ky < w.k_h; ++ky) {
        const int y = y0 + ky * w.dil_h;
        if (y < 0 || y >= w.in_h) continue;
        for (int kx = 0; kx < w.k_w; ++kx) {
          const int x = x0 + kx * w.dil_w;
          if (x < 0 || x >= w.in_w) continue;
          const int8_t* in = q + ((b * w.in_h + y) * w.in_w + x) * w.in_c;
          const int8_t* f = filter + (ky * w.k_w + kx) * w.out_c;
          for (int oc = 0; oc < w.out_c; ++oc) {
            acc[oc] += static_cast<int32_t>(f[oc]) *
                       (static_cast<int32_t>(in[oc / mult]) - offset);
          }
        }
      }
      float* out = output + ((r * w.out_w) + ox) * w.out_c;
      for (int oc = 0; oc < w.out_c; ++oc) {
        out[oc] = HybridOutput(acc[oc], row[b].scale, channel_scale, oc, bias,
                               act_min, act_max);
      }
    }
  }
}

}  // namespace k2l::runtime::reference
