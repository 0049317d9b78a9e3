// Window arithmetic shared by the convolutions and pools (output size and
// SAME/VALID padding exactly as LiteRT computes them), the plain-loop
// CONV_2D reference, and the im2col/col2im helpers the GEMM fast paths use.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "runtime/reference/hybrid.h"
#include "runtime/reference/matmul.h"
#include "runtime/reference/quantized_util.h"

namespace k2l::runtime::reference {

// The output length of a sliding window over `in` values, as LiteRT's
// ComputeOutSize (TensorFlow's GetWindowedOutputSize): SAME gives
// ceil(in / stride), VALID floor((in - effective_filter) / stride) + 1 with
// C++'s truncating division. -1 marks invalid arguments or a negative size.
inline int64_t WindowOutputSize(bool same, int64_t in, int64_t filter,
                                int64_t stride, int64_t dilation) {
  if (in < 0 || filter <= 0 || stride <= 0 || dilation <= 0) return -1;
  int64_t effective = (filter - 1) * dilation + 1;
  int64_t v =
      same ? (in + stride - 1) / stride : (in + stride - effective) / stride;
  return v < 0 ? -1 : v;
}

// The padding before the first element: half the total padding, rounded
// down (the odd element goes after the last one), as LiteRT's
// ComputePaddingWithOffset. VALID windows give 0 since total <= 0.
inline int64_t WindowPaddingBefore(int64_t stride, int64_t dilation, int64_t in,
                                   int64_t filter, int64_t out) {
  int64_t effective = (filter - 1) * dilation + 1;
  int64_t total = (out - 1) * stride + effective - in;
  return total > 0 ? total / 2 : 0;
}

// The geometry of a convolution-like op over NDHWC data. 2-D ops use depth
// 1 throughout. For the transposed convolutions "in" is the small tensor
// (the op's data input) and "out" the large one.
struct Window {
  int batches = 1;
  int in_d = 1, in_h = 1, in_w = 1, in_c = 1;
  int out_d = 1, out_h = 1, out_w = 1, out_c = 1;
  int k_d = 1, k_h = 1, k_w = 1;
  int stride_d = 1, stride_h = 1, stride_w = 1;
  int dil_d = 1, dil_h = 1, dil_w = 1;
  int pad_d = 0, pad_h = 0, pad_w = 0;
  int groups = 1;

  int64_t in_pixels() const {
    return static_cast<int64_t>(batches) * in_d * in_h * in_w;
  }
  int64_t out_pixels() const {
    return static_cast<int64_t>(batches) * out_d * out_h * out_w;
  }
  int64_t taps() const { return static_cast<int64_t>(k_d) * k_h * k_w; }
  bool operator==(const Window&) const = default;
};

// Sets w's output sizes and leading padding from its input sizes, kernel,
// strides and dilations; false when a VALID window does not fit (or an
// argument is not positive).
inline bool ResolveWindow(bool same, Window* w) {
  const int64_t od =
      WindowOutputSize(same, w->in_d, w->k_d, w->stride_d, w->dil_d);
  const int64_t oh =
      WindowOutputSize(same, w->in_h, w->k_h, w->stride_h, w->dil_h);
  const int64_t ow =
      WindowOutputSize(same, w->in_w, w->k_w, w->stride_w, w->dil_w);
  if (od < 0 || oh < 0 || ow < 0) return false;
  w->out_d = static_cast<int>(od);
  w->out_h = static_cast<int>(oh);
  w->out_w = static_cast<int>(ow);
  w->pad_d = static_cast<int>(
      WindowPaddingBefore(w->stride_d, w->dil_d, w->in_d, w->k_d, od));
  w->pad_h = static_cast<int>(
      WindowPaddingBefore(w->stride_h, w->dil_h, w->in_h, w->k_h, oh));
  w->pad_w = static_cast<int>(
      WindowPaddingBefore(w->stride_w, w->dil_w, w->in_w, w->k_w, ow));
  return true;
}

// CONV_2D, plain loops as LiteRT's reference: filter [out_c, k_h, k_w,
// in_c / groups], bias [out_c] or null, output rows (batch * out_h + y) in
// [row_begin, row_end). Float accumulation, bias added last, then the clamp.
inline void Conv2D(const Window& w, const float* input, const float* filter,
                   const float* bias, float act_min, float act_max,
                   float* output, int64_t row_begin, int64_t row_end) {
  const int filter_in_c = w.in_c / w.groups;
  const int per_group = w.out_c / w.groups;
  for (int64_t row = row_begin; row < row_end; ++row) {
    const int b = static_cast<int>(row / w.out_h);
    const int oy = static_cast<int>(row % w.out_h);
    const int y0 = oy * w.stride_h - w.pad_h;
    for (int ox = 0; ox < w.out_w; ++ox) {
      const int x0 = ox * w.stride_w - w.pad_w;
      float* out = output + ((row * w.out_w) + ox) * w.out_c;
      for (int oc = 0; oc < w.out_c; ++oc) {
        const int group = oc / per_group;
        float total = 0.f;
        for (int ky = 0; ky < w.k_h; ++ky) {
          const int y = y0 + ky * w.dil_h;
          if (y < 0 || y >= w.in_h) continue;
          for (int kx = 0; kx < w.k_w; ++kx) {
            const int x = x0 + kx * w.dil_w;
            if (x < 0 || x >= w.in_w) continue;
            const float* in =
                input +
                ((static_cast<int64_t>(b) * w.in_h + y) * w.in_w + x) * w.in_c +
                group * filter_in_c;
            const float* f =
                filter +
                ((static_cast<int64_t>(oc) * w.k_h + ky) * w.k_w + kx) *
                    filter_in_c;
            for (int ic = 0; ic < filter_in_c; ++ic) total += in[ic] * f[ic];
          }
        }
        const float v = total + (bias != nullptr ? bias[oc] : 0.f);
        out[oc] = std::min(std::max(v, act_min), act_max);
      }
    }
  }
}

// Writes the patches of output pixels [first, first + count) (pixel index
// over batch, out_d, out_h, out_w) as rows of `patches`: each row holds
// k_d * k_h * k_w * (in_c / groups) values of group `group` in (kd, ky, kx,
// c) order, zero where the window leaves the input.
template <typename T>
void Im2Col(const Window& w, int group, const T* input, int64_t first,
            int64_t count, T zero, T* patches) {
  const int cg = w.in_c / w.groups;
  const int64_t row_len = w.taps() * cg;
  for (int64_t i = 0; i < count; ++i) {
    int64_t p = first + i;
    const int ox = static_cast<int>(p % w.out_w);
    p /= w.out_w;
    const int oy = static_cast<int>(p % w.out_h);
    p /= w.out_h;
    const int od = static_cast<int>(p % w.out_d);
    const int64_t b = p / w.out_d;
    T* dst = patches + i * row_len;
    for (int kd = 0; kd < w.k_d; ++kd) {
      const int z = od * w.stride_d - w.pad_d + kd * w.dil_d;
      for (int ky = 0; ky < w.k_h; ++ky) {
        const int y = oy * w.stride_h - w.pad_h + ky * w.dil_h;
        for (int kx = 0; kx < w.k_w; ++kx, dst += cg) {
          const int x = ox * w.stride_w - w.pad_w + kx * w.dil_w;
          if (z < 0 || z >= w.in_d || y < 0 || y >= w.in_h || x < 0 ||
              x >= w.in_w) {
            std::fill(dst, dst + cg, zero);
            continue;
          }
          const T* src =
              input + (((b * w.in_d + z) * w.in_h + y) * w.in_w + x) * w.in_c +
              static_cast<int64_t>(group) * cg;
          std::memcpy(dst, src, sizeof(T) * cg);
        }
      }
    }
  }
}

// The transposed convolutions' scatter: row i of `cols` holds, for input
// pixel first + i, k_d * k_h * k_w * out_c values in (kd, ky, kx, oc) order;
// each is added to the output pixel it lands on (in * stride - pad + k *
// dilation), skipping those outside the output.
inline void Col2ImAdd(const Window& w, const float* cols, int64_t first,
                      int64_t count, float* output) {
  const int oc = w.out_c;
  for (int64_t i = 0; i < count; ++i) {
    int64_t p = first + i;
    const int ix = static_cast<int>(p % w.in_w);
    p /= w.in_w;
    const int iy = static_cast<int>(p % w.in_h);
    p /= w.in_h;
    const int id = static_cast<int>(p % w.in_d);
    const int64_t b = p / w.in_d;
    const float* src = cols + i * w.taps() * oc;
    for (int kd = 0; kd < w.k_d; ++kd) {
      const int z = id * w.stride_d - w.pad_d + kd * w.dil_d;
      for (int ky = 0; ky < w.k_h; ++ky) {
        const int y = iy * w.stride_h - w.pad_h + ky * w.dil_h;
        for (int kx = 0; kx < w.k_w; ++kx, src += oc) {
          const int x = ix * w.stride_w - w.pad_w + kx * w.dil_w;
          if (z < 0 || z >= w.out_d || y < 0 || y >= w.out_h || x < 0 ||
              x >= w.out_w)
            continue;
          float* dst =
              output + (((b * w.out_d + z) * w.out_h + y) * w.out_w + x) * oc;
          for (int c = 0; c < oc; ++c) dst[c] += src[c];
        }
      }
    }
  }
}

// The float fast path of CONV_2D and CONV_3D for output pixels [first,
// first + count): im2col of a block of pixels, then one GEMM per group.
// The filter is [out_c, K] (OHWI, `filter_out_major`) or [K, out_c]
// (CONV_3D's DHWIO), K = taps * in_c / groups. A 1x1, stride 1, unpadded
// window reads the input directly.
inline void ConvGemm(const Window& w, const float* input, const float* filter,
                     bool filter_out_major, const float* bias, float act_min,
                     float act_max, float* output, int64_t first,
                     int64_t count) {
  const int cg = w.in_c / w.groups;
  const int per_group = w.out_c / w.groups;
  const int64_t k = w.taps() * cg;
  const bool direct = w.taps() == 1 && w.groups == 1 && w.stride_d == 1 &&
                      w.stride_h == 1 && w.stride_w == 1 && w.pad_d == 0 &&
                      w.pad_h == 0 && w.pad_w == 0 && w.in_d == w.out_d &&
                      w.in_h == w.out_h && w.in_w == w.out_w;
  const int64_t block =
      direct ? count
             : std::max<int64_t>(8, (1 << 16) / std::max<int64_t>(k, 1));
  std::vector<float> patches(direct ? 0 : std::min(block, count) * k);
  for (int64_t start = 0; start < count; start += block) {
    const int64_t rows = std::min(block, count - start);
    float* out = output + (first + start) * w.out_c;
    for (int g = 0; g < w.groups; ++g) {
      const float* a = input + (first + start) * w.in_c;
      int64_t lda = w.in_c;
      if (!direct) {
        Im2Col(w, g, input, first + start, rows, 0.f, patches.data());
        a = patches.data();
        lda = k;
      }
      const float* b = filter_out_major
                           ? filter + static_cast<int64_t>(g) * per_group * k
                           : filter + static_cast<int64_t>(g) * per_group;
      Gemm(false, filter_out_major, rows, per_group, k, a, lda, b,
           filter_out_major ? k : w.out_c, out + g * per_group, w.out_c);
    }
    BiasAndClamp(rows, w.out_c, bias, act_min, act_max, out, w.out_c);
  }
}

// Integer CONV_2D (int8 or uint8), LiteRT's reference math: an int32 sum of
// (filter + filter_offset) * (input + input_offset) over the window (padding
// contributes nothing, i.e. the input's zero point), plus the bias, then
// requantized per output channel. Output rows [row_begin, row_end).
template <typename T>
void Conv2DQuantized(const Window& w, const T* input, const T* filter,
                     const int32_t* bias, const QuantizedOutput& q, T* output,
                     int64_t row_begin, int64_t row_end) {
  const int filter_in_c = w.in_c / w.groups;
  const int per_group = w.out_c / w.groups;
  for (int64_t row = row_begin; row < row_end; ++row) {
    const int64_t b = row / w.out_h;
    const int oy = static_cast<int>(row % w.out_h);
    const int y0 = oy * w.stride_h - w.pad_h;
    for (int ox = 0; ox < w.out_w; ++ox) {
      const int x0 = ox * w.stride_w - w.pad_w;
      T* out = output + ((row * w.out_w) + ox) * w.out_c;
      for (int oc = 0; oc < w.out_c; ++oc) {
        const int group = oc / per_group;
        int32_t acc = 0;
        for (int ky = 0; ky < w.k_h; ++ky) {
          const int y = y0 + ky * w.dil_h;
          if (y < 0 || y >= w.in_h) continue;
          for (int kx = 0; kx < w.k_w; ++kx) {
            const int x = x0 + kx * w.dil_w;
            if (x < 0 || x >= w.in_w) continue;
            const T* in = input + ((b * w.in_h + y) * w.in_w + x) * w.in_c +
                          group * filter_in_c;
            const T* f =
                filter +
                ((static_cast<int64_t>(oc) * w.k_h + ky) * w.k_w + kx) *
                    filter_in_c;
            for (int ic = 0; ic < filter_in_c; ++ic) {
              acc += (static_cast<int32_t>(f[ic]) + q.filter_offset) *
                     (static_cast<int32_t>(in[ic]) + q.input_offset);
            }
          }
        }
        if (bias != nullptr) acc += bias[oc];
        out[oc] = static_cast<T>(q.Apply(acc, oc));
      }
    }
  }
}

// Dynamic-range CONV_2D: `q` is the input quantized per batch (`row[b]` its
// scale and zero point); the int32 sum of filter * (q - offset) over the
// window (padding contributes nothing) is scaled back per batch and channel
// (see HybridOutput). Output rows [row_begin, row_end).
inline void Conv2DHybrid(const Window& w, const int8_t* q, const HybridRow* row,
                         const int8_t* filter, const float* channel_scale,
                         const float* bias, float act_min, float act_max,
                         float* output, int64_t row_begin, int64_t row_end) {
  const int filter_in_c = w.in_c / w.groups;
  const int per_group = w.out_c / w.groups;
  for (int64_t r = row_begin; r < row_end; ++r) {
    const int64_t b = r / w.out_h;
    const int32_t offset = row[b].offset;
    const int oy = static_cast<int>(r % w.out_h);
    const int y0 = oy * w.stride_h - w.pad_h;
    for (int ox = 0; ox < w.out_w; ++ox) {
      const int x0 = ox * w.stride_w - w.pad_w;
      float* out = output + ((r * w.out_w) + ox) * w.out_c;
      for (int oc = 0; oc < w.out_c; ++oc) {
        const int group = oc / per_group;
        int32_t acc = 0;
        for (int ky = 0; ky < w.k_h; ++ky) {
          const int y = y0 + ky * w.dil_h;
          if (y < 0 || y >= w.in_h) continue;
          for (int kx = 0; kx < w.k_w; ++kx) {
            const int x = x0 + kx * w.dil_w;
            if (x < 0 || x >= w.in_w) continue;
            const int8_t* in = q + ((b * w.in_h + y) * w.in_w + x) * w.in_c +
                               group * filter_in_c;
            const int8_t* f =
                filter +
                ((static_cast<int64_t>(oc) * w.k_h + ky) * w.k_w + kx) *
                    filter_in_c;
            for (int ic = 0; ic < filter_in_c; ++ic) {
              acc += static_cast<int32_t>(f[ic]) *
                     (static_cast<int32_t>(in[ic]) - offset);
            }
          }
        }
        out[oc] = HybridOutput(acc, row[b].scale, channel_scale, oc, bias,
                               act_min, act_max);
      }
    }
  }
}

}  // namespace k2l::runtime::reference
