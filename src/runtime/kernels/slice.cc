// SLICE and STRIDED_SLICE (all five masks, negative strides and the
// `offset` option), as strided box copies.
#include "runtime/reference/slice.h"

#include "runtime/kernels/data_util.h"

namespace k2l::runtime::kernels {

namespace {

struct SliceData : OpData {
  std::vector<int64_t> begin, size;
};

Status SlicePrepare(OpContext& ctx) {
  K2L_RETURN_IF_ERROR(CheckArity(ctx, 3, 3, 1));
  const Tensor& in = ctx.input(0);
  K2L_RETURN_IF_ERROR(CheckSameType(ctx, in, ctx.output(0)));
  K2L_RETURN_IF_ERROR(CheckMovable(ctx, in, "input"));
  const Tensor& b = ctx.input(1);
  const Tensor& s = ctx.input(2);
  K2L_RETURN_IF_ERROR(CheckIndexInput(ctx, b, "begin", 1));
  K2L_RETURN_IF_ERROR(CheckIndexInput(ctx, s, "size", 1));
  if (b.dim(0) != in.rank() || s.dim(0) != in.rank()) {
    return ctx.Error("begin has " + std::to_string(b.dim(0)) +
                     " and size has " + std::to_string(s.dim(0)) +
                     " entries but the input has rank " +
                     std::to_string(in.rank()));
  }
  if (!ValuesOrDefer(ctx, {1, 2})) return Status::Ok();
  auto& data = ctx.data<SliceData>();
  data.begin = ReadInts(b);
  data.size = ReadInts(s);
  Shape out(in.rank());
  for (int d = 0; d < in.rank(); ++d) {
    const int64_t dim = in.dim(d), begin = data.begin[d];
    int64_t& size = data.size[d];
    if (begin < 0 || begin > dim) {
      return ctx.Error("begin " + std::to_string(begin) + " of axis " +
                       std::to_string(d) + " is outside [0, " +
                       std::to_string(dim) + "] (input shape " +
                       ShapeString(in.shape) + ")");
    }
    if (size == -1) size = dim - begin;
    if (size < 0 || begin + size > dim) {
      return ctx.Error("slice [" + std::to_string(begin) + ", " +
                       std::to_string(begin) + " + " + std::to_string(size) +
                       ") of axis " + std::to_string(d) +
                       " does not fit input shape " + ShapeString(in.shape) +
                       " (size must be -1 or in [0, dim - begin])");
    }
    out[d] = static_cast<int32_t>(size);
  }
  return ctx.ResizeOutput(0, out);
}

Status SliceEval(OpContext& ctx) {
  const Tensor& in = ctx.input(0);
  const auto& data = ctx.data<SliceData>();
  reference::Slice(in.shape, data.begin, data.size, in.raw(),
                   ElementSize(in.type), ctx.output(0).mutable_raw());
  return Status::Ok();
}

struct StridedSliceData : OpData {
  reference::StridedSlicePlan plan;
};

Status StridedSlicePrepare(OpContext& ctx) {
  K2L_RETURN_IF_ERROR(CheckArity(ctx, 4, 4, 1));
  const Tensor& in = ctx.input(0);
  K2L_RETURN_IF_ERROR(CheckSameType(ctx, in, ctx.output(0)));
  K2L_RETURN_IF_ERROR(CheckMovable(ctx, in, "input"));
  const char* names[] = {"begin", "end", "strides"};
  for (int i = 1; i <= 3; ++i) {
    const Tensor& t = ctx.input(i);
    K2L_RETURN_IF_ERROR(CheckIndexInput(ctx, t, names[i - 1], 1));
    if (t.dim(0) != ctx.input(1).dim(0)) {
      return ctx.Error(
          "begin, end and strides must have the same length; "
          "they have " +
          std::to_string(ctx.input(1).dim(0)) + ", " +
          std::to_string(ctx.input(2).dim(0)) + " and " +
          std::to_string(ctx.input(3).dim(0)));
    }
  }
  if (ctx.input(1).dim(0) > 31)
    return ctx.Error("begin has more than 31 entries");
  if (!ValuesOrDefer(ctx, {1, 2, 3})) return Status::Ok();
  reference::StridedSliceSpec spec;
  spec.begin = ReadInts(ctx.input(1));
  spec.end = ReadInts(ctx.input(2));
  spec.strides = ReadInts(ctx.input(3));
  if (const auto* o = ctx.options<fb::StridedSliceOptions>()) {
    spec.begin_mask = static_cast<uint32_t>(o->begin_mask());
    spec.end_mask = static_cast<uint32_t>(o->end_mask());
    spec.ellipsis_mask = static_cast<uint32_t>(o->ellipsis_mask());
    spec.new_axis_mask = static_cast<uint32_t>(o->new_axis_mask());
    spec.shrink_axis_mask = static_cast<uint32_t>(o->shrink_axis_mask());
    spec.offset = o->offset();
  }
  auto& data = ctx.data<StridedSliceData>();
  data.plan = reference::PlanStridedSlice(in.shape, spec);
  if (!data.plan.error.empty()) {
    return ctx.Error(data.plan.error + " (input shape " +
                     ShapeString(in.shape) + ")");
  }
  K2L_RETURN_IF_ERROR(ctx.ResizeOutput(0, data.plan.output_shape));
  const int64_t reads = reference::StridedSliceCount(data.plan);
  if (reads != ctx.output(0).num_elements()) {
    // LiteRT leaves such an output (partly) unwritten: an index that a
    // shrunk axis does not hold, or an offset slice running off the input.
    return ctx.Error("the slice reads " + std::to_string(reads) +
                     " elements of input shape " + ShapeString(in.shape) +
                     " but its output shape is " +
                     ShapeString(data.plan.output_shape) +
                     "; check begin/end against the input shape");
  }
  return Status::Ok();
}

Status StridedSliceEval(OpContext& ctx) {
  const Tensor& in = ctx.input(0);
  Tensor& out = ctx.output(0);
  if (out.num_elements() == 0) return Status::Ok();
  reference::StridedSlice(in.shape, ctx.data<StridedSliceData>().plan, in.raw(),
                          ElementSize(in.type), out.mutable_raw());
  return Status::Ok();
}

}  // namespace

Status RegisterSliceKernels(OpResolver& r) {
  K2L_RETURN_IF_ERROR(
      r.Add({fb::BuiltinOperator::SLICE, 1, 8, SlicePrepare, SliceEval}));
  return r.Add({fb::BuiltinOperator::STRIDED_SLICE, 1, 8, StridedSlicePrepare,
                StridedSliceEval});
}

}  // namespace k2l::runtime::kernels
