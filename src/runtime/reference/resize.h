// RESIZE_BILINEAR and RESIZE_NEAREST_NEIGHBOR on NHWC tensors, with
// LiteRT's arithmetic: float coordinates for float and uint8, 10-bit fixed
// point for int8 and int16, and the same corner rules.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

namespace k2l::runtime::reference {

struct ResizeShape {
  int64_t batch, in_h, in_w, depth, out_h, out_w;
};

inline float ResizeScale(int64_t in, int64_t out, bool align_corners) {
  return (align_corners && out > 1)
             ? static_cast<float>(in - 1) / static_cast<float>(out - 1)
             : static_cast<float>(in) / static_cast<float>(out);
}

// The source coordinate of output `v` and its two neighbours.
inline void BilinearCoord(int64_t v, float scale, bool half_pixel,
                          int64_t in_size, float* coord, int64_t* lo,
                          int64_t* hi) {
  *coord = half_pixel ? (static_cast<float>(v) + 0.5f) * scale - 0.5f
                      : static_cast<float>(v) * scale;
  *lo = std::max<int64_t>(static_cast<int32_t>(std::floor(*coord)), 0);
  *hi = std::min<int64_t>(static_cast<int32_t>(std::ceil(*coord)), in_size - 1);
}

// Float: the four corner products are accumulated in LiteRT's order; an
// exact 2x upscale (no corner options) uses its closed form.
inline void ResizeBilinearFloat(const ResizeShape& s, bool align_corners,
                                bool half_pixel, const float* in, float* out) {
  const int64_t row = s.in_w * s.depth, img = s.in_h * row;
  if (!align_corners && !half_pixel && s.out_h == 2 * s.in_h &&
      s.out_w == 2 * s.in_w) {
    const int64_t orow = s.out_w * s.depth, oimg = s.out_h * orow;
    for (int64_t b = 0; b < s.batch; ++b) {
      for (int64_t y0 = 0; y0 < s.in_h; ++y0) {
        const int64_t y1 = std::min(y0 + 1, s.in_h - 1);
        for (int64_t x0 = 0; x0 < s.in_w; ++x0) {
          const int64_t x1 = std::min(x0 + 1, s.in_w - 1);
          const float* p = in + b * img;
          float* q = out + b * oimg + 2 * y0 * orow + 2 * x0 * s.depth;
          for (int64_t c = 0; c < s.depth; ++c) {
            const float a = p[y0 * row + x0 * s.depth + c];
            const float r = p[y0 * row + x1 * s.depth + c];
            const float d = p[y1 * row + x0 * s.depth + c];
            const float e = p[y1 * row + x1 * s.depth + c];
            q[c] = a;
            q[s.depth + c] = (a + r) / 2;
            const float left = (a + d) / 2;
            q[orow + c] = left;
            q[orow + s.depth + c] = (left + (r + e) / 2) / 2;
          }
        }
      }
    }
    return;
  }
  const float hs = ResizeScale(s.in_h, s.out_h, align_corners);
  const float ws = ResizeScale(s.in_w, s.out_w, align_corners);
  for (int64_t b = 0; b < s.batch; ++b) {
    const float* p = in + b * img;
    for (int64_t y = 0; y < s.out_h; ++y) {
      float fy;
      int64_t y0, y1;
      BilinearCoord(y, hs, half_pixel, s.in_h, &fy, &y0, &y1);
      for (int64_t x = 0; x < s.out_w; ++x) {
        float fx;
        int64_t x0, x1;
        BilinearCoord(x, ws, half_pixel, s.in_w, &fx, &x0, &x1);
        const float dy = fy - y0, dx = fx - x0;
        const float w[4] = {(1 - dy) * (1 - dx), (1 - dy) * dx, dy * (1 - dx),
                            dy * dx};
        const float* src[4] = {
            p + y0 * row + x0 * s.depth, p + y0 * row + x1 * s.depth,
            p + y1 * row + x0 * s.depth, p + y1 * row + x1 * s.depth};
        for (int64_t c = 0; c < s.depth; ++c) {
          float acc = 0.f;
          for (int k = 0; k < 4; ++k) acc += src[k][c] * w[k];
          out[c] = acc;
        }
        out += s.depth;
      }
    }
  }
}

// uint8: float weights, then +0.5 and truncation.
inline void ResizeBilinearUint8(const ResizeShape& s, bool align_corners,
                                bool half_pixel, const uint8_t* in,
                                uint8_t* out) {
  const int64_t row = s.in_w * s.depth, img = s.in_h * row;
  const float hs = ResizeScale(s.in_h, s.out_h, align_corners);
  const float ws = ResizeScale(s.in_w, s.out_w, align_corners);
  for (int64_t b = 0; b < s.batch; ++b) {
    const uint8_t* p = in + b * img;
    for (int64_t y = 0; y < s.out_h; ++y) {
      float fy;
      int64_t y0, y1;
      BilinearCoord(y, hs, half_pixel, s.in_h, &fy, &y0, &y1);
      for (int64_t x = 0; x < s.out_w; ++x) {
        float fx;
        int64_t x0, x1;
        BilinearCoord(x, ws, half_pixel, s.in_w, &fx, &x0, &x1);
        const float dy = fy - y0, dx = fx - x0;
        const float w[4] = {(1 - dy) * (1 - dx), (1 - dy) * dx, dy * (1 - dx),
                            dy * dx};
        const int64_t o[4] = {y0 * row + x0 * s.depth, y0 * row + x1 * s.depth,
                              y1 * row + x0 * s.depth, y1 * row + x1 * s.depth};
        for (int64_t c = 0; c < s.depth; ++c) {
          out[c] = static_cast<uint8_t>(
              p[o[0] + c] * w[0] + p[o[1] + c] * w[1] + p[o[2] + c] * w[2] +
              p[o[3] + c] * w[3] + 0.5f);
        }
        out += s.depth;
      }
    }
  }
}

// int8 / int16: coordinates in 1/1024 units, products in int64, rounded
// half away from zero.
template <typename T>
void ResizeBilinearInteger(const ResizeShape& s, bool align_corners,
                           bool half_pixel, const T* in, T* out) {
  auto scale10 = [&](int64_t in_size, int64_t out_size) {
    if (align_corners && out_size > 1)
      return ((1 << 10) * (in_size - 1) + (out_size - 1) / 2) / (out_size - 1);
    return ((1 << 10) * in_size + out_size / 2) / out_size;
  };
  auto coord = [&](int64_t v, int64_t sc, int64_t in_size, int64_t* c,
                   int64_t* lo, int64_t* hi) {
    *c = half_pixel ? v * sc + sc / 2 - (1 << 9) : v * sc;
    *lo = std::max<int64_t>(*c / (1 << 10), 0);
    *hi = std::min<int64_t>((*c + (1 << 10) - 1) / (1 << 10), in_size - 1);
  };
  const int64_t hs = scale10(s.in_h, s.out_h), ws = scale10(s.in_w, s.out_w);
  const int64_t row = s.in_w * s.depth, img = s.in_h * row;
  for (int64_t b = 0; b < s.batch; ++b) {
    const T* p = in + b * img;
    for (int64_t y = 0; y < s.out_h; ++y) {
      int64_t fy, y0, y1;
      coord(y, hs, s.in_h, &fy, &y0, &y1);
      const int64_t wy1 = fy - (1 << 10) * y0, wy0 = (1 << 10) - wy1;
      for (int64_t x = 0; x < s.out_w; ++x) {
        int64_t fx, x0, x1;
        coord(x, ws, s.in_w, &fx, &x0, &x1);
        const int64_t wx1 = fx - (1 << 10) * x0, wx0 = (1 << 10) - wx1;
        for (int64_t c = 0; c < s.depth; ++c) {
          const int64_t v = p[y0 * row + x0 * s.depth + c] * wy0 * wx0 +
                            p[y1 * row + x0 * s.depth + c] * wy1 * wx0 +
                            p[y0 * row + x1 * s.depth + c] * wy0 * wx1 +
                            p[y1 * row + x1 * s.depth + c] * wy1 * wx1;
          const int64_t round = v > 0 ? (1 << 19) : -(1 << 19);
          out[c] = static_cast<T>((v + round) / (1 << 20));
        }
        out += s.depth;
      }
    }
  }
}

// The source index of nearest-neighbour output `v`.
inline int64_t NearestIndex(int64_t v, int64_t in_size, int64_t out_size,
                            bool align_corners, bool half_pixel) {
  const float scale = ResizeScale(in_size, out_size, align_corners);
  const float offset = half_pixel ? 0.5f : 0.f;
  const float x = (static_cast<float>(v) + offset) * scale;
  int64_t r = align_corners ? static_cast<int32_t>(std::round(x))
                            : static_cast<int32_t>(std::floor(x));
  r = std::min(r, in_size - 1);
  if (half_pixel) r = std::max<int64_t>(r, 0);
  return r;
}

// Nearest neighbour by bytes. For 1-byte types without corner options
// LiteRT's optimized kernel uses 16.16 fixed point; it is followed here.
inline void ResizeNearest(const ResizeShape& s, bool align_corners,
                          bool half_pixel, const uint8_t* in, size_t elem,
                          uint8_t* out) {
  const int64_t e = static_cast<int64_t>(elem);
  const int64_t px = s.depth * e, row = s.in_w * px, img = s.in_h * row;
  const bool fixed = elem == 1 && !align_corners && !half_pixel;
  const int64_t hs = (s.in_h << 16) / std::max<int64_t>(s.out_h, 1) + 1;
  const int64_t ws = (s.in_w << 16) / std::max<int64_t>(s.out_w, 1) + 1;
  for (int64_t b = 0; b < s.batch; ++b) {
    for (int64_t y = 0; y < s.out_h; ++y) {
      const int64_t iy =
          fixed ? std::min((y * hs) >> 16, s.in_h - 1)
                : NearestIndex(y, s.in_h, s.out_h, align_corners, half_pixel);
      const uint8_t* r = in + b * img + iy * row;
      for (int64_t x = 0; x < s.out_w; ++x) {
        const int64_t ix =
            fixed ? std::min((x * ws) >> 16, s.in_w - 1)
                  : NearestIndex(x, s.in_w, s.out_w, align_corners, half_pixel);
        std::memcpy(out, r + ix * px, px);
        out += px;
      }
    }
  }
}

}  // namespace k2l::runtime::reference
