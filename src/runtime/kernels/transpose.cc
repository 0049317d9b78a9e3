// TRANSPOSE: any permutation of up to 8 axes, by element size.
#include "runtime/reference/transpose.h"

#include "runtime/kernels/data_util.h"

namespace k2l::runtime::kernels {

namespace {

constexpr int kMaxRank = 8;

struct TransposeData : OpData {
  std::vector<int> perm;
};

Status TransposePrepare(OpContext& ctx) {
  K2L_RETURN_IF_ERROR(CheckArity(ctx, 2, 2, 1));
  const Tensor& in = ctx.input(0);
  const Tensor& perm_t = ctx.input(1);
  K2L_RETURN_IF_ERROR(CheckSameType(ctx, in, ctx.output(0)));
  K2L_RETURN_IF_ERROR(CheckMovable(ctx, in, "input"));
  K2L_RETURN_IF_ERROR(CheckRank(ctx, in, "input", 0, kMaxRank));
  K2L_RETURN_IF_ERROR(CheckIndexInput(ctx, perm_t, "perm", 1));
  const int rank = in.rank();
  if (perm_t.dim(0) != rank) {
    return ctx.Error("perm '" + perm_t.name + "' has " +
                     std::to_string(perm_t.dim(0)) +
                     " entries but the input has rank " + std::to_string(rank));
  }
  if (!ValuesOrDefer(ctx, {1})) return Status::Ok();
  auto& data = ctx.data<TransposeData>();
  data.perm.assign(rank, 0);
  std::vector<bool> seen(rank, false);
  const std::vector<int64_t> p = ReadInts(perm_t);
  Shape out(rank);
  for (int i = 0; i < rank; ++i) {
    if (p[i] < -rank || p[i] >= rank) {
      return ctx.Error("perm[" + std::to_string(i) +
                       "] = " + std::to_string(p[i]) +
                       " is out of range for rank " + std::to_string(rank));
    }
    const int axis = static_cast<int>(p[i] < 0 ? p[i] + rank : p[i]);
    if (seen[axis]) {
      return ctx.Error("perm names axis " + std::to_string(axis) +
                       " twice; it must be a permutation");
    }
    seen[axis] = true;
    data.perm[i] = axis;
    out[i] = in.dim(axis);
  }
  return ctx.ResizeOutput(0, out);
}

Status TransposeEval(OpContext& ctx) {
  const Tensor& in = ctx.input(0);
  Tensor& out = ctx.output(0);
  if (out.num_elements() == 0) return Status::Ok();
  reference::Transpose(in.shape, ctx.data<TransposeData>().perm, in.raw(),
                       ElementSize(in.type), out.mutable_raw());
  return Status::Ok();
}

}  // namespace

Status RegisterTransposeKernels(OpResolver& r) {
  return r.Add(
      {fb::BuiltinOperator::TRANSPOSE, 1, 9, TransposePrepare, TransposeEval});
}

}  // namespace k2l::runtime::kernels
