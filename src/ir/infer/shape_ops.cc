// Shape inference for reductions and data-movement ops. Their shape operands
// (axes, new shapes, paddings, ...) are constants; a non-constant operand is
// accepted only where LiteRT computes it at run time (Reshape, TransposeConv's
// output_shape), and then yields dynamic dims.
#include <algorithm>

#include "ir/infer/infer_util.h"

namespace k2l::ir::infer {

namespace {

Result<std::vector<int64_t>> RequireConst(const Graph& g, ValueId id,
                                          const char* what) {
  auto v = ConstInts(g, id);
  if (!v) {
    return Status::Invalid(std::string(what) +
                           " must be a constant int32 tensor");
  }
  return *v;
}

OutputType Same(const Graph& g, ValueId id, Shape s) {
  return {g.value(id).dtype, std::move(s)};
}

Result<std::vector<OutputType>> Reduce(const Graph& g,
                                       const std::vector<ValueId>& in,
                                       const ReduceAttrs& a) {
  K2L_RETURN_IF_ERROR(ExpectInputs(in, 2, 2));
  const Shape& x = g.value(in[0]).shape;
  K2L_ASSIGN_OR_RETURN(auto axes, RequireConst(g, in[1], "the axes"));
  std::vector<bool> reduced(x.size(), false);
  for (int64_t ax : axes) {
    K2L_ASSIGN_OR_RETURN(int a2, NormalizeAxis(ax, x.size()));
    reduced[a2] = true;
  }
  Shape out;
  for (size_t i = 0; i < x.size(); ++i) {
    if (!reduced[i]) {
      out.push_back(x[i]);
    } else if (a.keep_dims) {
      out.push_back(1);
    }
  }
  return std::vector<OutputType>{Same(g, in[0], out)};
}

Result<std::vector<OutputType>> Reshape(const Graph& g,
                                        const std::vector<ValueId>& in) {
  K2L_RETURN_IF_ERROR(ExpectInputs(in, 2, 2));
  const Shape& x = g.value(in[0]).shape;
  auto target = ConstInts(g, in[1]);
  if (!target) {
    const Shape& ts = g.value(in[1]).shape;
    if (ts.size() != 1 || ts[0] == kDynamic) {
      return Status::Invalid("a computed new shape must be 1-D and sized");
    }
    return std::vector<OutputType>{Same(g, in[0], PartialInts(g, in[1]))};
  }
  Shape out(target->begin(), target->end());
  int infer_at = -1;
  int64_t known = 1;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == -1) {
      if (infer_at >= 0) return Status::Invalid("new shape has two -1 dims");
      infer_at = static_cast<int>(i);
    } else if (out[i] < 0) {
      return Status::Invalid("new shape has a negative dim");
    } else {
      known *= out[i];
    }
  }
  int64_t total = ProductOrDynamic(x, 0, x.size());
  if (infer_at >= 0) {
    if (total == kDynamic) {
      out[infer_at] = kDynamic;
    } else {
      if (known == 0 || total % known != 0) {
        return Status::Invalid("cannot reshape " + ShapeToString(x) + " to " +
                               ShapeToString(out));
      }
      out[infer_at] = total / known;
    }
  } else if (total != kDynamic && total != known) {
    return Status::Invalid("cannot reshape " + ShapeToString(x) + " (" +
                           std::to_string(total) + " elements) to " +
                           ShapeToString(out));
  }
  return std::vector<OutputType>{Same(g, in[0], out)};
}

Result<std::vector<OutputType>> Transpose(const Graph& g,
                                          const std::vector<ValueId>& in) {
  K2L_RETURN_IF_ERROR(ExpectInputs(in, 2, 2));
  const Shape& x = g.value(in[0]).shape;
  K2L_ASSIGN_OR_RETURN(auto perm, RequireConst(g, in[1], "the permutation"));
  if (perm.size() != x.size()) {
    return Status::Invalid("the permutation has " +
                           std::to_string(perm.size()) + " entries for rank " +
                           std::to_string(x.size()));
  }
  Shape out(x.size());
  std::vector<bool> seen(x.size(), false);
  for (size_t i = 0; i < perm.size(); ++i) {
    K2L_ASSIGN_OR_RETURN(int p, NormalizeAxis(perm[i], x.size()));
    if (seen[p]) return Status::Invalid("the permutation repeats an axis");
    seen[p] = true;
    out[i] = x[p];
  }
  return std::vector<OutputType>{Same(g, in[0], out)};
}

Result<std::vector<OutputType>> Concat(const Graph& g,
                                       const std::vector<ValueId>& in,
                                       const ConcatAttrs& a) {
  if (in.empty()) return Status::Invalid("needs at least one input");
  const Shape& first = g.value(in[0]).shape;
  K2L_ASSIGN_OR_RETURN(int axis, NormalizeAxis(a.axis, first.size()));
  Shape out = first;
  for (size_t k = 1; k < in.size(); ++k) {
    const Shape& s = g.value(in[k]).shape;
    if (s.size() != first.size()) {
      return Status::Invalid("inputs have different ranks: " +
                             ShapeToString(first) + " and " + ShapeToString(s));
    }
    if (g.value(in[k]).dtype != g.value(in[0]).dtype) {
      return Status::Invalid("inputs have different dtypes");
    }
    for (size_t i = 0; i < s.size(); ++i) {
      if (static_cast<int>(i) == axis) {
        out[i] =
            (out[i] == kDynamic || s[i] == kDynamic) ? kDynamic : out[i] + s[i];
      } else if (out[i] == kDynamic) {
        out[i] = s[i];
      } else if (s[i] != kDynamic && s[i] != out[i]) {
        return Status::Invalid("inputs " + ShapeToString(first) + " and " +
                               ShapeToString(s) + " differ off the axis " +
                               std::to_string(axis));
      }
    }
  }
  return std::vector<OutputType>{Same(g, in[0], out)};
}

Result<std::vector<OutputType>> Pad(const Graph& g,
                                    const std::vector<ValueId>& in,
                                    bool with_value) {
  K2L_RETURN_IF_ERROR(ExpectInputs(in, with_value ? 3 : 2, with_value ? 3 : 2));
  const Shape& x = g.value(in[0]).shape;
  if (with_value) {
    const Value& v = g.value(in[2]);
    if (v.dtype != g.value(in[0]).dtype || !v.shape.empty()) {
      return Status::Invalid(
          "the padding value must be a scalar of the input's dtype");
    }
  }
  K2L_ASSIGN_OR_RETURN(auto p, RequireConst(g, in[1], "the paddings"));
  const Shape& ps = g.value(in[1]).shape;
  if (p.size() != 2 * x.size() || ps.size() != 2 || ps[1] != 2) {
    return Status::Invalid("paddings must have shape [rank, 2], got " +
                           ShapeToString(ps));
  }
  Shape out = x;
  for (size_t i = 0; i < x.size(); ++i) {
    if (p[2 * i] < 0 || p[2 * i + 1] < 0) {
      return Status::Invalid("paddings must be non-negative");
    }
    if (out[i] != kDynamic) out[i] += p[2 * i] + p[2 * i + 1];
  }
  return std::vector<OutputType>{Same(g, in[0], out)};
}

Result<std::vector<OutputType>> Slice(const Graph& g,
                                      const std::vector<ValueId>& in) {
  K2L_RETURN_IF_ERROR(ExpectInputs(in, 3, 3));
  const Shape& x = g.value(in[0]).shape;
  // begin and size may be computed (e.g. from Shape): what is known of
  // their values then decides the output dims, the rest stay dynamic.
  for (size_t k = 1; k <= 2; ++k) {
    const Value& v = g.value(in[k]);
    if ((v.dtype != DType::kInt32 && v.dtype != DType::kInt64) ||
        v.shape.size() != 1 || v.shape[0] != static_cast<int64_t>(x.size())) {
      return Status::Invalid("begin and size must have one entry per dim");
    }
  }
  const std::optional<std::vector<int64_t>> begin = ConstInts(g, in[1]);
  // A constant size of -1 means "to the end"; in a computed size, -1 is
  // also what PartialInts gives for an unknown entry, so it stays dynamic.
  const std::optional<std::vector<int64_t>> const_size = ConstInts(g, in[2]);
  const std::vector<int64_t> size =
      const_size ? *const_size : PartialInts(g, in[2]);
  if (size.size() != x.size()) {
    return Status::Invalid("begin and size must have one entry per dim");
  }
  Shape out(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    const int64_t b = begin ? (*begin)[i] : kDynamic;
    if (size[i] == -1) {
      out[i] = !const_size || x[i] == kDynamic || b == kDynamic ? kDynamic
                                                                : x[i] - b;
    } else {
      out[i] = size[i];
    }
    if (x[i] != kDynamic && b != kDynamic &&
        (b < 0 || (out[i] != kDynamic && b + out[i] > x[i]))) {
      return Status::Invalid("slice out of range on dim " + std::to_string(i));
    }
    if (x[i] != kDynamic && out[i] != kDynamic && out[i] > x[i]) {
      return Status::Invalid("slice out of range on dim " + std::to_string(i));
    }
  }
  return std::vector<OutputType>{Same(g, in[0], out)};
}

Result<std::vector<OutputType>> StridedSlice(const Graph& g,
                                             const std::vector<ValueId>& in,
                                             const StridedSliceAttrs& a) {
  K2L_RETURN_IF_ERROR(ExpectInputs(in, 4, 4));
  if (a.ellipsis_mask || a.new_axis_mask) {
    return Status::Internal("ellipsis and new-axis masks are not used here");
  }
  const Shape& x = g.value(in[0]).shape;
  K2L_ASSIGN_OR_RETURN(auto begin, RequireConst(g, in[1], "begin"));
  K2L_ASSIGN_OR_RETURN(auto end, RequireConst(g, in[2], "end"));
  K2L_ASSIGN_OR_RETURN(auto strides, RequireConst(g, in[3], "strides"));
  if (begin.size() != x.size() || end.size() != x.size() ||
      strides.size() != x.size()) {
    return Status::Invalid("begin, end and strides need one entry per dim");
  }
  Shape out;
  for (size_t i = 0; i < x.size(); ++i) {
    bool shrink = (a.shrink_axis_mask >> i) & 1;
    if (shrink) continue;
    int64_t s = strides[i];
    if (s == 0) return Status::Invalid("a stride is zero");
    if (x[i] == kDynamic) {
      out.push_back(kDynamic);
      continue;
    }
    int64_t n = x[i];
    auto clamp = [&](int64_t v, bool masked, bool is_begin) {
      if (masked) return s > 0 ? (is_begin ? 0 : n) : (is_begin ? n - 1 : -1);
      if (v < 0) v += n;
      return s > 0 ? std::clamp<int64_t>(v, 0, n)
                   : std::clamp<int64_t>(v, -1, n - 1);
    };
    int64_t b = clamp(begin[i], (a.begin_mask >> i) & 1, true);
    int64_t e = clamp(end[i], (a.end_mask >> i) & 1, false);
    int64_t len = s > 0 ? (e - b + s - 1) / s : (b - e - s - 1) / (-s);
    out.push_back(std::max<int64_t>(len, 0));
  }
  return std::vector<OutputType>{Same(g, in[0], out)};
}

Result<std::vector<OutputType>> Gather(const Graph& g,
                                       const std::vector<ValueId>& in,
                                       const GatherAttrs& a) {
  K2L_RETURN_IF_ERROR(ExpectInputs(in, 2, 2));
  const Shape& p = g.value(in[0]).shape;
  const Shape& idx = g.value(in[1]).shape;
  DType idt = g.value(in[1]).dtype;
  if (idt != DType::kInt32 && idt != DType::kInt64) {
    return Status::Invalid("indices must be int32 or int64");
  }
  if (a.batch_dims != 0) return Status::Internal("batch_dims is not used here");
  K2L_ASSIGN_OR_RETURN(int axis, NormalizeAxis(a.axis, p.size()));
  Shape out(p.begin(), p.begin() + axis);
  out.insert(out.end(), idx.begin(), idx.end());
  out.insert(out.end(), p.begin() + axis + 1, p.end());
  return std::vector<OutputType>{Same(g, in[0], out)};
}

Result<std::vector<OutputType>> Tile(const Graph& g,
                                     const std::vector<ValueId>& in) {
  K2L_RETURN_IF_ERROR(ExpectInputs(in, 2, 2));
  const Shape& x = g.value(in[0]).shape;
  K2L_ASSIGN_OR_RETURN(auto m, RequireConst(g, in[1], "the multiples"));
  if (m.size() != x.size()) return Status::Invalid("one multiple per dim");
  Shape out = x;
  for (size_t i = 0; i < x.size(); ++i) {
    if (out[i] != kDynamic) out[i] *= m[i];
  }
  return std::vector<OutputType>{Same(g, in[0], out)};
}

Result<std::vector<OutputType>> ExpandDims(const Graph& g,
                                           const std::vector<ValueId>& in) {
  K2L_RETURN_IF_ERROR(ExpectInputs(in, 2, 2));
  Shape out = g.value(in[0]).shape;
  K2L_ASSIGN_OR_RETURN(auto ax, RequireConst(g, in[1], "the axis"));
  if (ax.size() != 1) return Status::Invalid("the axis must be one value");
  K2L_ASSIGN_OR_RETURN(int axis, NormalizeAxis(ax[0], out.size() + 1));
  out.insert(out.begin() + axis, 1);
  return std::vector<OutputType>{Same(g, in[0], out)};
}

Result<std::vector<OutputType>> Squeeze(const Graph& g,
                                        const std::vector<ValueId>& in,
                                        const SqueezeAttrs& a) {
  K2L_RETURN_IF_ERROR(ExpectInputs(in, 1, 1));
  const Shape& x = g.value(in[0]).shape;
  std::vector<bool> drop(x.size(), false);
  if (a.axes.empty()) {
    for (size_t i = 0; i < x.size(); ++i) drop[i] = x[i] == 1;
  }
  for (int ax : a.axes) {
    K2L_ASSIGN_OR_RETURN(int axis, NormalizeAxis(ax, x.size()));
    if (x[axis] != 1 && x[axis] != kDynamic) {
      return Status::Invalid("cannot squeeze dim " + std::to_string(axis) +
                             " of size " + std::to_string(x[axis]));
    }
    drop[axis] = true;
  }
  Shape out;
  for (size_t i = 0; i < x.size(); ++i) {
    if (!drop[i]) out.push_back(x[i]);
  }
  return std::vector<OutputType>{Same(g, in[0], out)};
}

Result<std::vector<OutputType>> Split(const Graph& g,
                                      const std::vector<ValueId>& in,
                                      const SplitAttrs& a) {
  K2L_RETURN_IF_ERROR(ExpectInputs(in, 2, 2));
  K2L_ASSIGN_OR_RETURN(auto ax, RequireConst(g, in[0], "the axis"));
  const Shape& x = g.value(in[1]).shape;
  if (ax.size() != 1) return Status::Invalid("the axis must be one value");
  K2L_ASSIGN_OR_RETURN(int axis, NormalizeAxis(ax[0], x.size()));
  if (a.num_splits < 1 || x[axis] == kDynamic || x[axis] % a.num_splits) {
    return Status::Invalid("dim " + std::to_string(axis) + " of " +
                           ShapeToString(x) + " is not divisible into " +
                           std::to_string(a.num_splits));
  }
  Shape part = x;
  part[axis] /= a.num_splits;
  return std::vector<OutputType>(a.num_splits, Same(g, in[1], part));
}

Result<std::vector<OutputType>> Resize(const Graph& g,
                                       const std::vector<ValueId>& in) {
  K2L_RETURN_IF_ERROR(ExpectInputs(in, 2, 2));
  K2L_RETURN_IF_ERROR(ExpectRank(g, in[0], 4, "the input"));
  K2L_ASSIGN_OR_RETURN(auto size, RequireConst(g, in[1], "the size"));
  if (size.size() != 2) return Status::Invalid("the size must have 2 values");
  const Shape& x = g.value(in[0]).shape;
  return std::vector<OutputType>{
      Same(g, in[0], {x[0], size[0], size[1], x[3]})};
}

}  // namespace

Result<std::vector<OutputType>> InferShapeOps(const Graph& g, OpKind kind,
                                              const std::vector<ValueId>& in,
                                              const Attrs& attrs) {
  switch (kind) {
    case OpKind::kMean:
    case OpKind::kSum:
    case OpKind::kReduceMax:
    case OpKind::kReduceAny:
    case OpKind::kReduceMin:
      return Reduce(g, in, std::get<ReduceAttrs>(attrs));
    case OpKind::kReshape:
      return Reshape(g, in);
    case OpKind::kTranspose:
      return Transpose(g, in);
    case OpKind::kConcatenation:
      return Concat(g, in, std::get<ConcatAttrs>(attrs));
    case OpKind::kPad:
      return Pad(g, in, /*with_value=*/false);
    case OpKind::kPadV2:
      return Pad(g, in, /*with_value=*/true);
    case OpKind::kSlice:
      return Slice(g, in);
    case OpKind::kStridedSlice:
      return StridedSlice(g, in, std::get<StridedSliceAttrs>(attrs));
    case OpKind::kGather:
      return Gather(g, in, std::get<GatherAttrs>(attrs));
    case OpKind::kTile:
      return Tile(g, in);
    case OpKind::kExpandDims:
      return ExpandDims(g, in);
    case OpKind::kSqueeze:
      return Squeeze(g, in, std::get<SqueezeAttrs>(attrs));
    case OpKind::kSplit:
      return Split(g, in, std::get<SplitAttrs>(attrs));
    case OpKind::kShape: {
      K2L_RETURN_IF_ERROR(ExpectInputs(in, 1, 1));
      return std::vector<OutputType>{
          {DType::kInt32, {static_cast<int64_t>(g.value(in[0]).shape.size())}}};
    }
    case OpKind::kResizeNearestNeighbor:
    case OpKind::kResizeBilinear:
      return Resize(g, in);
    default:
      return Status::Internal("not a shape op");
  }
}

}  // namespace k2l::ir::infer
