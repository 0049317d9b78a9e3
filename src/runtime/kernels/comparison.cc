// Comparisons (EQUAL, NOT_EQUAL, GREATER, GREATER_EQUAL, LESS, LESS_EQUAL)
// producing bool, LOGICAL_AND, LOGICAL_OR, SELECT and SELECT_V2, all with
// numpy broadcasting. Quantized uint8/int8 comparisons rescale both sides
// to a common fixed-point scale first, as LiteRT does.
#include <functional>

#include "runtime/kernels/elementwise.h"
#include "runtime/kernels/register.h"
#include "runtime/kernels/util.h"
#include "runtime/reference/binary.h"
#include "runtime/reference/fixed_point.h"
#include "runtime/reference/quantize.h"

namespace k2l::runtime::kernels {

namespace {

using TT = TensorType;
namespace ref = reference;

template <typename T, typename Cmp>
void RunCompare(OpContext& ctx, const Cmp& cmp) {
  const auto& plan = ctx.data<BinaryData>().plan;
  const T* a = ctx.input(0).data<T>();
  const T* b = ctx.input(1).data<T>();
  bool* out = ctx.output(0).mutable_data<bool>();
  ctx.ParallelFor(plan.size, kBinaryChunk, [&](int64_t s, int64_t e) {
    ref::BroadcastBinary(plan, a, b, out, s, e, cmp);
  });
}

// Cmp is a std:: comparison functor template (std::less, ...).
template <template <typename> class Cmp>
Status CompareEval(OpContext& ctx) {
  const auto& d = ctx.data<BinaryData>();
  switch (ctx.input(0).type) {
    case TT::INT8:
      RunCompare<int8_t>(ctx, ref::QuantizedCompare<int8_t, Cmp<int32_t>>{
                                  d.cmp_a, d.cmp_b, Cmp<int32_t>()});
      break;
    case TT::UINT8:
      RunCompare<uint8_t>(ctx, ref::QuantizedCompare<uint8_t, Cmp<int32_t>>{
                                   d.cmp_a, d.cmp_b, Cmp<int32_t>()});
      break;
    case TT::FLOAT32:
      RunCompare<float>(ctx, Cmp<float>());
      break;
    case TT::INT16:
      RunCompare<int16_t>(ctx, Cmp<int16_t>());
      break;
    case TT::INT32:
      RunCompare<int32_t>(ctx, Cmp<int32_t>());
      break;
    case TT::INT64:
      RunCompare<int64_t>(ctx, Cmp<int64_t>());
      break;
    case TT::BOOL:
      RunCompare<bool>(ctx, Cmp<bool>());
      break;
    default:
      return ctx.Error(std::string("internal: no comparison for type ") +
                       TypeName(ctx.input(0).type));
  }
  return Status::Ok();
}

// int8/uint8 inputs are always compared as quantized values (LiteRT has no
// plain 8-bit comparison); int16 only without quantization parameters.
Status QuantizedComparePrepare(OpContext& ctx) {
  const TT t = ctx.input(0).type;
  if (t != TT::INT8 && t != TT::UINT8)
    return RejectQuantized(ctx, ctx.input(0), "input");
  BinaryData& d = ctx.data<BinaryData>();
  ref::CompareRescale* out[2] = {&d.cmp_a, &d.cmp_b};
  for (int i = 0; i < 2; ++i) {
    K2L_ASSIGN_OR_RETURN(TensorQuant q,
                         PerTensorQuant(ctx, ctx.input(i), "input"));
    if (!(q.scale > 0 && q.scale < 1)) {
      return ctx.Error("input '" + ctx.input(i).name + "' has scale " +
                       std::to_string(q.scale) +
                       "; quantized comparisons need a scale in (0, 1)");
    }
    out[i]->offset = -q.zero_point;
    ref::QuantizeMultiplier(q.scale, &out[i]->multiplier, &out[i]->shift);
  }
  return Status::Ok();
}

// EQUAL and NOT_EQUAL also compare bools.
Status EqualityPrepare(OpContext& ctx) {
  K2L_RETURN_IF_ERROR(BinaryPrepare(ctx,
                                    {TT::FLOAT32, TT::INT8, TT::UINT8,
                                     TT::INT16, TT::INT32, TT::INT64, TT::BOOL},
                                    /*output_bool=*/true));
  return QuantizedComparePrepare(ctx);
}
Status OrderPrepare(OpContext& ctx) {
  K2L_RETURN_IF_ERROR(BinaryPrepare(
      ctx, {TT::FLOAT32, TT::INT8, TT::UINT8, TT::INT16, TT::INT32, TT::INT64},
      /*output_bool=*/true));
  return QuantizedComparePrepare(ctx);
}

Status LogicalPrepare(OpContext& ctx) { return BinaryPrepare(ctx, {TT::BOOL}); }
Status LogicalAndEval(OpContext& ctx) {
  RunCompare<bool>(ctx, [](bool a, bool b) { return a && b; });
  return Status::Ok();
}
Status LogicalOrEval(OpContext& ctx) {
  RunCompare<bool>(ctx, [](bool a, bool b) { return a || b; });
  return Status::Ok();
}

// --- SELECT / SELECT_V2 ------------------------------------------------------

struct SelectData : OpData {
  ref::Broadcast<3> plan;
};

// SELECT (v1) takes a condition of x's shape, a scalar, or a vector over
// x's first dimension; SELECT_V2 broadcasts all three inputs.
template <bool kV2>
Status SelectPrepare(OpContext& ctx) {
  K2L_RETURN_IF_ERROR(CheckArity(ctx, 3, 3, 1));
  const Tensor& c = ctx.input(0);
  const Tensor& x = ctx.input(1);
  const Tensor& y = ctx.input(2);
  K2L_RETURN_IF_ERROR(CheckType(ctx, c, "condition", {TT::BOOL}));
  if (x.type != y.type || ctx.output(0).type != x.type) {
    return ctx.Error(std::string("x '") + x.name + "' (" + TypeName(x.type) +
                     "), y '" + y.name + "' (" + TypeName(y.type) +
                     ") and the output (" + TypeName(ctx.output(0).type) +
                     ") must have one type");
  }
  size_t width = ElementSize(x.type);
  if (width != 1 && width != 2 && width != 4 && width != 8) {
    return ctx.Error(std::string("type ") + TypeName(x.type) +
                     " is not supported");
  }
  Shape out;
  Shape cond = c.shape;
  // Single-element inputs keep the output shape the model declares, as
  // LiteRT does for scalars written with mixed shapes.
  if (c.num_elements() == 1 && x.num_elements() == 1 && y.num_elements() == 1 &&
      ctx.output(0).num_elements() == 1) {
    out = ctx.output(0).shape;
  } else if (c.shape == x.shape && x.shape == y.shape) {
    out = x.shape;
  } else if (!kV2) {
    bool low_rank = c.rank() == 0 ||
                    (c.rank() == 1 && x.rank() >= 1 && c.dim(0) == x.dim(0));
    if (!low_rank || x.shape != y.shape) {
      return ctx.Error("condition " + ShapeString(c.shape) + ", x " +
                       ShapeString(x.shape) + " and y " + ShapeString(y.shape) +
                       ": SELECT needs x and y of one shape and a condition "
                       "of that shape, a scalar, or a vector over its first "
                       "dimension (SELECT_V2 broadcasts)");
    }
    out = x.shape;
    // A vector condition selects whole slices along the first dimension.
    if (c.rank() == 1) cond.resize(x.rank(), 1);
  } else {
    K2L_ASSIGN_OR_RETURN(Shape cx, BroadcastShapes(ctx, c.shape, x.shape));
    K2L_ASSIGN_OR_RETURN(out, BroadcastShapes(ctx, cx, y.shape));
  }
  // Single-element inputs of another rank still broadcast to `out`.
  Shape one(out.size(), 1);
  auto fit = [&](const Shape& s) -> const Shape& {
    return NumElements(s) == 1 && s.size() > out.size() ? one : s;
  };
  Shape xs = fit(x.shape), ys = fit(y.shape);
  cond = fit(cond);
  ctx.data<SelectData>().plan = ref::MakeBroadcast<3>({&cond, &xs, &ys}, out);
  return ctx.ResizeOutput(0, out);
}

template <typename T>
void RunSelect(OpContext& ctx) {
  const auto& plan = ctx.data<SelectData>().plan;
  const bool* c = ctx.input(0).data<bool>();
  const T* x = ctx.input(1).data<T>();
  const T* y = ctx.input(2).data<T>();
  T* out = ctx.output(0).mutable_data<T>();
  ctx.ParallelFor(plan.size, kBinaryChunk, [&](int64_t s, int64_t e) {
    ref::BroadcastSelect(plan, c, x, y, out, s, e);
  });
}

// A conditional copy: only the element width matters.
Status SelectEval(OpContext& ctx) {
  switch (ElementSize(ctx.input(1).type)) {
    case 1:
      RunSelect<uint8_t>(ctx);
      break;
    case 2:
      RunSelect<uint16_t>(ctx);
      break;
    case 4:
      RunSelect<uint32_t>(ctx);
      break;
    default:
      RunSelect<uint64_t>(ctx);
      break;
  }
  return Status::Ok();
}

}  // namespace

Status RegisterComparisonKernels(OpResolver& r) {
  using Op = fb::BuiltinOperator;
  struct Entry {
    Op code;
    int max_version;
    Status (*prepare)(OpContext&);
    Status (*eval)(OpContext&);
  };
  const Entry kEntries[] = {
      {Op::EQUAL, 5, EqualityPrepare, CompareEval<std::equal_to>},
      {Op::NOT_EQUAL, 4, EqualityPrepare, CompareEval<std::not_equal_to>},
      {Op::GREATER, 2, OrderPrepare, CompareEval<std::greater>},
      {Op::GREATER_EQUAL, 3, OrderPrepare, CompareEval<std::greater_equal>},
      {Op::LESS, 3, OrderPrepare, CompareEval<std::less>},
      {Op::LESS_EQUAL, 2, OrderPrepare, CompareEval<std::less_equal>},
      {Op::LOGICAL_AND, 1, LogicalPrepare, LogicalAndEval},
      {Op::LOGICAL_OR, 1, LogicalPrepare, LogicalOrEval},
      {Op::SELECT, 4, SelectPrepare<false>, SelectEval},
      {Op::SELECT_V2, 2, SelectPrepare<true>, SelectEval},
  };
  for (const Entry& e : kEntries)
    K2L_RETURN_IF_ERROR(r.Add({e.code, 1, e.max_version, e.prepare, e.eval}));
  return Status::Ok();
}

}  // namespace k2l::runtime::kernels
