// CONCATENATION, PACK and UNPACK.
#include "runtime/reference/concat.h"

#include "runtime/kernels/data_util.h"

namespace k2l::runtime::kernels {

namespace {

// Elements before and after `axis` of `s`.
int64_t Outer(const Shape& s, int axis) {
  int64_t n = 1;
  for (int i = 0; i < axis; ++i) n *= s[i];
  return n;
}
int64_t Inner(const Shape& s, int axis) {
  int64_t n = 1;
  for (size_t i = axis + 1; i < s.size(); ++i) n *= s[i];
  return n;
}

struct ConcatData : OpData {
  int axis = 0;
  fb::ActivationFunctionType act = fb::ActivationFunctionType::NONE;
  bool requantize = false;  // uint8 inputs with another scale
};

Status ConcatPrepare(OpContext& ctx) {
  K2L_RETURN_IF_ERROR(CheckArity(ctx, 1, 1 << 20, 1));
  const auto* o = ctx.options<fb::ConcatenationOptions>();
  auto& data = ctx.data<ConcatData>();
  data.act =
      o ? o->fused_activation_function() : fb::ActivationFunctionType::NONE;
  const Tensor& t0 = ctx.input(0);
  Tensor& out = ctx.output(0);
  K2L_RETURN_IF_ERROR(CheckMovable(ctx, t0, "input"));
  K2L_RETURN_IF_ERROR(CheckSameType(ctx, t0, out));
  if (data.act != fb::ActivationFunctionType::NONE) {
    // LiteRT itself refuses any fused activation here; float gets it
    // applied so that such a model still means what it says.
    if (t0.type != TensorType::FLOAT32) {
      return ctx.Error(std::string("a fused activation needs float32 ") +
                       "inputs, not " + TypeName(t0.type));
    }
    K2L_RETURN_IF_ERROR(ActivationRange(ctx, data.act).status());
  }
  const int rank = t0.rank();
  const int64_t axis_opt = o ? o->axis() : 0;
  if (rank == 0) {
    if (axis_opt != 0) {
      return ctx.Error("axis " + std::to_string(axis_opt) +
                       " is out of range for scalar inputs");
    }
  } else {
    K2L_ASSIGN_OR_RETURN(data.axis, NormalizeAxis(ctx, axis_opt, rank));
  }
  Shape shape = t0.shape;
  int64_t sum = rank == 0 ? 1 : t0.dim(data.axis);
  data.requantize = false;
  for (int i = 0; i < ctx.num_inputs(); ++i) {
    if (!ctx.has_input(i)) return ctx.Error("an input is omitted (-1)");
    const Tensor& t = ctx.input(i);
    K2L_RETURN_IF_ERROR(CheckSameType(ctx, t0, t));
    if (t.rank() != rank) {
      return ctx.Error("input '" + t.name + "' has shape " +
                       ShapeString(t.shape) + " but input '" + t0.name +
                       "' has shape " + ShapeString(t0.shape) +
                       "; ranks must match");
    }
    for (int d = 0; d < rank; ++d) {
      if (d != data.axis && t.dim(d) != t0.dim(d)) {
        return ctx.Error(
            "input '" + t.name + "' has shape " + ShapeString(t.shape) +
            " but input '" + t0.name + "' has shape " + ShapeString(t0.shape) +
            "; they may differ only along axis " + std::to_string(data.axis));
      }
    }
    if (i > 0) sum += rank == 0 ? 1 : t.dim(data.axis);
    if (t.type == TensorType::INT8) {
      K2L_RETURN_IF_ERROR(CheckSameQuant(ctx, t, out));
    } else if (t.type == TensorType::INT16 && QuantZeroPoint(t) != 0) {
      return ctx.Error("int16 input '" + t.name + "' needs zero point 0");
    } else if (t.type == TensorType::UINT8) {
      data.requantize |= QuantScale(t) != QuantScale(out) ||
                         QuantZeroPoint(t) != QuantZeroPoint(out);
    }
  }
  if (sum > INT32_MAX) return ctx.Error("the output axis overflows int32");
  if (rank == 0) {
    shape = {static_cast<int32_t>(sum)};
  } else {
    shape[data.axis] = static_cast<int32_t>(sum);
  }
  return ctx.ResizeOutput(0, shape);
}

Status ConcatEval(OpContext& ctx) {
  const auto& data = ctx.data<ConcatData>();
  Tensor& out = ctx.output(0);
  const bool scalars = ctx.input(0).rank() == 0;
  const int64_t outer = scalars ? 1 : Outer(out.shape, data.axis);
  const int64_t inner = scalars ? 1 : Inner(out.shape, data.axis);
  std::vector<const uint8_t*> ins;
  std::vector<int64_t> sizes;
  std::vector<float> scales;
  std::vector<int32_t> zero_points;
  for (int i = 0; i < ctx.num_inputs(); ++i) {
    const Tensor& t = ctx.input(i);
    ins.push_back(t.raw());
    sizes.push_back(scalars ? 1 : t.dim(data.axis));
    scales.push_back(QuantScale(t));
    zero_points.push_back(static_cast<int32_t>(QuantZeroPoint(t)));
  }
  if (out.num_elements() == 0) return Status::Ok();
  if (data.requantize) {
    reference::ConcatenateUint8(
        ins, sizes, scales, zero_points, outer, inner, QuantScale(out),
        static_cast<int32_t>(QuantZeroPoint(out)), out.mutable_raw());
  } else {
    reference::Concatenate(ins, sizes, outer, inner, ElementSize(out.type),
                           out.mutable_raw());
  }
  if (data.act != fb::ActivationFunctionType::NONE)
    ApplyActivation(data.act, out.mutable_data<float>(), out.num_elements());
  return Status::Ok();
}

struct PackData : OpData {
  int axis = 0;
};

Status PackPrepare(OpContext& ctx) {
  K2L_RETURN_IF_ERROR(CheckArity(ctx, 1, 1 << 20, 1));
  const auto* o = ctx.options<fb::PackOptions>();
  const int count = o ? o->values_count() : 0;
  if (count != ctx.num_inputs()) {
    return ctx.Error("values_count is " + std::to_string(count) + " but " +
                     std::to_string(ctx.num_inputs()) +
                     " inputs are given (corrupt model?)");
  }
  const Tensor& t0 = ctx.input(0);
  Tensor& out = ctx.output(0);
  K2L_RETURN_IF_ERROR(CheckMovable(ctx, t0, "input"));
  K2L_RETURN_IF_ERROR(CheckSameType(ctx, t0, out));
  auto& data = ctx.data<PackData>();
  K2L_ASSIGN_OR_RETURN(data.axis, NormalizeAxis(ctx, o->axis(), t0.rank() + 1));
  for (int i = 0; i < count; ++i) {
    if (!ctx.has_input(i)) return ctx.Error("an input is omitted (-1)");
    const Tensor& t = ctx.input(i);
    K2L_RETURN_IF_ERROR(CheckSameType(ctx, t0, t));
    if (t.shape != t0.shape) {
      return ctx.Error("input '" + t.name + "' has shape " +
                       ShapeString(t.shape) + " but input '" + t0.name +
                       "' has shape " + ShapeString(t0.shape) +
                       "; packed inputs must match");
    }
    K2L_RETURN_IF_ERROR(CheckSameQuant(ctx, t, out));
  }
  Shape shape = t0.shape;
  shape.insert(shape.begin() + data.axis, count);
  return ctx.ResizeOutput(0, shape);
}

Status PackEval(OpContext& ctx) {
  Tensor& out = ctx.output(0);
  if (out.num_elements() == 0) return Status::Ok();
  const int axis = ctx.data<PackData>().axis;
  const Shape& s = ctx.input(0).shape;
  std::vector<const uint8_t*> ins;
  for (int i = 0; i < ctx.num_inputs(); ++i) ins.push_back(ctx.input(i).raw());
  reference::Concatenate(ins, std::vector<int64_t>(ins.size(), 1),
                         Outer(s, axis), Inner(s, axis - 1),
                         ElementSize(out.type), out.mutable_raw());
  return Status::Ok();
}

Status UnpackPrepare(OpContext& ctx) {
  K2L_RETURN_IF_ERROR(CheckArity(ctx, 1, 1, -1));
  const auto* o = ctx.options<fb::UnpackOptions>();
  const int num = o ? o->num() : 0;
  const Tensor& in = ctx.input(0);
  if (num != ctx.num_outputs()) {
    return ctx.Error("num is " + std::to_string(num) + " but the op has " +
                     std::to_string(ctx.num_outputs()) +
                     " outputs (corrupt model?)");
  }
  K2L_RETURN_IF_ERROR(CheckMovable(ctx, in, "input"));
  K2L_RETURN_IF_ERROR(CheckRank(ctx, in, "input", 1, 64));
  K2L_ASSIGN_OR_RETURN(int axis,
                       NormalizeAxis(ctx, o ? o->axis() : 0, in.rank()));
  ctx.data<PackData>().axis = axis;
  if (in.dim(axis) != num) {
    return ctx.Error("input '" + in.name + "' has shape " +
                     ShapeString(in.shape) + ": axis " + std::to_string(axis) +
                     " holds " + std::to_string(in.dim(axis)) + ", not num " +
                     std::to_string(num));
  }
  Shape shape = in.shape;
  shape.erase(shape.begin() + axis);
  for (int i = 0; i < num; ++i) {
    K2L_RETURN_IF_ERROR(CheckSameType(ctx, in, ctx.output(i)));
    K2L_RETURN_IF_ERROR(CheckSameQuant(ctx, in, ctx.output(i)));
    K2L_RETURN_IF_ERROR(ctx.ResizeOutput(i, shape));
  }
  return Status::Ok();
}

Status UnpackEval(OpContext& ctx) {
  const Tensor& in = ctx.input(0);
  if (in.num_elements() == 0) return Status::Ok();
  const int axis = ctx.data<PackData>().axis;
  std::vector<uint8_t*> outs;
  for (int i = 0; i < ctx.num_outputs(); ++i)
    outs.push_back(ctx.output(i).mutable_raw());
  reference::Split(in.raw(), std::vector<int64_t>(outs.size(), 1),
                   Outer(in.shape, axis), Inner(in.shape, axis),
                   ElementSize(in.type), outs);
  return Status::Ok();
}

}  // namespace

Status RegisterConcatKernels(OpResolver& r) {
  K2L_RETURN_IF_ERROR(r.Add(
      {fb::BuiltinOperator::CONCATENATION, 1, 7, ConcatPrepare, ConcatEval}));
  K2L_RETURN_IF_ERROR(
      r.Add({fb::BuiltinOperator::PACK, 1, 5, PackPrepare, PackEval}));
  return r.Add({fb::BuiltinOperator::UNPACK, 1, 6, UnpackPrepare, UnpackEval});
}

}  // namespace k2l::runtime::kernels
