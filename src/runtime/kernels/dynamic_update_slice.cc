// DYNAMIC_UPDATE_SLICE: the operand with `update` written at start indices
// that are clamped, as LiteRT does, so the update always fits.
#include <algorithm>
#include <cstring>

#include "runtime/kernels/data_util.h"
#include "runtime/reference/slice.h"

namespace k2l::runtime::kernels {

namespace {

Status DusPrepare(OpContext& ctx) {
  K2L_RETURN_IF_ERROR(CheckArity(ctx, 3, 3, 1));
  const Tensor& operand = ctx.input(0);
  const Tensor& update = ctx.input(1);
  const Tensor& start = ctx.input(2);
  K2L_RETURN_IF_ERROR(CheckSameType(ctx, operand, update));
  K2L_RETURN_IF_ERROR(CheckSameType(ctx, operand, ctx.output(0)));
  K2L_RETURN_IF_ERROR(CheckMovable(ctx, operand, "operand"));
  K2L_RETURN_IF_ERROR(CheckIndexInput(ctx, start, "start_indices", 1));
  if (start.dim(0) != operand.rank() || update.rank() != operand.rank()) {
    return ctx.Error("operand shape " + ShapeString(operand.shape) +
                     ", update shape " + ShapeString(update.shape) +
                     " and start_indices shape " + ShapeString(start.shape) +
                     " disagree: the ranks must match");
  }
  for (int d = 0; d < operand.rank(); ++d) {
    if (update.dim(d) > operand.dim(d)) {
      return ctx.Error("update shape " + ShapeString(update.shape) +
                       " is larger than operand shape " +
                       ShapeString(operand.shape) + " along axis " +
                       std::to_string(d));
    }
  }
  return ctx.ResizeOutput(0, operand.shape);
}

Status DusEval(OpContext& ctx) {
  const Tensor& operand = ctx.input(0);
  const Tensor& update = ctx.input(1);
  Tensor& out = ctx.output(0);
  const size_t elem = ElementSize(operand.type);
  if (operand.num_elements() == 0) return Status::Ok();
  if (update.num_elements() == operand.num_elements()) {
    std::memcpy(out.mutable_raw(), update.raw(), update.bytes());
    return Status::Ok();
  }
  if (out.raw() != operand.raw())
    std::memcpy(out.mutable_raw(), operand.raw(), operand.bytes());
  std::vector<int64_t> start = ReadInts(ctx.input(2));
  for (int d = 0; d < operand.rank(); ++d) {
    start[d] = std::clamp<int64_t>(start[d], 0, operand.dim(d) - update.dim(d));
  }
  reference::UpdateSlice(operand.shape, update.shape, start, update.raw(), elem,
                         out.mutable_raw());
  return Status::Ok();
}

}  // namespace

Status RegisterDynamicUpdateSliceKernels(OpResolver& r) {
  return r.Add(
      {fb::BuiltinOperator::DYNAMIC_UPDATE_SLICE, 1, 6, DusPrepare, DusEval});
}

}  // namespace k2l::runtime::kernels
