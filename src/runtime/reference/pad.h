// PAD / PADV2 (a constant border) and MIRROR_PAD (REFLECT / SYMMETRIC).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "runtime/reference/strided_copy.h"

namespace k2l::runtime::reference {

// Fills n elements of `elem` bytes with the value at `value`.
inline void FillBytes(uint8_t* out, int64_t n, const uint8_t* value,
                      size_t elem) {
  if (n <= 0) return;
  std::memcpy(out, value, elem);
  // Double the filled prefix until done.
  int64_t done = 1;
  while (done < n) {
    const int64_t k = std::min(done, n - done);
    std::memcpy(out + done * elem, out, k * elem);
    done += k;
  }
}

// out = the input surrounded by before[d] / after[d] copies of `value`.
inline void ConstantPad(const std::vector<int32_t>& in_shape,
                        const std::vector<int64_t>& before,
                        const std::vector<int64_t>& after, const uint8_t* in,
                        const uint8_t* value, size_t elem, uint8_t* out) {
  const int rank = static_cast<int>(in_shape.size());
  std::vector<int32_t> out_shape(rank);
  int64_t out_count = 1, in_count = 1;
  for (int d = 0; d < rank; ++d) {
    out_shape[d] = static_cast<int32_t>(in_shape[d] + before[d] + after[d]);
    out_count *= out_shape[d];
    in_count *= in_shape[d];
  }
  FillBytes(out, out_count, value, elem);
  if (in_count == 0) return;
  if (rank == 0) {
    std::memcpy(out, in, elem);
    return;
  }
  // Copy input rows (the innermost axis) into place.
  const std::vector<int64_t> os = ByteStrides(out_shape, elem);
  uint8_t* base = out;
  for (int d = 0; d < rank; ++d) base += before[d] * os[d];
  const int64_t row = in_shape[rank - 1] * static_cast<int64_t>(elem);
  std::vector<int64_t> idx(rank - 1, 0);
  const uint8_t* src = in;
  while (true) {
    int64_t off = 0;
    for (int d = 0; d < rank - 1; ++d) off += idx[d] * os[d];
    std::memcpy(base + off, src, row);
    src += row;
    int d = rank - 2;
    for (; d >= 0; --d) {
      if (++idx[d] < in_shape[d]) break;
      idx[d] = 0;
    }
    if (d < 0) break;
  }
}

// The input coordinate an output coordinate of a mirror-padded axis reads.
// `offset` is 1 for REFLECT (the edge is not repeated), 0 for SYMMETRIC.
inline int64_t MirrorIndex(int64_t o, int64_t before, int64_t size,
                           int64_t offset) {
  if (o < before) {
    const int64_t origin = before + offset - 1;
    return origin - std::min(o, origin - offset);
  }
  o -= before;
  if (o >= size) {
    o -= size;
    const int64_t origin = size - (1 + offset);
    return origin - std::min(o, origin);
  }
  return o;
}

inline void MirrorPad(const std::vector<int32_t>& in_shape,
                      const std::vector<int64_t>& before,
                      const std::vector<int64_t>& after, int64_t offset,
                      const uint8_t* in, size_t elem, uint8_t* out) {
  const int rank = static_cast<int>(in_shape.size());
  if (rank == 0) {
    std::memcpy(out, in, elem);
    return;
  }
  std::vector<int32_t> out_shape(rank);
  for (int d = 0; d < rank; ++d)
    out_shape[d] = static_cast<int32_t>(in_shape[d] + before[d] + after[d]);
  for (int32_t d : out_shape)
    if (d == 0) return;
  // Per axis, the input coordinate of each output coordinate.
  std::vector<std::vector<int64_t>> map(rank);
  for (int d = 0; d < rank; ++d) {
    map[d].resize(out_shape[d]);
    for (int64_t o = 0; o < out_shape[d]; ++o)
      map[d][o] = MirrorIndex(o, before[d], in_shape[d], offset);
  }
  const std::vector<int64_t> is = ByteStrides(in_shape, elem);
  const int last = rank - 1;
  const int64_t e = static_cast<int64_t>(elem);
  std::vector<int64_t> idx(last, 0);
  uint8_t* dst = out;
  while (true) {
    const uint8_t* row = in;
    for (int d = 0; d < last; ++d) row += map[d][idx[d]] * is[d];
    // Left border, the input row, right border.
    for (int64_t o = 0; o < before[last]; ++o)
      std::memcpy(dst + o * e, row + map[last][o] * e, elem);
    std::memcpy(dst + before[last] * e, row, in_shape[last] * e);
    for (int64_t o = before[last] + in_shape[last]; o < out_shape[last]; ++o)
      std::memcpy(dst + o * e, row + map[last][o] * e, elem);
    dst += out_shape[last] * e;
    int d = last - 1;
    for (; d >= 0; --d) {
      if (++idx[d] < out_shape[d]) break;
      idx[d] = 0;
    }
    if (d < 0) break;
  }
}

}  // namespace k2l::runtime::reference
