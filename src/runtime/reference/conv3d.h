// CONV_3D (filter [k_d, k_h, k_w, in_c, out_c]) and CONV_3D_TRANSPOSE
// (filter [k_d, k_h, k_w, out_c, in_c]) over NDHWC data, plain loops as
// LiteRT's reference computes them.
#pragma once

#include <algorithm>
#include <cstdint>

#include "runtime/reference/conv.h"
#include "runtime/reference/matmul.h"

namespace k2l::runtime::reference {

// Output rows (over batch, out_d, out_h) in [row_begin, row_end).
inline void Conv3D(const Window& w, const float* input, const float* filter,
                   const float* bias, float act_min, float act_max,
                   float* output, int64_t row_begin, int64_t row_end) {
  for (int64_t row = row_begin; row < row_end; ++row) {
    const int oy = static_cast<int>(row % w.out_h);
    const int od = static_cast<int>((row / w.out_h) % w.out_d);
    const int64_t b = row / w.out_h / w.out_d;
    for (int ox = 0; ox < w.out_w; ++ox) {
      float* out = output + (row * w.out_w + ox) * w.out_c;
      for (int oc = 0; oc < w.out_c; ++oc) {
        float total = 0.f;
        for (int kd = 0; kd < w.k_d; ++kd) {
          const int z = od * w.stride_d - w.pad_d + kd * w.dil_d;
          if (z < 0 || z >= w.in_d) continue;
          for (int ky = 0; ky < w.k_h; ++ky) {
            const int y = oy * w.stride_h - w.pad_h + ky * w.dil_h;
            if (y < 0 || y >= w.in_h) continue;
            for (int kx = 0; kx < w.k_w; ++kx) {
              const int x = ox * w.stride_w - w.pad_w + kx * w.dil_w;
              if (x < 0 || x >= w.in_w) continue;
              const float* in =
                  input +
                  (((b * w.in_d + z) * w.in_h + y) * w.in_w + x) * w.in_c;
              const float* f =
                  filter +
                  (((static_cast<int64_t>(kd) * w.k_h + ky) * w.k_w + kx) *
                   w.in_c) *
                      w.out_c +
                  oc;
              for (int ic = 0; ic < w.in_c; ++ic)
                total += in[ic] * f[static_cast<int64_t>(ic) * w.out_c];
            }
          }
        }
        const float v = total + (bias != nullptr ? bias[oc] : 0.f);
        out[oc] = std::min(std::max(v, act_min), act_max);
      }
    }
  }
}

// Batches [batch_begin, batch_end): zero, scatter, then bias and clamp.
inline void Conv3DTranspose(const Window& w, const float* input,
                            const float* filter, const float* bias,
                            float act_min, float act_max, float* output,
                            int64_t batch_begin, int64_t batch_end) {
  const int64_t out_batch =
      static_cast<int64_t>(w.out_d) * w.out_h * w.out_w * w.out_c;
  std::fill(output + batch_begin * out_batch, output + batch_end * out_batch,
            0.f);
  for (int64_t b = batch_begin; b < batch_end; ++b) {
    for (int iz = 0; iz < w.in_d; ++iz) {
      for (int iy = 0; iy < w.in_h; ++iy) {
        for (int ix = 0; ix < w.in_w; ++ix) {
          const float* in =
              input +
              (((b * w.in_d + iz) * w.in_h + iy) * w.in_w + ix) * w.in_c;
          for (int kd = 0; kd < w.k_d; ++kd) {
            const int z = iz * w.stride_d - w.pad_d + kd * w.dil_d;
            if (z < 0 || z >= w.out_d) continue;
            for (int ky = 0; ky < w.k_h; ++ky) {
              const int y = iy * w.stride_h - w.pad_h + ky * w.dil_h;
              if (y < 0 || y >= w.out_h) continue;
              for (int kx = 0; kx < w.k_w; ++kx) {
                const int x = ix * w.stride_w - w.pad_w + kx * w.dil_w;
                if (x < 0 || x >= w.out_w) continue;
                float* out =
                    output +
                    (((b * w.out_d + z) * w.out_h + y) * w.out_w + x) * w.out_c;
                const float* f =
                    filter +
                    ((static_cast<int64_t>(kd) * w.k_h + ky) * w.k_w + kx) *
                        w.out_c * w.in_c;
                for (int oc = 0; oc < w.out_c; ++oc)
                  for (int ic = 0; ic < w.in_c; ++ic)
                    out[oc] += in[ic] * f[oc * w.in_c + ic];
              }
            }
          }
        }
      }
    }
  }
  const int64_t pixels = (batch_end - batch_begin) * out_batch / w.out_c;
  BiasAndClamp(pixels, w.out_c, bias, act_min, act_max,
               output + batch_begin * out_batch, w.out_c);
}

}  // namespace k2l::runtime::reference
