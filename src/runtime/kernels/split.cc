// SPLIT (axis input first) and SPLIT_V (sizes, one of which may be -1).
#include "runtime/kernels/data_util.h"
#include "runtime/reference/concat.h"

namespace k2l::runtime::kernels {

namespace {

struct SplitData : OpData {
  int axis = 0;
  std::vector<int64_t> sizes;
};

Status CheckNumSplits(OpContext& ctx, int num_splits) {
  if (num_splits == ctx.num_outputs()) return Status::Ok();
  return ctx.Error("num_splits is " + std::to_string(num_splits) +
                   " but the op has " + std::to_string(ctx.num_outputs()) +
                   " outputs (corrupt model?)");
}

Result<int> ReadAxis(OpContext& ctx, const Tensor& axis, const Tensor& in) {
  K2L_RETURN_IF_ERROR(CheckIndexInput(ctx, axis, "axis", -1));
  if (axis.num_elements() != 1)
    return ctx.Error("axis '" + axis.name + "' must hold one value");
  return NormalizeAxis(ctx, ReadInts(axis)[0], in.rank());
}

// Sizes the outputs as the input with `sizes` along the split axis.
Status ResizeSplits(OpContext& ctx, const Tensor& in, const SplitData& d) {
  for (int i = 0; i < ctx.num_outputs(); ++i) {
    K2L_RETURN_IF_ERROR(CheckSameType(ctx, in, ctx.output(i)));
    Shape s = in.shape;
    s[d.axis] = static_cast<int32_t>(d.sizes[i]);
    K2L_RETURN_IF_ERROR(ctx.ResizeOutput(i, s));
  }
  return Status::Ok();
}

Status SplitPrepare(OpContext& ctx) {
  K2L_RETURN_IF_ERROR(CheckArity(ctx, 2, 2, -1));
  const auto* o = ctx.options<fb::SplitOptions>();
  const int n = o ? o->num_splits() : 0;
  K2L_RETURN_IF_ERROR(CheckNumSplits(ctx, n));
  const Tensor& in = ctx.input(1);
  K2L_RETURN_IF_ERROR(CheckMovable(ctx, in, "input"));
  K2L_RETURN_IF_ERROR(CheckRank(ctx, in, "input", 1, 64));
  if (n == 0) return ctx.Error("num_splits is 0");
  if (!ValuesOrDefer(ctx, {0})) return Status::Ok();
  auto& d = ctx.data<SplitData>();
  K2L_ASSIGN_OR_RETURN(d.axis, ReadAxis(ctx, ctx.input(0), in));
  if (in.dim(d.axis) % n != 0) {
    return ctx.Error("axis " + std::to_string(d.axis) + " of input shape " +
                     ShapeString(in.shape) + " does not split evenly into " +
                     std::to_string(n));
  }
  d.sizes.assign(n, in.dim(d.axis) / n);
  return ResizeSplits(ctx, in, d);
}

Status SplitVPrepare(OpContext& ctx) {
  K2L_RETURN_IF_ERROR(CheckArity(ctx, 3, 3, -1));
  const auto* o = ctx.options<fb::SplitVOptions>();
  K2L_RETURN_IF_ERROR(CheckNumSplits(ctx, o ? o->num_splits() : 0));
  const Tensor& in = ctx.input(0);
  const Tensor& sizes = ctx.input(1);
  K2L_RETURN_IF_ERROR(CheckMovable(ctx, in, "input"));
  K2L_RETURN_IF_ERROR(CheckRank(ctx, in, "input", 1, 64));
  K2L_RETURN_IF_ERROR(CheckIndexInput(ctx, sizes, "size_splits", 1));
  if (sizes.dim(0) != ctx.num_outputs()) {
    return ctx.Error("size_splits '" + sizes.name + "' has " +
                     std::to_string(sizes.dim(0)) + " entries for " +
                     std::to_string(ctx.num_outputs()) + " outputs");
  }
  if (!ValuesOrDefer(ctx, {1, 2})) return Status::Ok();
  auto& d = ctx.data<SplitData>();
  K2L_ASSIGN_OR_RETURN(d.axis, ReadAxis(ctx, ctx.input(2), in));
  d.sizes = ReadInts(sizes);
  int infer = -1;
  int64_t sum = 0;
  for (size_t i = 0; i < d.sizes.size(); ++i) {
    if (d.sizes[i] == -1 && infer < 0) {
      infer = static_cast<int>(i);
    } else if (d.sizes[i] < 0) {
      return ctx.Error("size_splits holds " + std::to_string(d.sizes[i]) +
                       "; sizes must be >= 0 with at most one -1");
    } else {
      sum += d.sizes[i];
    }
  }
  const int64_t dim = in.dim(d.axis);
  if (infer >= 0 && sum <= dim) d.sizes[infer] = dim - sum;
  if ((infer >= 0 && sum > dim) || (infer < 0 && sum != dim)) {
    return ctx.Error("size_splits sum to " + std::to_string(sum) +
                     " but axis " + std::to_string(d.axis) +
                     " of input shape " + ShapeString(in.shape) + " holds " +
                     std::to_string(dim));
  }
  return ResizeSplits(ctx, in, d);
}

Status SplitEvalFrom(OpContext& ctx, const Tensor& in) {
  if (in.num_elements() == 0) return Status::Ok();
  const auto& d = ctx.data<SplitData>();
  int64_t outer = 1, inner = 1;
  for (int i = 0; i < d.axis; ++i) outer *= in.dim(i);
  for (int i = d.axis + 1; i < in.rank(); ++i) inner *= in.dim(i);
  std::vector<uint8_t*> outs;
  for (int i = 0; i < ctx.num_outputs(); ++i)
    outs.push_back(ctx.output(i).mutable_raw());
  reference::Split(in.raw(), d.sizes, outer, inner, ElementSize(in.type), outs);
  return Status::Ok();
}

Status SplitEval(OpContext& ctx) { return SplitEvalFrom(ctx, ctx.input(1)); }
Status SplitVEval(OpContext& ctx) { return SplitEvalFrom(ctx, ctx.input(0)); }

}  // namespace

Status RegisterSplitKernels(OpResolver& r) {
  K2L_RETURN_IF_ERROR(
      r.Add({fb::BuiltinOperator::SPLIT, 1, 5, SplitPrepare, SplitEval}));
  return r.Add({fb::BuiltinOperator::SPLIT_V, 1, 3, SplitVPrepare, SplitVEval});
}

}  // namespace k2l::runtime::kernels
