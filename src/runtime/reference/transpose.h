// TRANSPOSE and the block moves SPACE_TO_DEPTH / DEPTH_TO_SPACE, as boxes of
// the copy engine.
#pragma once

#include <cstdint>
#include <vector>

#include "runtime/reference/strided_copy.h"

namespace k2l::runtime::reference {

// out = transpose(in, perm): output dim i is input dim perm[i].
inline void Transpose(const std::vector<int32_t>& in_shape,
                      const std::vector<int>& perm, const uint8_t* in,
                      size_t elem, uint8_t* out) {
  const std::vector<int64_t> stride = ByteStrides(in_shape, elem);
  std::vector<BoxDim> dims;
  for (int p : perm) dims.push_back({in_shape[p], stride[p]});
  CopyBox(in, dims, elem, out);
}

// NHWC [n, h*b, w*b, c] -> [n, h, w, b*b*c]; channel (by*b + bx)*c + ch.
inline void SpaceToDepth(const std::vector<int32_t>& in_shape, int block,
                         const uint8_t* in, size_t elem, uint8_t* out) {
  const int64_t n = in_shape[0], h = in_shape[1] / block,
                w = in_shape[2] / block, c = in_shape[3];
  const int64_t e = static_cast<int64_t>(elem);
  // Input viewed as [n, h, by, w, bx, c].
  const int64_t s_c = e, s_bx = c * e, s_w = block * c * e,
                s_by = w * block * c * e, s_h = block * s_by, s_n = h * s_h;
  CopyBox(
      in,
      {{n, s_n}, {h, s_h}, {w, s_w}, {block, s_by}, {block, s_bx}, {c, s_c}},
      elem, out);
}

// NHWC [n, h, w, b*b*c] -> [n, h*b, w*b, c]; the inverse of SpaceToDepth.
inline void DepthToSpace(const std::vector<int32_t>& in_shape, int block,
                         const uint8_t* in, size_t elem, uint8_t* out) {
  const int64_t n = in_shape[0], h = in_shape[1], w = in_shape[2],
                c = in_shape[3] / (block * block);
  const int64_t e = static_cast<int64_t>(elem);
  // Input viewed as [n, h, w, by, bx, c]; output order [n, h, by, w, bx, c].
  const int64_t s_c = e, s_bx = c * e, s_by = block * c * e, s_w = block * s_by,
                s_h = w * s_w, s_n = h * s_h;
  CopyBox(
      in,
      {{n, s_n}, {h, s_h}, {block, s_by}, {w, s_w}, {block, s_bx}, {c, s_c}},
      elem, out);
}

}  // namespace k2l::runtime::reference
