// SOFTMAX (beta, last axis), LOG_SOFTMAX and L2_NORMALIZATION on float32.
#include "runtime/reference/softmax.h"

#include <algorithm>

#include "runtime/kernels/elementwise.h"
#include "runtime/kernels/register.h"
#include "runtime/kernels/util.h"

namespace k2l::runtime::kernels {

namespace {

using TT = TensorType;

// Checks one float input of rank >= 1 and sizes the output like it.
Status RowwisePrepare(OpContext& ctx) {
  K2L_RETURN_IF_ERROR(CheckArity(ctx, 1, 1, 1));
  const Tensor& in = ctx.input(0);
  K2L_RETURN_IF_ERROR(CheckType(ctx, in, "input", {TT::FLOAT32}));
  K2L_RETURN_IF_ERROR(CheckType(ctx, ctx.output(0), "output", {TT::FLOAT32}));
  K2L_RETURN_IF_ERROR(CheckRank(ctx, in, "input", 1, 64));
  return ctx.ResizeOutput(0, in.shape);
}

// Runs fn(in, out, rows) over blocks of whole rows of the last axis.
template <typename Fn>
Status ForRows(OpContext& ctx, const Fn& fn) {
  const Tensor& in = ctx.input(0);
  const int64_t depth = in.shape.back();
  if (depth == 0) return Status::Ok();
  const int64_t rows = in.num_elements() / depth;
  const float* x = in.data<float>();
  float* y = ctx.output(0).mutable_data<float>();
  const int64_t min_rows = std::max<int64_t>(1, (1 << 13) / depth);
  ctx.ParallelFor(rows, min_rows, [&](int64_t b, int64_t e) {
    fn(x + b * depth, y + b * depth, e - b, depth);
  });
  return Status::Ok();
}

Status SoftmaxEval(OpContext& ctx) {
  // Without options LiteRT's parser leaves beta at 0.
  const auto* o = ctx.options<fb::SoftmaxOptions>();
  const float beta = o != nullptr ? o->beta() : 0.f;
  return ForRows(ctx,
                 [beta](const float* x, float* y, int64_t rows, int64_t depth) {
                   reference::Softmax(x, y, rows, depth, beta);
                 });
}

Status LogSoftmaxEval(OpContext& ctx) {
  return ForRows(ctx, reference::LogSoftmax);
}

Status L2NormPrepare(OpContext& ctx) {
  const auto* o = ctx.options<fb::L2NormOptions>();
  if (o != nullptr &&
      o->fused_activation_function() != fb::ActivationFunctionType::NONE) {
    return ctx.Error(
        std::string("fused activation ") +
        fb::EnumNameActivationFunctionType(o->fused_activation_function()) +
        " is not supported; LiteRT's L2_NORMALIZATION takes none");
  }
  return RowwisePrepare(ctx);
}

Status L2NormEval(OpContext& ctx) {
  // LiteRT's fixed epsilon on the norm.
  constexpr float kEpsilon = 1e-6f;
  return ForRows(ctx,
                 [](const float* x, float* y, int64_t rows, int64_t depth) {
                   reference::L2Normalize(x, y, rows, depth, kEpsilon);
                 });
}

}  // namespace

Status RegisterSoftmaxKernels(OpResolver& r) {
  using Op = fb::BuiltinOperator;
  K2L_RETURN_IF_ERROR(r.Add({Op::SOFTMAX, 1, 4, RowwisePrepare, SoftmaxEval}));
  K2L_RETURN_IF_ERROR(
      r.Add({Op::LOG_SOFTMAX, 1, 2, RowwisePrepare, LogSoftmaxEval}));
  K2L_RETURN_IF_ERROR(
      r.Add({Op::L2_NORMALIZATION, 1, 2, L2NormPrepare, L2NormEval}));
  return Status::Ok();
}

}  // namespace k2l::runtime::kernels
