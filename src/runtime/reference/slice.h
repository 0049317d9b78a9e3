// SLICE, STRIDED_SLICE, REVERSE_V2 and DYNAMIC_UPDATE_SLICE.
//
// STRIDED_SLICE follows LiteRT's kernel exactly: the ellipsis and new-axis
// masks are first rewritten into an "effective" input of extra size-1 axes
// with begin/end masks, then each axis gets LiteRT's start/stop clamping, and
// the output shape uses LiteRT's rounding (which in `offset` mode reads the
// raw `end` value as the length).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "runtime/reference/strided_copy.h"

namespace k2l::runtime::reference {

// out = in[begin : begin + size] per axis (sizes already resolved).
inline void Slice(const std::vector<int32_t>& in_shape,
                  const std::vector<int64_t>& begin,
                  const std::vector<int64_t>& size, const uint8_t* in,
                  size_t elem, uint8_t* out) {
  const std::vector<int64_t> stride = ByteStrides(in_shape, elem);
  std::vector<BoxDim> dims;
  const uint8_t* first = in;
  for (size_t d = 0; d < in_shape.size(); ++d) {
    dims.push_back({size[d], stride[d]});
    first += begin[d] * stride[d];
  }
  CopyBox(first, dims, elem, out);
}

// out = in reversed along every axis with reverse[d] set.
inline void Reverse(const std::vector<int32_t>& in_shape,
                    const std::vector<bool>& reverse, const uint8_t* in,
                    size_t elem, uint8_t* out) {
  const std::vector<int64_t> stride = ByteStrides(in_shape, elem);
  std::vector<BoxDim> dims;
  const uint8_t* first = in;
  for (size_t d = 0; d < in_shape.size(); ++d) {
    if (in_shape[d] == 0) return;
    if (reverse[d]) {
      first += (in_shape[d] - 1) * stride[d];
      dims.push_back({in_shape[d], -stride[d]});
    } else {
      dims.push_back({in_shape[d], stride[d]});
    }
  }
  CopyBox(first, dims, elem, out);
}

struct StridedSliceSpec {
  std::vector<int64_t> begin, end, strides;
  uint32_t begin_mask = 0, end_mask = 0, ellipsis_mask = 0, new_axis_mask = 0,
           shrink_axis_mask = 0;
  bool offset = false;
};

// One axis of the effective input: which input axis it reads (-1 for an
// added axis), where it starts, its step and how many elements it takes.
struct StridedSliceAxis {
  int input_dim;
  int64_t start, step, count;
};

struct StridedSlicePlan {
  std::string error;  // non-empty when the spec is invalid
  std::vector<int32_t> output_shape;
  std::vector<StridedSliceAxis> axes;
};

inline StridedSlicePlan PlanStridedSlice(const std::vector<int32_t>& input,
                                         const StridedSliceSpec& s) {
  StridedSlicePlan plan;
  auto bit = [](uint32_t mask, int i) {
    return i < 32 && (mask & (uint32_t{1} << i)) != 0;
  };
  const int n = static_cast<int>(input.size());
  const int m = static_cast<int>(s.begin.size());
  int num_add_axis = 0;
  for (int i = 0; i < m; ++i)
    if (!bit(s.ellipsis_mask, i) && bit(s.new_axis_mask, i)) ++num_add_axis;
  const int eff = n + num_add_axis;
  if (eff > 32) {
    plan.error = "the sliced input would have " + std::to_string(eff) +
                 " axes; at most 32 are supported";
    return plan;
  }
  // Where the ellipsis lands and which effective axes are new.
  uint32_t eff_ellipsis = 0, eff_new_axis = 0;
  int ellipsis_start = eff, expanded = 0;
  for (int i = 0; i < eff;) {
    if (bit(s.ellipsis_mask, i)) {
      ellipsis_start = i;
      const int stop =
          std::max(i + 1, std::min(i + 1 + num_add_axis + n - m, eff));
      expanded = stop - ellipsis_start - 1;
      for (; i < stop; ++i) eff_ellipsis |= uint32_t{1} << i;
      continue;
    }
    if (i - expanded >= 0 && bit(s.new_axis_mask, i - expanded))
      eff_new_axis |= uint32_t{1} << i;
    ++i;
  }
  // Per effective axis: the input axis, begin/end/stride and masks.
  std::vector<int64_t> begin(eff, 0), end(eff, 0), stride(eff, 1);
  std::vector<int32_t> size(eff, 1);
  std::vector<int> in_dim(eff, -1);
  uint32_t bmask = 0, emask = 0, shrink = 0;
  int added_ellipsis = 0, added_axes = 0;
  for (int i = 0; i < eff; ++i) {
    const bool is_new = !bit(eff_ellipsis, i) && bit(eff_new_axis, i);
    if (is_new) {
      end[i] = 1;
      ++added_axes;
      continue;
    }
    in_dim[i] = i - added_axes;
    if (in_dim[i] >= n) {
      plan.error =
          "the masks address more axes than the input's " + std::to_string(n);
      return plan;
    }
    size[i] = input[in_dim[i]];
    if (bit(eff_ellipsis, i)) {
      added_ellipsis = std::max(0, i - ellipsis_start);
      bmask |= uint32_t{1} << i;
      emask |= uint32_t{1} << i;
    } else if (i >= m + expanded) {
      bmask |= uint32_t{1} << i;
      emask |= uint32_t{1} << i;
    } else {
      const int o = i - added_ellipsis;
      begin[i] = s.begin[o];
      end[i] = s.end[o];
      stride[i] = s.strides[o];
      if (bit(s.begin_mask, o)) bmask |= uint32_t{1} << i;
      if (bit(s.end_mask, o)) emask |= uint32_t{1} << i;
      if (bit(s.shrink_axis_mask, o)) shrink |= uint32_t{1} << i;
    }
  }
  auto clamp_for = [](int64_t v, int64_t st, int64_t axis_size) {
    return st > 0 ? std::clamp<int64_t>(v, 0, axis_size)
                  : std::clamp<int64_t>(v, -1, axis_size - 1);
  };
  for (int i = 0; i < eff; ++i) {
    const int64_t st = stride[i], axis_size = size[i];
    if (st == 0) {
      plan.error = "stride " + std::to_string(i) + " is 0";
      return plan;
    }
    if (st == INT32_MIN) {
      plan.error = "stride INT32_MIN is not supported";
      return plan;
    }
    int64_t start = begin[i] < 0 ? begin[i] + axis_size : begin[i];
    start = clamp_for(start, st, axis_size);
    if (bit(bmask, i)) start = st > 0 ? 0 : axis_size - 1;
    int64_t stop;
    if (bit(shrink, i)) {
      stop = start >= axis_size ? start : start + 1;
    } else {
      stop = end[i] + (s.offset ? start : 0);
      if (stop < 0) stop += axis_size;
      stop = clamp_for(stop, st, axis_size);
      if (bit(emask, i)) stop = st > 0 ? axis_size : -1;
    }
    int64_t count = 0;
    if (st > 0 && stop > start) count = (stop - start + st - 1) / st;
    if (st < 0 && start > stop) count = (start - stop - st - 1) / -st;
    plan.axes.push_back({in_dim[i], start, st, count});
    if (bit(shrink, i)) continue;
    // LiteRT's output extent: end - begin, or the raw end in offset mode.
    int64_t dim = stop - start;
    if (s.offset) {
      if (i >= m) {
        plan.error = "offset mode needs an end value for axis " +
                     std::to_string(i) + " but end has " + std::to_string(m);
        return plan;
      }
      dim = s.end[i];
    }
    if ((dim < 0) != (st < 0)) {
      dim = 0;
    } else if (st < 0) {
      dim = (dim + 1) / st + 1;
    } else {
      dim = dim == 0 ? 0 : (dim - 1) / st + 1;
    }
    if (dim > INT32_MAX) {
      plan.error = "output axis " + std::to_string(i) + " overflows int32";
      return plan;
    }
    plan.output_shape.push_back(static_cast<int32_t>(dim));
  }
  return plan;
}

// Elements the plan reads (its axes' counts multiplied).
inline int64_t StridedSliceCount(const StridedSlicePlan& plan) {
  int64_t n = 1;
  for (const auto& a : plan.axes) n *= a.count;
  return n;
}

inline void StridedSlice(const std::vector<int32_t>& in_shape,
                         const StridedSlicePlan& plan, const uint8_t* in,
                         size_t elem, uint8_t* out) {
  const std::vector<int64_t> stride = ByteStrides(in_shape, elem);
  std::vector<BoxDim> dims;
  const uint8_t* first = in;
  for (const auto& a : plan.axes) {
    if (a.input_dim < 0) {
      dims.push_back({a.count, 0});
      continue;
    }
    first += a.start * stride[a.input_dim];
    dims.push_back({a.count, a.step * stride[a.input_dim]});
  }
  CopyBox(first, dims, elem, out);
}

// Writes `update` into `out` (already holding the operand) at `start`,
// which the caller has clamped so the update fits.
inline void UpdateSlice(const std::vector<int32_t>& out_shape,
                        const std::vector<int32_t>& upd_shape,
                        const std::vector<int64_t>& start,
                        const uint8_t* update, size_t elem, uint8_t* out) {
  const int rank = static_cast<int>(out_shape.size());
  int64_t total = 1;
  for (int32_t d : upd_shape) total *= d;
  if (total == 0) return;
  if (rank == 0) {
    std::memcpy(out, update, elem);
    return;
  }
  const std::vector<int64_t> os = ByteStrides(out_shape, elem);
  // The innermost run: trailing axes the update covers fully, plus one.
  int inner = rank - 1;
  int64_t run = upd_shape[inner];
  while (inner > 0 && upd_shape[inner] == out_shape[inner]) {
    --inner;
    run *= upd_shape[inner];
  }
  uint8_t* base = out;
  for (int d = 0; d < rank; ++d) base += start[d] * os[d];
  std::vector<int64_t> idx(inner, 0);
  const uint8_t* src = update;
  while (true) {
    int64_t off = 0;
    for (int d = 0; d < inner; ++d) off += idx[d] * os[d];
    std::memcpy(base + off, src, run * elem);
    src += run * elem;
    int d = inner - 1;
    for (; d >= 0; --d) {
      if (++idx[d] < upd_shape[d]) break;
      idx[d] = 0;
    }
    if (d < 0) break;
  }
}

}  // namespace k2l::runtime::reference
