// GATHER (axis, batch_dims) and GATHER_ND. Indices are checked at Eval; an
// out-of-range one is an error naming it.
#include "runtime/reference/gather.h"

#include "runtime/kernels/data_util.h"

namespace k2l::runtime::kernels {

namespace {

Status CheckIndicesType(const OpContext& ctx, const Tensor& t) {
  return CheckType(ctx, t, "indices",
                   {TensorType::INT16, TensorType::INT32, TensorType::INT64});
}

Status BadIndexError(const OpContext& ctx, const Tensor& indices,
                     const reference::BadIndex& bad, const std::string& what) {
  return ctx.Error("index " + std::to_string(bad.value) + " at position " +
                   std::to_string(bad.position) + " of indices '" +
                   indices.name + "' is out of range [0, " +
                   std::to_string(bad.limit) + ") for " + what);
}

struct GatherData : OpData {
  int axis = 0;
  int batch_dims = 0;
};

Status GatherPrepare(OpContext& ctx) {
  K2L_RETURN_IF_ERROR(CheckArity(ctx, 2, 2, 1));
  const Tensor& in = ctx.input(0);
  const Tensor& idx = ctx.input(1);
  K2L_RETURN_IF_ERROR(CheckSameType(ctx, in, ctx.output(0)));
  K2L_RETURN_IF_ERROR(CheckMovable(ctx, in, "params"));
  K2L_RETURN_IF_ERROR(CheckIndicesType(ctx, idx));
  K2L_RETURN_IF_ERROR(CheckRank(ctx, in, "params", 1, 64));
  const auto* o = ctx.options<fb::GatherOptions>();
  auto& data = ctx.data<GatherData>();
  K2L_ASSIGN_OR_RETURN(data.axis,
                       NormalizeAxis(ctx, o ? o->axis() : 0, in.rank()));
  int bd = o ? o->batch_dims() : 0;
  if (bd < 0) bd += idx.rank();
  if (bd < 0 || bd > data.axis || bd >= in.rank() || bd > idx.rank()) {
    return ctx.Error("batch_dims " + std::to_string(o ? o->batch_dims() : 0) +
                     " must be in [0, min(axis " + std::to_string(data.axis) +
                     ", indices rank " + std::to_string(idx.rank()) + ")]");
  }
  for (int i = 0; i < bd; ++i) {
    if (in.dim(i) != idx.dim(i)) {
      return ctx.Error("params shape " + ShapeString(in.shape) +
                       " and indices shape " + ShapeString(idx.shape) +
                       " differ in batch axis " + std::to_string(i));
    }
  }
  data.batch_dims = bd;
  Shape out(in.shape.begin(), in.shape.begin() + data.axis);
  out.insert(out.end(), idx.shape.begin() + bd, idx.shape.end());
  out.insert(out.end(), in.shape.begin() + data.axis + 1, in.shape.end());
  return ctx.ResizeOutput(0, out);
}

template <typename Index>
reference::BadIndex RunGather(const Tensor& in, const Tensor& idx,
                              const GatherData& d, Tensor& out) {
  int64_t batch = 1, outer = 1, inner = 1, coords = 1;
  for (int i = 0; i < d.batch_dims; ++i) batch *= in.dim(i);
  for (int i = d.batch_dims; i < d.axis; ++i) outer *= in.dim(i);
  for (int i = d.axis + 1; i < in.rank(); ++i) inner *= in.dim(i);
  for (int i = d.batch_dims; i < idx.rank(); ++i) coords *= idx.dim(i);
  return reference::Gather(in.raw(), batch, outer, in.dim(d.axis), inner,
                           idx.data<Index>(), coords, ElementSize(in.type),
                           out.mutable_raw());
}

Status GatherEval(OpContext& ctx) {
  const Tensor& in = ctx.input(0);
  const Tensor& idx = ctx.input(1);
  Tensor& out = ctx.output(0);
  const auto& d = ctx.data<GatherData>();
  reference::BadIndex bad;
  if (idx.type == TensorType::INT64) {
    bad = RunGather<int64_t>(in, idx, d, out);
  } else if (idx.type == TensorType::INT32) {
    bad = RunGather<int32_t>(in, idx, d, out);
  } else {
    bad = RunGather<int16_t>(in, idx, d, out);
  }
  if (bad.found) {
    return BadIndexError(ctx, idx, bad,
                         "axis " + std::to_string(d.axis) + " of params '" +
                             in.name + "' (shape " + ShapeString(in.shape) +
                             ")");
  }
  return Status::Ok();
}

Status GatherNdPrepare(OpContext& ctx) {
  K2L_RETURN_IF_ERROR(CheckArity(ctx, 2, 2, 1));
  const Tensor& params = ctx.input(0);
  const Tensor& idx = ctx.input(1);
  K2L_RETURN_IF_ERROR(CheckSameType(ctx, params, ctx.output(0)));
  K2L_RETURN_IF_ERROR(CheckMovable(ctx, params, "params"));
  K2L_RETURN_IF_ERROR(CheckIndicesType(ctx, idx));
  K2L_RETURN_IF_ERROR(CheckRank(ctx, params, "params", 1, 64));
  K2L_RETURN_IF_ERROR(CheckRank(ctx, idx, "indices", 1, 64));
  const int nd = idx.dim(idx.rank() - 1);
  if (nd > params.rank()) {
    return ctx.Error("indices '" + idx.name + "' (shape " +
                     ShapeString(idx.shape) + ") index " + std::to_string(nd) +
                     " axes but params has rank " +
                     std::to_string(params.rank()));
  }
  Shape out(idx.shape.begin(), idx.shape.end() - 1);
  out.insert(out.end(), params.shape.begin() + nd, params.shape.end());
  return ctx.ResizeOutput(0, out);
}

Status GatherNdEval(OpContext& ctx) {
  const Tensor& params = ctx.input(0);
  const Tensor& idx = ctx.input(1);
  Tensor& out = ctx.output(0);
  const int nd = idx.dim(idx.rank() - 1);
  const int64_t slices =
      NumElements(Shape(idx.shape.begin(), idx.shape.end() - 1));
  if (slices == 0) return Status::Ok();
  if (params.num_elements() == 0) {
    return ctx.Error("params '" + params.name + "' is empty (shape " +
                     ShapeString(params.shape) +
                     ") but indices select from it");
  }
  const size_t elem = ElementSize(params.type);
  reference::BadIndex bad;
  if (idx.type == TensorType::INT64) {
    bad = reference::GatherNd(params.raw(), params.shape, idx.data<int64_t>(),
                              slices, nd, elem, out.mutable_raw());
  } else if (idx.type == TensorType::INT32) {
    bad = reference::GatherNd(params.raw(), params.shape, idx.data<int32_t>(),
                              slices, nd, elem, out.mutable_raw());
  } else {
    bad = reference::GatherNd(params.raw(), params.shape, idx.data<int16_t>(),
                              slices, nd, elem, out.mutable_raw());
  }
  if (bad.found) {
    return BadIndexError(ctx, idx, bad,
                         "axis " + std::to_string(bad.position % nd) +
                             " of params '" + params.name + "' (shape " +
                             ShapeString(params.shape) + ")");
  }
  return Status::Ok();
}

}  // namespace

Status RegisterGatherKernels(OpResolver& r) {
  K2L_RETURN_IF_ERROR(
      r.Add({fb::BuiltinOperator::GATHER, 1, 8, GatherPrepare, GatherEval}));
  return r.Add(
      {fb::BuiltinOperator::GATHER_ND, 1, 6, GatherNdPrepare, GatherNdEval});
}

}  // namespace k2l::runtime::kernels
