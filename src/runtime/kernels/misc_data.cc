// REVERSE_V2 and CUMSUM, and the registration of every data kernel family.
#include "runtime/kernels/data_util.h"
#include "runtime/kernels/register.h"
#include "runtime/reference/fill.h"
#include "runtime/reference/slice.h"

namespace k2l::runtime::kernels {

namespace {

Status ReversePrepare(OpContext& ctx) {
  K2L_RETURN_IF_ERROR(CheckArity(ctx, 2, 2, 1));
  const Tensor& in = ctx.input(0);
  const Tensor& axis = ctx.input(1);
  K2L_RETURN_IF_ERROR(CheckSameType(ctx, in, ctx.output(0)));
  K2L_RETURN_IF_ERROR(CheckMovable(ctx, in, "input"));
  K2L_RETURN_IF_ERROR(CheckRank(ctx, in, "input", 0, 8));
  K2L_RETURN_IF_ERROR(CheckIndexInput(ctx, axis, "axis", 1));
  if (axis.dim(0) > in.rank()) {
    return ctx.Error(
        "axis '" + axis.name + "' names " + std::to_string(axis.dim(0)) +
        " axes but the input has rank " + std::to_string(in.rank()));
  }
  return ctx.ResizeOutput(0, in.shape);
}

Status ReverseEval(OpContext& ctx) {
  const Tensor& in = ctx.input(0);
  const int rank = in.rank();
  std::vector<bool> flip(rank, false);
  for (int64_t a : ReadInts(ctx.input(1))) {
    K2L_ASSIGN_OR_RETURN(int d, NormalizeAxis(ctx, a, rank));
    if (flip[d]) {
      return ctx.Error("axis " + std::to_string(d) + " is named twice");
    }
    flip[d] = true;
  }
  if (in.num_elements() == 0) return Status::Ok();
  reference::Reverse(in.shape, flip, in.raw(), ElementSize(in.type),
                     ctx.output(0).mutable_raw());
  return Status::Ok();
}

Status CumsumPrepare(OpContext& ctx) {
  K2L_RETURN_IF_ERROR(CheckArity(ctx, 2, 2, 1));
  const Tensor& in = ctx.input(0);
  K2L_RETURN_IF_ERROR(
      CheckType(ctx, in, "input",
                {TensorType::FLOAT32, TensorType::INT32, TensorType::INT64}));
  K2L_RETURN_IF_ERROR(CheckSameType(ctx, in, ctx.output(0)));
  K2L_RETURN_IF_ERROR(CheckRank(ctx, in, "input", 1, 64));
  K2L_RETURN_IF_ERROR(CheckIndexInput(ctx, ctx.input(1), "axis", -1));
  if (ctx.input(1).num_elements() != 1)
    return ctx.Error("axis '" + ctx.input(1).name + "' must hold one value");
  return ctx.ResizeOutput(0, in.shape);
}

template <typename T>
void CumsumAs(const Tensor& in, int axis, bool exclusive, bool reverse,
              Tensor& out) {
  int64_t outer = 1, inner = 1;
  for (int i = 0; i < axis; ++i) outer *= in.dim(i);
  for (int i = axis + 1; i < in.rank(); ++i) inner *= in.dim(i);
  reference::Cumsum(in.data<T>(), outer, in.dim(axis), inner, exclusive,
                    reverse, out.mutable_data<T>());
}

Status CumsumEval(OpContext& ctx) {
  const Tensor& in = ctx.input(0);
  Tensor& out = ctx.output(0);
  K2L_ASSIGN_OR_RETURN(
      int axis, NormalizeAxis(ctx, ReadInts(ctx.input(1))[0], in.rank()));
  if (in.num_elements() == 0) return Status::Ok();
  const auto* o = ctx.options<fb::CumsumOptions>();
  const bool exclusive = o && o->exclusive(), reverse = o && o->reverse();
  switch (in.type) {
    case TensorType::FLOAT32:
      CumsumAs<float>(in, axis, exclusive, reverse, out);
      break;
    case TensorType::INT32:
      CumsumAs<int32_t>(in, axis, exclusive, reverse, out);
      break;
    default:
      CumsumAs<int64_t>(in, axis, exclusive, reverse, out);
      break;
  }
  return Status::Ok();
}

}  // namespace

Status RegisterMiscDataKernels(OpResolver& r) {
  K2L_RETURN_IF_ERROR(r.Add(
      {fb::BuiltinOperator::REVERSE_V2, 1, 4, ReversePrepare, ReverseEval}));
  return r.Add({fb::BuiltinOperator::CUMSUM, 1, 1, CumsumPrepare, CumsumEval});
}

Status RegisterDataKernels(OpResolver& r) {
  K2L_RETURN_IF_ERROR(RegisterTransposeKernels(r));
  K2L_RETURN_IF_ERROR(RegisterConcatKernels(r));
  K2L_RETURN_IF_ERROR(RegisterPadKernels(r));
  K2L_RETURN_IF_ERROR(RegisterSliceKernels(r));
  K2L_RETURN_IF_ERROR(RegisterGatherKernels(r));
  K2L_RETURN_IF_ERROR(RegisterTileKernels(r));
  K2L_RETURN_IF_ERROR(RegisterSplitKernels(r));
  K2L_RETURN_IF_ERROR(RegisterShapeKernels(r));
  K2L_RETURN_IF_ERROR(RegisterFillKernels(r));
  K2L_RETURN_IF_ERROR(RegisterDynamicUpdateSliceKernels(r));
  K2L_RETURN_IF_ERROR(RegisterResizeKernels(r));
  K2L_RETURN_IF_ERROR(RegisterSpaceDepthKernels(r));
  return RegisterMiscDataKernels(r);
}

}  // namespace k2l::runtime::kernels
