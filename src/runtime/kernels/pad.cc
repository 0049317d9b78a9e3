// PAD, PADV2 (a constant border) and MIRROR_PAD.
#include "runtime/reference/pad.h"

#include <cstring>

#include "runtime/kernels/data_util.h"

namespace k2l::runtime::kernels {

namespace {

struct PadData : OpData {
  std::vector<int64_t> before, after;
};

// The paddings matrix [rank, 2] as before/after per axis; LiteRT's PAD reads
// int8, int16, int32, int64 and bool paddings.
Status ReadPaddings(OpContext& ctx, const Tensor& p, int rank, bool mirror,
                    PadData& data) {
  const bool wide = p.type == TensorType::INT32 || p.type == TensorType::INT64;
  const bool narrow = p.type == TensorType::INT8 ||
                      p.type == TensorType::INT16 || p.type == TensorType::BOOL;
  if (!wide && !(narrow && !mirror)) {
    return ctx.Error("paddings '" + p.name + "' has type " + TypeName(p.type) +
                     "; int32 or int64 is needed");
  }
  if (p.rank() != 2 || p.dim(0) != rank || p.dim(1) != 2) {
    return ctx.Error("paddings '" + p.name + "' has shape " +
                     ShapeString(p.shape) + " but the input has rank " +
                     std::to_string(rank) + ", so [" + std::to_string(rank) +
                     ", 2] is needed");
  }
  data.before.assign(rank, 0);
  data.after.assign(rank, 0);
  for (int d = 0; d < 2 * rank; ++d) {
    int64_t v = 0;
    switch (p.type) {
      case TensorType::INT64:
        v = p.data<int64_t>()[d];
        break;
      case TensorType::INT32:
        v = p.data<int32_t>()[d];
        break;
      case TensorType::INT16:
        v = p.data<int16_t>()[d];
        break;
      case TensorType::INT8:
        v = p.data<int8_t>()[d];
        break;
      default:
        v = p.data<uint8_t>()[d] != 0;
        break;
    }
    if (v < 0 || v > INT32_MAX) {
      return ctx.Error("padding " + std::to_string(v) + " of axis " +
                       std::to_string(d / 2) + " must be in [0, 2^31)");
    }
    (d % 2 ? data.after : data.before)[d / 2] = v;
  }
  return Status::Ok();
}

Result<Shape> PaddedShape(OpContext& ctx, const Shape& in,
                          const PadData& data) {
  Shape out(in.size());
  for (size_t d = 0; d < in.size(); ++d) {
    const int64_t n = in[d] + data.before[d] + data.after[d];
    if (n > INT32_MAX) return ctx.Error("a padded axis overflows int32");
    out[d] = static_cast<int32_t>(n);
  }
  return out;
}

// Whether LiteRT pads this type with the zero point (its integer path).
bool PadsWithZeroPoint(const Tensor& t) {
  return t.type == TensorType::UINT8 ||
         ((t.type == TensorType::INT8 || t.type == TensorType::INT16) &&
          !t.quant.empty());
}

Status PadPrepare(OpContext& ctx) {
  K2L_RETURN_IF_ERROR(CheckArity(ctx, 2, 3, 1));
  const Tensor& in = ctx.input(0);
  const Tensor& out = ctx.output(0);
  K2L_RETURN_IF_ERROR(CheckSameType(ctx, in, out));
  K2L_RETURN_IF_ERROR(CheckMovable(ctx, in, "input"));
  if (ctx.has_input(2)) {
    const Tensor& v = ctx.input(2);
    K2L_RETURN_IF_ERROR(CheckSameType(ctx, in, v));
    if (v.num_elements() != 1) {
      return ctx.Error("constant_values '" + v.name + "' has shape " +
                       ShapeString(v.shape) + "; it must hold one value");
    }
    if (PadsWithZeroPoint(in)) K2L_RETURN_IF_ERROR(CheckSameQuant(ctx, v, out));
  }
  if (PadsWithZeroPoint(in)) {
    const int64_t zp = QuantZeroPoint(out);
    const bool fits = in.type == TensorType::UINT8 ? zp >= 0 && zp <= 255
                      : in.type == TensorType::INT8
                          ? zp >= -128 && zp <= 127
                          : zp >= -32768 && zp <= 32767;
    if (!fits) return ctx.Error("the output zero point is out of range");
  }
  if (!ValuesOrDefer(ctx, {1})) return Status::Ok();
  auto& data = ctx.data<PadData>();
  K2L_RETURN_IF_ERROR(ReadPaddings(ctx, ctx.input(1), in.rank(), false, data));
  K2L_ASSIGN_OR_RETURN(Shape shape, PaddedShape(ctx, in.shape, data));
  return ctx.ResizeOutput(0, shape);
}

Status PadEval(OpContext& ctx) {
  const Tensor& in = ctx.input(0);
  Tensor& out = ctx.output(0);
  const size_t elem = ElementSize(in.type);
  uint8_t value[8] = {0};
  if (ctx.has_input(2)) {
    std::memcpy(value, ctx.input(2).raw(), elem);
  } else if (PadsWithZeroPoint(in)) {
    const int64_t zp = QuantZeroPoint(out);
    if (in.type == TensorType::INT16) {
      const int16_t v = static_cast<int16_t>(zp);
      std::memcpy(value, &v, 2);
    } else {
      value[0] = static_cast<uint8_t>(zp);
    }
  }
  const auto& data = ctx.data<PadData>();
  reference::ConstantPad(in.shape, data.before, data.after, in.raw(), value,
                         elem, out.mutable_raw());
  return Status::Ok();
}

struct MirrorData : PadData {
  int64_t offset = 1;
};

Status MirrorPadPrepare(OpContext& ctx) {
  K2L_RETURN_IF_ERROR(CheckArity(ctx, 2, 2, 1));
  const Tensor& in = ctx.input(0);
  const Tensor& out = ctx.output(0);
  K2L_RETURN_IF_ERROR(CheckSameType(ctx, in, out));
  K2L_RETURN_IF_ERROR(CheckMovable(ctx, in, "input"));
  const auto* o = ctx.options<fb::MirrorPadOptions>();
  const auto mode = o ? o->mode() : fb::MirrorPadMode::REFLECT;
  if (mode != fb::MirrorPadMode::REFLECT &&
      mode != fb::MirrorPadMode::SYMMETRIC) {
    return ctx.Error("unknown mirror pad mode " +
                     std::to_string(static_cast<int>(mode)));
  }
  auto& data = ctx.data<MirrorData>();
  data.offset = mode == fb::MirrorPadMode::REFLECT ? 1 : 0;
  if (in.type == TensorType::UINT8 || in.type == TensorType::INT8 ||
      in.type == TensorType::INT16)
    K2L_RETURN_IF_ERROR(CheckSameQuant(ctx, in, out));
  if (in.type == TensorType::INT16 && QuantZeroPoint(in) != 0)
    return ctx.Error("int16 input '" + in.name + "' needs zero point 0");
  if (!ValuesOrDefer(ctx, {1})) return Status::Ok();
  K2L_RETURN_IF_ERROR(ReadPaddings(ctx, ctx.input(1), in.rank(), true, data));
  for (int d = 0; d < in.rank(); ++d) {
    const int64_t most = in.dim(d) - data.offset;
    if (data.before[d] > most || data.after[d] > most) {
      return ctx.Error("paddings (" + std::to_string(data.before[d]) + ", " +
                       std::to_string(data.after[d]) + ") of axis " +
                       std::to_string(d) + " exceed " + std::to_string(most) +
                       ": " + (data.offset ? "REFLECT" : "SYMMETRIC") +
                       " padding may not exceed the axis size" +
                       (data.offset ? " minus 1" : "") + " (input shape " +
                       ShapeString(in.shape) + ")");
    }
  }
  K2L_ASSIGN_OR_RETURN(Shape shape, PaddedShape(ctx, in.shape, data));
  return ctx.ResizeOutput(0, shape);
}

Status MirrorPadEval(OpContext& ctx) {
  const Tensor& in = ctx.input(0);
  const auto& data = ctx.data<MirrorData>();
  reference::MirrorPad(in.shape, data.before, data.after, data.offset, in.raw(),
                       ElementSize(in.type), ctx.output(0).mutable_raw());
  return Status::Ok();
}

}  // namespace

Status RegisterPadKernels(OpResolver& r) {
  K2L_RETURN_IF_ERROR(
      r.Add({fb::BuiltinOperator::PAD, 1, 6, PadPrepare, PadEval}));
  K2L_RETURN_IF_ERROR(
      r.Add({fb::BuiltinOperator::PADV2, 1, 6, PadPrepare, PadEval}));
  return r.Add(
      {fb::BuiltinOperator::MIRROR_PAD, 1, 3, MirrorPadPrepare, MirrorPadEval});
}

}  // namespace k2l::runtime::kernels
