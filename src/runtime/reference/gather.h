// GATHER (with axis and batch_dims) and GATHER_ND. Indices are checked as
// they are read; the first bad one is reported, not clamped.
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

namespace k2l::runtime::reference {

struct BadIndex {
  bool found = false;
  int64_t position = 0;  // flat position in the indices tensor
  int64_t value = 0;
  int64_t limit = 0;  // valid values are [0, limit)
};

// params viewed as [batch, outer, axis_size, inner]; indices as
// [batch, coords]; out as [batch, outer, coords, inner].
template <typename Index>
BadIndex Gather(const uint8_t* params, int64_t batch, int64_t outer,
                int64_t axis_size, int64_t inner, const Index* indices,
                int64_t coords, size_t elem, uint8_t* out) {
  const int64_t run = inner * static_cast<int64_t>(elem);
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t o = 0; o < outer; ++o) {
      const uint8_t* src = params + (b * outer + o) * axis_size * run;
      for (int64_t i = 0; i < coords; ++i) {
        const int64_t pos = b * coords + i;
        const int64_t c = static_cast<int64_t>(indices[pos]);
        if (c < 0 || c >= axis_size) return {true, pos, c, axis_size};
        if (run > 0) std::memcpy(out, src + c * run, run);
        out += run;
      }
    }
  }
  return {};
}

// GATHER_ND: indices [slices, nd]; each row picks params[i0, ..., i(nd-1)],
// a slice of `slice_size` elements.
template <typename Index>
BadIndex GatherNd(const uint8_t* params, const std::vector<int32_t>& shape,
                  const Index* indices, int64_t slices, int nd, size_t elem,
                  uint8_t* out) {
  std::vector<int64_t> stride(nd, 0);
  int64_t slice_size = 1;
  for (size_t d = nd; d < shape.size(); ++d) slice_size *= shape[d];
  int64_t s = slice_size;
  for (int d = nd - 1; d >= 0; --d) {
    stride[d] = s;
    s *= shape[d];
  }
  const int64_t run = slice_size * static_cast<int64_t>(elem);
  for (int64_t i = 0; i < slices; ++i) {
    int64_t from = 0;
    for (int j = 0; j < nd; ++j) {
      const int64_t pos = i * nd + j;
      const int64_t c = static_cast<int64_t>(indices[pos]);
      if (c < 0 || c >= shape[j]) return {true, pos, c, shape[j]};
      from += c * stride[j];
    }
    if (run > 0) std::memcpy(out + i * run, params + from * elem, run);
  }
  return {};
}

}  // namespace k2l::runtime::reference
