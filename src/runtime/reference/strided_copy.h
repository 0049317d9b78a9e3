// The copy engine of the data-movement kernels: reads an axis-aligned,
// possibly strided or reversed, box of a row-major tensor into a dense
// output. TRANSPOSE, SLICE, STRIDED_SLICE, REVERSE_V2, SPACE_TO_DEPTH and
// DEPTH_TO_SPACE are all such boxes, so they share one implementation that
// merges contiguous dimensions, copies contiguous runs with memcpy and tiles
// true transposes for the cache.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

namespace k2l::runtime::reference {

// One output dimension: `count` elements, `in_stride` bytes apart in the
// input (negative to walk backwards).
struct BoxDim {
  int64_t count;
  int64_t in_stride;
};

namespace internal {

template <size_t N>
inline void CopyElement(uint8_t* out, const uint8_t* in) {
  std::memcpy(out, in, N);
}

// Copies `count` elements `stride` bytes apart into a dense run.
template <size_t N>
inline void GatherRun(const uint8_t* in, int64_t stride, int64_t count,
                      uint8_t* out) {
  for (int64_t i = 0; i < count; ++i) {
    CopyElement<N>(out, in);
    in += stride;
    out += N;
  }
}

inline void GatherRunBytes(const uint8_t* in, int64_t stride, int64_t count,
                           size_t elem, uint8_t* out) {
  switch (elem) {
    case 1:
      return GatherRun<1>(in, stride, count, out);
    case 2:
      return GatherRun<2>(in, stride, count, out);
    case 4:
      return GatherRun<4>(in, stride, count, out);
    case 8:
      return GatherRun<8>(in, stride, count, out);
    default:
      for (int64_t i = 0; i < count; ++i)
        std::memcpy(out + i * elem, in + i * stride, elem);
  }
}

// out[i * out_stride + j] = in[i * elem + j * in_stride] for an a x b block:
// the input is contiguous along i, the output along j. Tiles keep both
// sides in cache.
template <size_t N>
inline void Transpose2D(const uint8_t* in, int64_t in_stride, int64_t a,
                        int64_t b, int64_t out_stride, uint8_t* out) {
  constexpr int64_t kTile = 32;
  for (int64_t i0 = 0; i0 < a; i0 += kTile) {
    const int64_t i1 = std::min(a, i0 + kTile);
    for (int64_t j0 = 0; j0 < b; j0 += kTile) {
      const int64_t j1 = std::min(b, j0 + kTile);
      for (int64_t i = i0; i < i1; ++i) {
        const uint8_t* src = in + i * N + j0 * in_stride;
        uint8_t* dst = out + i * out_stride + j0 * N;
        for (int64_t j = j0; j < j1; ++j) {
          CopyElement<N>(dst, src);
          src += in_stride;
          dst += N;
        }
      }
    }
  }
}

}  // namespace internal

// Writes the box `dims` (outermost first) of the tensor at `in` densely to
// `out`. `in` points at the box's first element.
inline void CopyBox(const uint8_t* in, std::vector<BoxDim> dims, size_t elem,
                    uint8_t* out) {
  for (const BoxDim& d : dims)
    if (d.count == 0) return;
  // Drop single-element dimensions and merge neighbours that are contiguous
  // in the input (the output is always dense).
  std::vector<BoxDim> m;
  for (const BoxDim& d : dims) {
    if (d.count == 1) continue;
    m.push_back(d);
  }
  for (size_t i = m.size(); i-- > 1;) {
    if (m[i - 1].in_stride == m[i].in_stride * m[i].count) {
      m[i - 1].count *= m[i].count;
      m[i - 1].in_stride = m[i].in_stride;
      m.erase(m.begin() + static_cast<std::ptrdiff_t>(i));
    }
  }
  if (m.empty()) {
    std::memcpy(out, in, elem);
    return;
  }
  const int rank = static_cast<int>(m.size());
  std::vector<int64_t> out_stride(rank);
  int64_t total = static_cast<int64_t>(elem);
  for (int d = rank - 1; d >= 0; --d) {
    out_stride[d] = total;
    total *= m[d].count;
  }
  const BoxDim last = m[rank - 1];
  const bool contiguous_run = last.in_stride == static_cast<int64_t>(elem);
  // A true transpose: some other dimension is the input's contiguous one.
  int tile_dim = -1;
  if (!contiguous_run && (elem == 1 || elem == 2 || elem == 4 || elem == 8)) {
    for (int d = 0; d < rank - 1; ++d) {
      if (m[d].in_stride == static_cast<int64_t>(elem) && m[d].count >= 4) {
        tile_dim = d;
      }
    }
  }
  // The odometer runs over every dimension but the inner ones.
  std::vector<int> outer;
  for (int d = 0; d < rank - 1; ++d)
    if (d != tile_dim) outer.push_back(d);
  std::vector<int64_t> idx(outer.size(), 0);
  const uint8_t* src = in;
  while (true) {
    int64_t out_off = 0;
    for (size_t k = 0; k < outer.size(); ++k)
      out_off += idx[k] * out_stride[outer[k]];
    uint8_t* dst = out + out_off;
    if (contiguous_run) {
      std::memcpy(dst, src, last.count * elem);
    } else if (tile_dim >= 0) {
      const int64_t a = m[tile_dim].count, b = last.count;
      const int64_t os = out_stride[tile_dim];
      switch (elem) {
        case 1:
          internal::Transpose2D<1>(src, last.in_stride, a, b, os, dst);
          break;
        case 2:
          internal::Transpose2D<2>(src, last.in_stride, a, b, os, dst);
          break;
        case 4:
          internal::Transpose2D<4>(src, last.in_stride, a, b, os, dst);
          break;
        default:
          internal::Transpose2D<8>(src, last.in_stride, a, b, os, dst);
          break;
      }
    } else {
      internal::GatherRunBytes(src, last.in_stride, last.count, elem, dst);
    }
    // Advance the odometer.
    int k = static_cast<int>(outer.size()) - 1;
    for (; k >= 0; --k) {
      const BoxDim& d = m[outer[k]];
      if (++idx[k] < d.count) {
        src += d.in_stride;
        break;
      }
      src -= d.in_stride * (d.count - 1);
      idx[k] = 0;
    }
    if (k < 0) break;
  }
}

// Row-major byte strides of `shape`.
inline std::vector<int64_t> ByteStrides(const std::vector<int32_t>& shape,
                                        size_t elem) {
  std::vector<int64_t> s(shape.size());
  int64_t total = static_cast<int64_t>(elem);
  for (size_t i = shape.size(); i-- > 0;) {
    s[i] = total;
    total *= shape[i];
  }
  return s;
}

}  // namespace k2l::runtime::reference
