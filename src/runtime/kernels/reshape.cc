// RESHAPE, EXPAND_DIMS and SQUEEZE: same bytes, new shape.
#include <cstring>

#include "runtime/kernels/register.h"
#include "runtime/kernels/util.h"

namespace k2l::runtime::kernels {

namespace {

Status CopyEval(OpContext& ctx) {
  const Tensor& in = ctx.input(0);
  Tensor& out = ctx.output(0);
  if (out.raw() != in.raw())
    std::memcpy(out.mutable_raw(), in.raw(), in.bytes());
  return Status::Ok();
}

Status CheckSameType(OpContext& ctx) {
  if (ctx.input(0).type != ctx.output(0).type) {
    return ctx.Error(std::string("input type ") + TypeName(ctx.input(0).type) +
                     " differs from output type " +
                     TypeName(ctx.output(0).type) + " (corrupt model?)");
  }
  if (ElementSize(ctx.input(0).type) == 0) {
    return ctx.Error(std::string("type ") + TypeName(ctx.input(0).type) +
                     " is not supported");
  }
  return Status::Ok();
}

Status ReshapePrepare(OpContext& ctx) {
  K2L_RETURN_IF_ERROR(CheckArity(ctx, 1, 2, 1));
  K2L_RETURN_IF_ERROR(CheckSameType(ctx));
  std::vector<int64_t> want;
  bool from_input = ctx.has_input(1) && ctx.input(1).rank() == 1;
  if (from_input) {
    K2L_RETURN_IF_ERROR(CheckType(ctx, ctx.input(1), "shape",
                                  {TensorType::INT32, TensorType::INT64}));
    if (!ctx.ValueKnown(1)) {
      ctx.Defer();
      return Status::Ok();
    }
    want = ReadInts(ctx.input(1));
  } else if (const auto* o = ctx.options<fb::ReshapeOptions>();
             o != nullptr && o->new_shape() != nullptr) {
    want.assign(o->new_shape()->begin(), o->new_shape()->end());
  } else if (ctx.has_input(1) && ctx.input(1).num_elements() == 0) {
    // A shape tensor of shape [0] (or with no elements) means a scalar.
  } else if (ctx.has_input(1)) {
    return ctx.Error("the shape input has shape " +
                     ShapeString(ctx.input(1).shape) +
                     "; a 1-D shape is "
                     "needed");
  }
  int64_t count = ctx.input(0).num_elements();
  int64_t known = 1;
  int infer = -1;
  for (size_t i = 0; i < want.size(); ++i) {
    if (want[i] == -1) {
      if (infer >= 0) return ctx.Error("the new shape has more than one -1");
      infer = static_cast<int>(i);
    } else if (want[i] < 0) {
      return ctx.Error("the new shape has a negative size " +
                       std::to_string(want[i]));
    } else {
      known *= want[i];
    }
  }
  if (infer >= 0) {
    if (known == 0 || count % known != 0) {
      return ctx.Error(
          "cannot infer the -1 of the new shape: " + std::to_string(count) +
          " elements do not divide by " + std::to_string(known));
    }
    want[infer] = count / known;
    known *= want[infer];
  }
  if (known != count) {
    return ctx.Error("input '" + ctx.input(0).name + "' has " +
                     std::to_string(count) + " elements (shape " +
                     ShapeString(ctx.input(0).shape) +
                     ") but the new shape holds " + std::to_string(known));
  }
  return ctx.ResizeOutput(0, Shape(want.begin(), want.end()));
}

Status ExpandDimsPrepare(OpContext& ctx) {
  K2L_RETURN_IF_ERROR(CheckArity(ctx, 2, 2, 1));
  K2L_RETURN_IF_ERROR(CheckSameType(ctx));
  K2L_RETURN_IF_ERROR(CheckType(ctx, ctx.input(1), "axis",
                                {TensorType::INT32, TensorType::INT64}));
  if (ctx.input(1).num_elements() != 1)
    return ctx.Error("axis must hold one value");
  if (!ctx.ValueKnown(1)) {
    ctx.Defer();
    return Status::Ok();
  }
  Shape s = ctx.input(0).shape;
  K2L_ASSIGN_OR_RETURN(int axis, NormalizeAxis(ctx, ReadInts(ctx.input(1))[0],
                                               static_cast<int>(s.size()) + 1));
  s.insert(s.begin() + axis, 1);
  return ctx.ResizeOutput(0, s);
}

Status SqueezePrepare(OpContext& ctx) {
  K2L_RETURN_IF_ERROR(CheckArity(ctx, 1, 1, 1));
  K2L_RETURN_IF_ERROR(CheckSameType(ctx));
  const Shape& in = ctx.input(0).shape;
  int rank = static_cast<int>(in.size());
  std::vector<bool> drop(rank, false);
  const auto* o = ctx.options<fb::SqueezeOptions>();
  if (o != nullptr && o->squeeze_dims() && o->squeeze_dims()->size() > 0) {
    for (int32_t d : *o->squeeze_dims()) {
      K2L_ASSIGN_OR_RETURN(int axis, NormalizeAxis(ctx, d, rank));
      if (in[axis] != 1) {
        return ctx.Error("cannot squeeze axis " + std::to_string(d) +
                         " of shape " + ShapeString(in) + ": it is not 1");
      }
      drop[axis] = true;
    }
  } else {
    for (int i = 0; i < rank; ++i) drop[i] = in[i] == 1;
  }
  Shape out;
  for (int i = 0; i < rank; ++i)
    if (!drop[i]) out.push_back(in[i]);
  return ctx.ResizeOutput(0, out);
}

}  // namespace

Status RegisterReshapeKernels(OpResolver& r) {
  K2L_RETURN_IF_ERROR(
      r.Add({fb::BuiltinOperator::RESHAPE, 1, 1, ReshapePrepare, CopyEval}));
  K2L_RETURN_IF_ERROR(r.Add(
      {fb::BuiltinOperator::EXPAND_DIMS, 1, 1, ExpandDimsPrepare, CopyEval}));
  K2L_RETURN_IF_ERROR(
      r.Add({fb::BuiltinOperator::SQUEEZE, 1, 1, SqueezePrepare, CopyEval}));
  return Status::Ok();
}

}  // namespace k2l::runtime::kernels
