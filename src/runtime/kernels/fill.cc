// FILL and RANGE: outputs whose shape depends on input values.
#include "runtime/reference/fill.h"

#include "runtime/kernels/data_util.h"
#include "runtime/reference/pad.h"

namespace k2l::runtime::kernels {

namespace {

Status FillPrepare(OpContext& ctx) {
  K2L_RETURN_IF_ERROR(CheckArity(ctx, 2, 2, 1));
  const Tensor& dims = ctx.input(0);
  const Tensor& value = ctx.input(1);
  const Tensor& out = ctx.output(0);
  K2L_RETURN_IF_ERROR(CheckIndexInput(ctx, dims, "dims", 1));
  if (value.rank() != 0) {
    return ctx.Error("value '" + value.name + "' has shape " +
                     ShapeString(value.shape) + "; it must be a scalar");
  }
  K2L_RETURN_IF_ERROR(CheckSameType(ctx, value, out));
  K2L_RETURN_IF_ERROR(CheckMovable(ctx, value, "value"));
  K2L_RETURN_IF_ERROR(CheckSameQuant(ctx, value, out));
  if (value.type == TensorType::INT16 && QuantZeroPoint(value) != 0)
    return ctx.Error("int16 value '" + value.name + "' needs zero point 0");
  if (!ValuesOrDefer(ctx, {0})) return Status::Ok();
  Shape shape;
  for (int64_t d : ReadInts(dims)) {
    if (d < 0 || d > INT32_MAX) {
      return ctx.Error("dims '" + dims.name + "' holds " + std::to_string(d) +
                       "; sizes must be >= 0");
    }
    shape.push_back(static_cast<int32_t>(d));
  }
  return ctx.ResizeOutput(0, shape);
}

Status FillEval(OpContext& ctx) {
  Tensor& out = ctx.output(0);
  reference::FillBytes(out.mutable_raw(), out.num_elements(),
                       ctx.input(1).raw(), ElementSize(out.type));
  return Status::Ok();
}

template <typename T>
int64_t RangeSizeOf(OpContext& ctx) {
  return reference::RangeSize(*ctx.input(0).data<T>(), *ctx.input(1).data<T>(),
                              *ctx.input(2).data<T>());
}

Status RangePrepare(OpContext& ctx) {
  K2L_RETURN_IF_ERROR(CheckArity(ctx, 3, 3, 1));
  const char* names[] = {"start", "limit", "delta"};
  const Tensor& start = ctx.input(0);
  K2L_RETURN_IF_ERROR(
      CheckType(ctx, start, "start",
                {TensorType::FLOAT32, TensorType::INT32, TensorType::INT64}));
  for (int i = 0; i < 3; ++i) {
    const Tensor& t = ctx.input(i);
    K2L_RETURN_IF_ERROR(CheckSameType(ctx, start, t));
    if (t.rank() != 0) {
      return ctx.Error(std::string(names[i]) + " '" + t.name + "' has shape " +
                       ShapeString(t.shape) + "; it must be a scalar");
    }
  }
  K2L_RETURN_IF_ERROR(CheckSameType(ctx, start, ctx.output(0)));
  if (!ValuesOrDefer(ctx, {0, 1, 2})) return Status::Ok();
  int64_t n = start.type == TensorType::FLOAT32 ? RangeSizeOf<float>(ctx)
              : start.type == TensorType::INT32 ? RangeSizeOf<int32_t>(ctx)
                                                : RangeSizeOf<int64_t>(ctx);
  if (n < 0) {
    return ctx.Error("delta is 0 or does not lead from start to limit");
  }
  if (n > INT32_MAX) return ctx.Error("the range holds more than 2^31 values");
  return ctx.ResizeOutput(0, {static_cast<int32_t>(n)});
}

template <typename T>
void RangeEvalAs(OpContext& ctx) {
  Tensor& out = ctx.output(0);
  reference::Range(*ctx.input(0).data<T>(), *ctx.input(2).data<T>(),
                   out.num_elements(), out.mutable_data<T>());
}

Status RangeEval(OpContext& ctx) {
  switch (ctx.output(0).type) {
    case TensorType::FLOAT32:
      RangeEvalAs<float>(ctx);
      break;
    case TensorType::INT32:
      RangeEvalAs<int32_t>(ctx);
      break;
    default:
      RangeEvalAs<int64_t>(ctx);
      break;
  }
  return Status::Ok();
}

}  // namespace

Status RegisterFillKernels(OpResolver& r) {
  K2L_RETURN_IF_ERROR(
      r.Add({fb::BuiltinOperator::FILL, 1, 5, FillPrepare, FillEval}));
  return r.Add({fb::BuiltinOperator::RANGE, 1, 2, RangePrepare, RangeEval});
}

}  // namespace k2l::runtime::kernels
