// SHAPE and RANK: values known as soon as the input's shape is.
#include "runtime/kernels/data_util.h"

namespace k2l::runtime::kernels {

namespace {

void WriteShape(const Tensor& in, Tensor& out) {
  for (int i = 0; i < in.rank(); ++i) {
    if (out.type == TensorType::INT64) {
      out.mutable_data<int64_t>()[i] = in.dim(i);
    } else {
      out.mutable_data<int32_t>()[i] = in.dim(i);
    }
  }
}

Status ShapePrepare(OpContext& ctx) {
  K2L_RETURN_IF_ERROR(CheckArity(ctx, 1, 1, 1));
  Tensor& out = ctx.output(0);
  K2L_RETURN_IF_ERROR(
      CheckType(ctx, out, "output", {TensorType::INT32, TensorType::INT64}));
  // out_type defaults to FLOAT32 (enum 0) when unset: then the output
  // tensor's own type decides.
  const auto* o = ctx.options<fb::ShapeOptions>();
  if (o != nullptr && o->out_type() != TensorType::FLOAT32 &&
      o->out_type() != out.type) {
    return ctx.Error(std::string("out_type is ") + TypeName(o->out_type()) +
                     " but output '" + out.name + "' has type " +
                     TypeName(out.type) + " (corrupt model?)");
  }
  K2L_RETURN_IF_ERROR(ctx.ResizeOutput(0, {ctx.input(0).rank()}));
  WriteShape(ctx.input(0), out);
  return Status::Ok();
}

Status ShapeEval(OpContext& ctx) {
  WriteShape(ctx.input(0), ctx.output(0));
  return Status::Ok();
}

Status RankPrepare(OpContext& ctx) {
  K2L_RETURN_IF_ERROR(CheckArity(ctx, 1, 1, 1));
  K2L_RETURN_IF_ERROR(CheckType(ctx, ctx.output(0), "output",
                                {TensorType::INT32, TensorType::INT64}));
  return ctx.ResizeOutput(0, {});
}

Status RankEval(OpContext& ctx) {
  Tensor& out = ctx.output(0);
  if (out.type == TensorType::INT64) {
    *out.mutable_data<int64_t>() = ctx.input(0).rank();
  } else {
    *out.mutable_data<int32_t>() = ctx.input(0).rank();
  }
  return Status::Ok();
}

}  // namespace

Status RegisterShapeKernels(OpResolver& r) {
  K2L_RETURN_IF_ERROR(
      r.Add({fb::BuiltinOperator::SHAPE, 1, 1, ShapePrepare, ShapeEval}));
  return r.Add({fb::BuiltinOperator::RANK, 1, 1, RankPrepare, RankEval});
}

}  // namespace k2l::runtime::kernels
