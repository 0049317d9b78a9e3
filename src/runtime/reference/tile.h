// TILE and BROADCAST_TO: each replicates blocks, so both build the innermost
// axis first and then copy whole finished blocks with memcpy.
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

namespace k2l::runtime::reference {

namespace internal {

// Writes the tile of input axis `d` onward; returns the bytes written.
inline int64_t TileAxis(const std::vector<int32_t>& shape,
                        const std::vector<int64_t>& mult, int d,
                        const uint8_t* in, int64_t in_block, size_t elem,
                        uint8_t* out) {
  const int rank = static_cast<int>(shape.size());
  int64_t written = 0;
  if (d == rank - 1) {
    written = shape[d] * static_cast<int64_t>(elem);
    std::memcpy(out, in, written);
  } else {
    const int64_t sub = in_block / shape[d];
    for (int32_t i = 0; i < shape[d]; ++i)
      written +=
          TileAxis(shape, mult, d + 1, in + i * sub, sub, elem, out + written);
  }
  for (int64_t k = 1; k < mult[d]; ++k)
    std::memcpy(out + k * written, out, written);
  return written * mult[d];
}

}  // namespace internal

// out = tile(in, mult); the caller handles empty tensors.
inline void Tile(const std::vector<int32_t>& shape,
                 const std::vector<int64_t>& mult, const uint8_t* in,
                 size_t elem, uint8_t* out) {
  if (shape.empty()) {
    std::memcpy(out, in, elem);
    return;
  }
  int64_t bytes = static_cast<int64_t>(elem);
  for (int32_t d : shape) bytes *= d;
  internal::TileAxis(shape, mult, 0, in, bytes, elem, out);
}

// out = broadcast_to(in, out_shape), with the input's shape already padded
// with leading 1s to the output's rank. The caller handles empty tensors.
inline void BroadcastTo(const std::vector<int32_t>& in_shape,
                        const std::vector<int32_t>& out_shape,
                        const uint8_t* in, size_t elem, uint8_t* out) {
  // Broadcasting axis d repeats the input block; that is TILE with
  // multiple out/in on broadcast axes.
  std::vector<int64_t> mult(in_shape.size());
  for (size_t d = 0; d < in_shape.size(); ++d)
    mult[d] = in_shape[d] == out_shape[d] ? 1 : out_shape[d];
  Tile(in_shape, mult, in, elem, out);
}

}  // namespace k2l::runtime::reference
