// BATCH_MATMUL: rank 2 to 5 operands, adj_x / adj_y, and numpy broadcasting
// of the batch dimensions.
#include <algorithm>

#include "runtime/kernels/register.h"
#include "runtime/kernels/util.h"
#include "runtime/reference/matmul.h"

namespace k2l::runtime::kernels {

namespace {

struct BatchMatMulData : OpData {
  int64_t m = 0, n = 0, k = 0;
  bool adj_x = false, adj_y = false;
  // Per output batch, where its lhs and rhs matrices start.
  std::vector<int64_t> lhs_offset, rhs_offset;
};

Status BatchMatMulPrepare(OpContext& ctx) {
  K2L_RETURN_IF_ERROR(CheckArity(ctx, 2, 2, 1));
  const Tensor& lhs = ctx.input(0);
  const Tensor& rhs = ctx.input(1);
  K2L_RETURN_IF_ERROR(CheckType(ctx, lhs, "lhs", {TensorType::FLOAT32}));
  if (rhs.type != TensorType::FLOAT32) {
    return ctx.Error("rhs '" + rhs.name + "' has type " + TypeName(rhs.type) +
                     " with a float32 lhs; dynamic-range (hybrid) "
                     "BATCH_MATMUL is not supported. Dequantize it");
  }
  K2L_RETURN_IF_ERROR(
      CheckType(ctx, ctx.output(0), "output", {TensorType::FLOAT32}));
  K2L_RETURN_IF_ERROR(CheckRank(ctx, lhs, "lhs", 2, 5));
  K2L_RETURN_IF_ERROR(CheckRank(ctx, rhs, "rhs", 2, 5));
  const auto* o = ctx.options<fb::BatchMatMulOptions>();
  auto& d = ctx.data<BatchMatMulData>();
  d.adj_x = o != nullptr && o->adj_x();
  d.adj_y = o != nullptr && o->adj_y();
  const int rank = std::max(lhs.rank(), rhs.rank());
  Shape l(rank - lhs.rank(), 1), r(rank - rhs.rank(), 1);
  l.insert(l.end(), lhs.shape.begin(), lhs.shape.end());
  r.insert(r.end(), rhs.shape.begin(), rhs.shape.end());
  Shape out(rank);
  for (int i = 0; i < rank - 2; ++i) {
    if (l[i] != r[i] && l[i] != 1 && r[i] != 1) {
      return ctx.Error("the batch dimensions of lhs " + ShapeString(lhs.shape) +
                       " and rhs " + ShapeString(rhs.shape) +
                       " do not broadcast");
    }
    out[i] = l[i] == 1 ? r[i] : l[i];
  }
  d.m = d.adj_x ? l[rank - 1] : l[rank - 2];
  d.k = d.adj_x ? l[rank - 2] : l[rank - 1];
  const int64_t rhs_k = d.adj_y ? r[rank - 1] : r[rank - 2];
  d.n = d.adj_y ? r[rank - 2] : r[rank - 1];
  if (d.k != rhs_k) {
    return ctx.Error(
        "lhs " + ShapeString(lhs.shape) + (d.adj_x ? " (adj_x)" : "") +
        " and rhs " + ShapeString(rhs.shape) + (d.adj_y ? " (adj_y)" : "") +
        " do not agree on the contracted dimension (" + std::to_string(d.k) +
        " vs " + std::to_string(rhs_k) + ")");
  }
  out[rank - 2] = static_cast<int32_t>(d.m);
  out[rank - 1] = static_cast<int32_t>(d.n);
  // Offsets of every output batch, walking the batch dims in row-major
  // order; a broadcast (size 1) dim does not advance its operand.
  int64_t batches = 1;
  for (int i = 0; i < rank - 2; ++i) batches *= out[i];
  d.lhs_offset.assign(batches, 0);
  d.rhs_offset.assign(batches, 0);
  int64_t l_stride = d.m * d.k, r_stride = d.k * d.n, block = 1;
  for (int i = rank - 3; i >= 0; --i) {
    for (int64_t b = 0; b < batches; ++b) {
      const int64_t idx = (b / block) % out[i];
      if (l[i] != 1) d.lhs_offset[b] += idx * l_stride;
      if (r[i] != 1) d.rhs_offset[b] += idx * r_stride;
    }
    l_stride *= l[i];
    r_stride *= r[i];
    block *= out[i];
  }
  return ctx.ResizeOutput(0, out);
}

Status BatchMatMulEval(OpContext& ctx) {
  const auto& d = ctx.data<BatchMatMulData>();
  const float* lhs = ctx.input(0).data<float>();
  const float* rhs = ctx.input(1).data<float>();
  float* out = ctx.output(0).mutable_data<float>();
  const int64_t rows = static_cast<int64_t>(d.lhs_offset.size()) * d.m;
  ctx.ParallelFor(rows, reference::MinChunk(d.n * d.k),
                  [&](int64_t begin, int64_t end) {
                    reference::BatchMatMul(lhs, rhs, d.lhs_offset.data(),
                                           d.rhs_offset.data(), d.m, d.n, d.k,
                                           d.adj_x, d.adj_y, out, begin, end);
                  });
  return Status::Ok();
}

}  // namespace

Status RegisterBatchMatMulKernels(OpResolver& r) {
  return r.Add({fb::BuiltinOperator::BATCH_MATMUL, 1, 4, BatchMatMulPrepare,
                BatchMatMulEval});
}

}  // namespace k2l::runtime::kernels
