// TRANSPOSE_CONV (2-D, filter [out_c, k_h, k_w, in_c]) and the GEMM path
// shared with CONV_3D_TRANSPOSE. In the Window, "in" is the op's data input
// and "out" the larger output; each input pixel scatters into the output at
// in * stride - pad + k * dilation.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "runtime/reference/conv.h"
#include "runtime/reference/matmul.h"

namespace k2l::runtime::reference {

// Plain loops as LiteRT's reference, for batches [batch_begin, batch_end):
// zero the output, scatter every input value times every tap, then add the
// bias and clamp.
inline void TransposeConv2D(const Window& w, const float* input,
                            const float* filter, const float* bias,
                            float act_min, float act_max, float* output,
                            int64_t batch_begin, int64_t batch_end) {
  const int64_t out_batch = static_cast<int64_t>(w.out_h) * w.out_w * w.out_c;
  std::fill(output + batch_begin * out_batch, output + batch_end * out_batch,
            0.f);
  for (int64_t b = batch_begin; b < batch_end; ++b) {
    for (int iy = 0; iy < w.in_h; ++iy) {
      for (int ix = 0; ix < w.in_w; ++ix) {
        const float* in = input + ((b * w.in_h + iy) * w.in_w + ix) * w.in_c;
        for (int ic = 0; ic < w.in_c; ++ic) {
          for (int ky = 0; ky < w.k_h; ++ky) {
            const int y = iy * w.stride_h - w.pad_h + ky;
            if (y < 0 || y >= w.out_h) continue;
            for (int kx = 0; kx < w.k_w; ++kx) {
              const int x = ix * w.stride_w - w.pad_w + kx;
              if (x < 0 || x >= w.out_w) continue;
              float* out = output + ((b * w.out_h + y) * w.out_w + x) * w.out_c;
              for (int oc = 0; oc < w.out_c; ++oc) {
                out[oc] +=
                    in[ic] *
                    filter[((static_cast<int64_t>(oc) * w.k_h + ky) * w.k_w +
                            kx) *
                               w.in_c +
                           ic];
              }
            }
          }
        }
      }
    }
  }
  const int64_t pixels = (batch_end - batch_begin) * w.out_h * w.out_w;
  BiasAndClamp(pixels, w.out_c, bias, act_min, act_max,
               output + batch_begin * out_batch, w.out_c);
}

// [out_c, taps, in_c] -> [taps, out_c, in_c]: TRANSPOSE_CONV's OHWI filter
// in the tap-major layout the GEMM path takes (CONV_3D_TRANSPOSE's filter
// already has it).
inline void FilterOutMajorToTapMajor(const float* filter, int64_t out_c,
                                     int64_t taps, int64_t in_c, float* dst) {
  for (int64_t o = 0; o < out_c; ++o)
    for (int64_t t = 0; t < taps; ++t)
      std::copy(filter + (o * taps + t) * in_c,
                filter + (o * taps + t + 1) * in_c,
                dst + (t * out_c + o) * in_c);
}

// The GEMM path for batches [batch_begin, batch_end): per block of input
// pixels, cols = input [pixels, in_c] x filter^T ([taps * out_c, in_c],
// tap-major), scattered into the zeroed output; then bias and clamp.
inline void TransposeConvGemm(const Window& w, const float* input,
                              const float* filter_tap_major, const float* bias,
                              float act_min, float act_max, float* output,
                              int64_t batch_begin, int64_t batch_end) {
  const int64_t in_batch = static_cast<int64_t>(w.in_d) * w.in_h * w.in_w;
  const int64_t out_batch =
      static_cast<int64_t>(w.out_d) * w.out_h * w.out_w * w.out_c;
  const int64_t cols_per_pixel = w.taps() * w.out_c;
  const int64_t block =
      std::max<int64_t>(8, (1 << 16) / std::max<int64_t>(cols_per_pixel, 1));
  std::vector<float> cols(std::min(block, in_batch) * cols_per_pixel);
  for (int64_t b = batch_begin; b < batch_end; ++b) {
    float* out = output + b * out_batch;
    std::fill(out, out + out_batch, 0.f);
    for (int64_t p = 0; p < in_batch; p += block) {
      const int64_t rows = std::min(block, in_batch - p);
      const int64_t first = b * in_batch + p;
      Gemm(false, true, rows, cols_per_pixel, w.in_c, input + first * w.in_c,
           w.in_c, filter_tap_major, w.in_c, cols.data(), cols_per_pixel);
      Col2ImAdd(w, cols.data(), first, rows, output);
    }
    BiasAndClamp(out_batch / std::max(w.out_c, 1), w.out_c, bias, act_min,
                 act_max, out, w.out_c);
  }
}

}  // namespace k2l::runtime::reference
