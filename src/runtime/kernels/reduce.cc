// Reductions over axes given by a tensor (MEAN, SUM, REDUCE_PROD,
// REDUCE_MAX, REDUCE_MIN, REDUCE_ANY, REDUCE_ALL; keep_dims option), and
// ARG_MAX / ARG_MIN. Axes that are not constant defer Prepare to run time.
#include "runtime/reference/reduce.h"

#include <algorithm>
#include <cstring>
#include <memory>

#include "runtime/kernels/elementwise.h"
#include "runtime/kernels/register.h"
#include "runtime/kernels/util.h"

namespace k2l::runtime::kernels {

namespace {

using TT = TensorType;
namespace ref = reference;

struct ReduceData : OpData {
  ref::ReducePlan plan;
};

// Shared Prepare: the input type among `types`, an int32 (or int64) axis
// tensor, the output shape from the resolved axes and keep_dims.
Status ReducePrepare(OpContext& ctx, std::initializer_list<TensorType> types) {
  K2L_RETURN_IF_ERROR(CheckArity(ctx, 2, 2, 1));
  const Tensor& in = ctx.input(0);
  const Tensor& axes = ctx.input(1);
  K2L_RETURN_IF_ERROR(CheckType(ctx, in, "input", types));
  K2L_RETURN_IF_ERROR(CheckType(ctx, axes, "axis", {TT::INT32, TT::INT64}));
  if (ctx.output(0).type != in.type) {
    return ctx.Error(std::string("output '") + ctx.output(0).name +
                     "' has type " + TypeName(ctx.output(0).type) +
                     " but the input has " + TypeName(in.type) +
                     " (corrupt model?)");
  }
  if (!ctx.ValueKnown(1)) {
    ctx.Defer();
    return Status::Ok();
  }
  const int rank = in.rank();
  std::vector<bool> reduce(rank, false);
  if (rank > 0) {
    for (int64_t a : ReadInts(axes)) {
      K2L_ASSIGN_OR_RETURN(int axis, NormalizeAxis(ctx, a, rank));
      reduce[axis] = true;
    }
  }
  const auto* o = ctx.options<fb::ReducerOptions>();
  const bool keep_dims = o != nullptr && o->keep_dims();
  Shape out;
  for (int d = 0; d < rank; ++d) {
    if (!reduce[d])
      out.push_back(in.dim(d));
    else if (keep_dims)
      out.push_back(1);
  }
  ctx.data<ReduceData>().plan = ref::MakeReducePlan(in.shape, reduce);
  return ctx.ResizeOutput(0, out);
}

// Reduces into an accumulator array with Op, then writes
// finish(accumulator) to the output.
template <typename T, typename Op, typename Finish>
Status RunReduce(OpContext& ctx, const Finish& finish) {
  using Acc = typename Op::Acc;
  const ref::ReducePlan& p = ctx.data<ReduceData>().plan;
  const T* x = ctx.input(0).data<T>();
  T* y = ctx.output(0).mutable_data<T>();
  if (p.reduce_count == 1) {
    // Nothing to combine: LiteRT copies (which also keeps NaN for max/min).
    std::memcpy(y, x, p.out_size * sizeof(T));
    return Status::Ok();
  }
  // Not std::vector, whose bool form has no data().
  std::unique_ptr<Acc[]> acc(new Acc[p.out_size]);
  std::fill(acc.get(), acc.get() + p.out_size, Op::Init());
  if (p.plan.size > 0) {
    if (p.outer_block > 0) {
      const int64_t min_rows = std::max<int64_t>(1, (1 << 14) / p.outer_block);
      ctx.ParallelFor(p.plan.dims[0], min_rows, [&](int64_t b, int64_t e) {
        ref::ReduceRange(p, x, acc.get(), b * p.outer_block, e * p.outer_block,
                         Op());
      });
    } else {
      ref::ReduceRange(p, x, acc.get(), 0, p.plan.size, Op());
    }
  }
  for (int64_t i = 0; i < p.out_size; ++i) y[i] = finish(acc[i]);
  return Status::Ok();
}

// The reduction's result as T, converted the way LiteRT stores it.
template <typename T>
struct AsT {
  template <typename Acc>
  T operator()(Acc a) const {
    return static_cast<T>(a);
  }
};

template <template <typename> class Op>
Status GenericEval(OpContext& ctx) {
  switch (ctx.input(0).type) {
    case TT::FLOAT32:
      return RunReduce<float, Op<float>>(ctx, AsT<float>());
    case TT::INT8:
      return RunReduce<int8_t, Op<int8_t>>(ctx, AsT<int8_t>());
    case TT::UINT8:
      return RunReduce<uint8_t, Op<uint8_t>>(ctx, AsT<uint8_t>());
    case TT::INT16:
      return RunReduce<int16_t, Op<int16_t>>(ctx, AsT<int16_t>());
    case TT::INT32:
      return RunReduce<int32_t, Op<int32_t>>(ctx, AsT<int32_t>());
    default:
      return RunReduce<int64_t, Op<int64_t>>(ctx, AsT<int64_t>());
  }
}

// LiteRT's mean of nothing is NaN for floats and 0 for integers; integer
// means truncate toward zero.
Status MeanEval(OpContext& ctx) {
  const int64_t n = ctx.data<ReduceData>().plan.reduce_count;
  switch (ctx.input(0).type) {
    case TT::FLOAT32:
      return RunReduce<float, ref::MeanSumOp<float>>(
          ctx, [n](double s) { return static_cast<float>(s / n); });
    case TT::INT32:
      return RunReduce<int32_t, ref::MeanSumOp<int32_t>>(
          ctx, [n](int64_t s) { return static_cast<int32_t>(n ? s / n : 0); });
    default:
      return RunReduce<int64_t, ref::MeanSumOp<int64_t>>(
          ctx, [n](int64_t s) { return n ? s / n : int64_t{0}; });
  }
}

Status AnyEval(OpContext& ctx) {
  return RunReduce<bool, ref::AnyOp>(ctx, AsT<bool>());
}
Status AllEval(OpContext& ctx) {
  return RunReduce<bool, ref::AllOp>(ctx, AsT<bool>());
}

Status NumericPrepare(OpContext& ctx) {
  return ReducePrepare(ctx, {TT::FLOAT32, TT::INT32, TT::INT64});
}
Status BoolPrepare(OpContext& ctx) { return ReducePrepare(ctx, {TT::BOOL}); }

// Max and min compare stored integers, so quantized inputs work when the
// output keeps the input's scale and zero point.
Status MaxMinPrepare(OpContext& ctx) {
  K2L_RETURN_IF_ERROR(ReducePrepare(ctx, {TT::FLOAT32, TT::INT8, TT::UINT8,
                                          TT::INT16, TT::INT32, TT::INT64}));
  const Tensor& in = ctx.input(0);
  const Tensor& out = ctx.output(0);
  if (in.quant.scale != out.quant.scale ||
      in.quant.zero_point != out.quant.zero_point) {
    return ctx.Error("input '" + in.name + "' and output '" + out.name +
                     "' must share one quantization (scale and zero point)");
  }
  return Status::Ok();
}

// --- ARG_MAX / ARG_MIN -------------------------------------------------------

struct ArgData : OpData {
  int64_t outer = 1, axis = 1, inner = 1;
};

Status ArgPrepare(OpContext& ctx) {
  K2L_RETURN_IF_ERROR(CheckArity(ctx, 2, 2, 1));
  const Tensor& in = ctx.input(0);
  const Tensor& axis = ctx.input(1);
  K2L_RETURN_IF_ERROR(
      CheckType(ctx, in, "input",
                {TT::FLOAT32, TT::UINT8, TT::INT8, TT::INT32, TT::BOOL}));
  K2L_RETURN_IF_ERROR(CheckType(ctx, axis, "axis", {TT::INT32, TT::INT64}));
  K2L_RETURN_IF_ERROR(
      CheckType(ctx, ctx.output(0), "output", {TT::INT32, TT::INT64}));
  K2L_RETURN_IF_ERROR(CheckRank(ctx, in, "input", 1, 64));
  if (axis.num_elements() != 1) {
    return ctx.Error("axis '" + axis.name + "' has " +
                     std::to_string(axis.num_elements()) +
                     " elements; it must hold one");
  }
  if (!ctx.ValueKnown(1)) {
    ctx.Defer();
    return Status::Ok();
  }
  K2L_ASSIGN_OR_RETURN(int a, NormalizeAxis(ctx, ReadInts(axis)[0], in.rank()));
  if (in.dim(a) == 0) {
    return ctx.Error("cannot take the arg max/min over axis " +
                     std::to_string(a) + " of size 0 (input shape " +
                     ShapeString(in.shape) + ")");
  }
  ArgData& d = ctx.data<ArgData>();
  d.outer = d.inner = 1;
  d.axis = in.dim(a);
  Shape out;
  for (int i = 0; i < in.rank(); ++i) {
    if (i < a) d.outer *= in.dim(i);
    if (i > a) d.inner *= in.dim(i);
    if (i != a) out.push_back(in.dim(i));
  }
  return ctx.ResizeOutput(0, out);
}

template <typename Index>
Status ArgRun(OpContext& ctx, bool is_max) {
  const ArgData& d = ctx.data<ArgData>();
  const Tensor& in = ctx.input(0);
  Index* out = ctx.output(0).mutable_data<Index>();
  auto run = [&](auto tag) {
    using T = decltype(tag);
    ref::ArgMinMax(in.data<T>(), out, d.outer, d.axis, d.inner, is_max);
  };
  switch (in.type) {
    case TT::FLOAT32:
      run(float{});
      break;
    case TT::UINT8:
      run(uint8_t{});
      break;
    case TT::INT8:
      run(int8_t{});
      break;
    case TT::INT32:
      run(int32_t{});
      break;
    default:
      run(bool{});
      break;
  }
  return Status::Ok();
}

template <bool kMax>
Status ArgEval(OpContext& ctx) {
  if (ctx.output(0).type == TT::INT64) return ArgRun<int64_t>(ctx, kMax);
  return ArgRun<int32_t>(ctx, kMax);
}

}  // namespace

Status RegisterReduceKernels(OpResolver& r) {
  using Op = fb::BuiltinOperator;
  struct Entry {
    Op code;
    int max_version;
    Status (*prepare)(OpContext&);
    Status (*eval)(OpContext&);
  };
  const Entry kEntries[] = {
      {Op::MEAN, 3, NumericPrepare, MeanEval},
      {Op::SUM, 2, NumericPrepare, GenericEval<ref::SumOp>},
      {Op::REDUCE_PROD, 2, NumericPrepare, GenericEval<ref::ProdOp>},
      {Op::REDUCE_MAX, 3, MaxMinPrepare, GenericEval<ref::MaxOp>},
      {Op::REDUCE_MIN, 3, MaxMinPrepare, GenericEval<ref::MinOp>},
      {Op::REDUCE_ANY, 1, BoolPrepare, AnyEval},
      {Op::REDUCE_ALL, 1, BoolPrepare, AllEval},
      {Op::ARG_MAX, 3, ArgPrepare, ArgEval<true>},
      {Op::ARG_MIN, 3, ArgPrepare, ArgEval<false>},
  };
  for (const Entry& e : kEntries)
    K2L_RETURN_IF_ERROR(r.Add({e.code, 1, e.max_version, e.prepare, e.eval}));
  return Status::Ok();
}

}  // namespace k2l::runtime::kernels
