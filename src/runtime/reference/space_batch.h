// SPACE_TO_BATCH_ND and BATCH_TO_SPACE_ND on [batch, h, w, depth] tensors
// (a rank-3 [batch, h, depth] tensor is [batch, h, 1, depth] with a block
// and crop of 1 / 0 along w). Pixels move as runs of `depth` elements.
#pragma once

#include <cstdint>
#include <cstring>

namespace k2l::runtime::reference {

struct SpaceBatchShape {
  int64_t in_b, in_h, in_w, out_b, out_h, out_w, depth;
  int64_t block_h, block_w;
  int64_t pad_top, pad_left;  // paddings (to batch) or crops (to space)
};

// out[ob, oh, ow] = in[ob % in_b, oh*bh + sh - top, ow*bw + sw - left] with
// (sh, sw) from ob / in_b; outside the input it is `pad` (a byte pattern,
// as LiteRT's memset).
inline void SpaceToBatchNd(const SpaceBatchShape& s, const uint8_t* in,
                           uint8_t pad, size_t elem, uint8_t* out) {
  const int64_t px = s.depth * static_cast<int64_t>(elem);
  for (int64_t ob = 0; ob < s.out_b; ++ob) {
    const int64_t ib = ob % s.in_b;
    const int64_t sw = (ob / s.in_b) % s.block_w;
    const int64_t sh = (ob / s.in_b) / s.block_w;
    for (int64_t oh = 0; oh < s.out_h; ++oh) {
      const int64_t ih = oh * s.block_h + sh - s.pad_top;
      for (int64_t ow = 0; ow < s.out_w; ++ow) {
        const int64_t iw = ow * s.block_w + sw - s.pad_left;
        if (ih < 0 || ih >= s.in_h || iw < 0 || iw >= s.in_w) {
          std::memset(out, pad, px);
        } else {
          std::memcpy(out, in + ((ib * s.in_h + ih) * s.in_w + iw) * px, px);
        }
        out += px;
      }
    }
  }
}

// The inverse, dropping cropped pixels.
inline void BatchToSpaceNd(const SpaceBatchShape& s, const uint8_t* in,
                           size_t elem, uint8_t* out) {
  const int64_t px = s.depth * static_cast<int64_t>(elem);
  for (int64_t ib = 0; ib < s.in_b; ++ib) {
    const int64_t ob = ib % s.out_b;
    const int64_t spatial = ib / s.out_b;
    for (int64_t ih = 0; ih < s.in_h; ++ih) {
      const int64_t oh = ih * s.block_h + spatial / s.block_w - s.pad_top;
      if (oh < 0 || oh >= s.out_h) continue;
      for (int64_t iw = 0; iw < s.in_w; ++iw) {
        const int64_t ow = iw * s.block_w + spatial % s.block_w - s.pad_left;
        if (ow < 0 || ow >= s.out_w) continue;
        std::memcpy(out + ((ob * s.out_h + oh) * s.out_w + ow) * px,
                    in + ((ib * s.in_h + ih) * s.in_w + iw) * px, px);
      }
    }
  }
}

}  // namespace k2l::runtime::reference
