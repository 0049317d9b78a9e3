// SOFTMAX (beta, last axis; float32, and int8/uint8 to int8/uint8/int16),
// LOG_SOFTMAX and L2_NORMALIZATION on float32.
#include "runtime/reference/softmax.h"

#include <algorithm>
#include <cmath>

#include "runtime/kernels/elementwise.h"
#include "runtime/kernels/register.h"
#include "runtime/kernels/util.h"
#include "runtime/reference/unary.h"

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

// The float row loops, compiled for the CPU's vector width.
K2L_VECTOR_CLONES void SoftmaxLoop(const float* x, float* y, int64_t rows,
                                   int64_t depth, float beta) {
  reference::Softmax(x, y, rows, depth, beta);
}
K2L_VECTOR_CLONES void LogSoftmaxLoop(const float* x, float* y, int64_t rows,
                                      int64_t depth) {
  reference::LogSoftmax(x, y, rows, depth);
}

Status SoftmaxEval(OpContext& ctx) {
  // Without options LiteRT's parser leaves beta at 0.
  const auto* o = ctx.options<fb::SoftmaxOptions>();
  const float beta = o != nullptr ? o->beta() : 0.f;
  return ForRows(ctx,
                 [beta](const float* x, float* y, int64_t rows, int64_t depth) {
                   SoftmaxLoop(x, y, rows, depth, beta);
                 });
}

// --- Quantized SOFTMAX -------------------------------------------------------

struct QuantSoftmaxData : OpData {
  float table[256];
  TensorQuant out;
};

Status SoftmaxPrepare(OpContext& ctx) {
  K2L_RETURN_IF_ERROR(CheckArity(ctx, 1, 1, 1));
  const Tensor& in = ctx.input(0);
  if (in.type == TT::FLOAT32) return RowwisePrepare(ctx);
  K2L_RETURN_IF_ERROR(
      CheckType(ctx, in, "input", {TT::FLOAT32, TT::INT8, TT::UINT8}));
  K2L_RETURN_IF_ERROR(CheckRank(ctx, in, "input", 1, 64));
  const Tensor& out = ctx.output(0);
  K2L_RETURN_IF_ERROR(CheckType(ctx, out, "output", {in.type, TT::INT16}));
  K2L_ASSIGN_OR_RETURN(TensorQuant qi, PerTensorQuant(ctx, in, "input"));
  auto& d = ctx.data<QuantSoftmaxData>();
  K2L_ASSIGN_OR_RETURN(d.out, PerTensorQuant(ctx, out, "output"));
  if (out.type == TT::INT8 &&
      (d.out.zero_point != -128 ||
       std::abs(d.out.scale - 1.f / 256) > 0.001f / 256)) {
    return ctx.Error("int8 output '" + out.name +
                     "' must have scale 1/256 and zero point -128, as "
                     "LiteRT's quantized SOFTMAX requires");
  }
  const auto* o = ctx.options<fb::SoftmaxOptions>();
  reference::PopulateSoftmaxTable(qi.scale, o != nullptr ? o->beta() : 0.f,
                                  d.table);
  return ctx.ResizeOutput(0, in.shape);
}

template <typename In, typename Out>
void RunQuantizedSoftmax(OpContext& ctx) {
  const auto& d = ctx.data<QuantSoftmaxData>();
  const Tensor& in = ctx.input(0);
  const int64_t depth = in.shape.back();
  if (depth == 0) return;
  const int64_t rows = in.num_elements() / depth;
  const In* x = in.data<In>();
  Out* y = ctx.output(0).mutable_data<Out>();
  const int64_t min_rows = std::max<int64_t>(1, (1 << 13) / depth);
  ctx.ParallelFor(rows, min_rows, [&](int64_t b, int64_t e) {
    reference::QuantizedSoftmax(x + b * depth, y + b * depth, e - b, depth,
                                d.table, d.out.scale, d.out.zero_point);
  });
}

Status SoftmaxAnyEval(OpContext& ctx) {
  const TT in = ctx.input(0).type, out = ctx.output(0).type;
  if (in == TT::FLOAT32) return SoftmaxEval(ctx);
  if (in == TT::INT8) {
    if (out == TT::INT16)
      RunQuantizedSoftmax<int8_t, int16_t>(ctx);
    else
      RunQuantizedSoftmax<int8_t, int8_t>(ctx);
  } else {
    if (out == TT::INT16)
      RunQuantizedSoftmax<uint8_t, int16_t>(ctx);
    else
      RunQuantizedSoftmax<uint8_t, uint8_t>(ctx);
  }
  return Status::Ok();
}

Status LogSoftmaxEval(OpContext& ctx) { return ForRows(ctx, LogSoftmaxLoop); }

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
  K2L_RETURN_IF_ERROR(
      r.Add({Op::SOFTMAX, 1, 4, SoftmaxPrepare, SoftmaxAnyEval}));
  K2L_RETURN_IF_ERROR(
      r.Add({Op::LOG_SOFTMAX, 1, 2, RowwisePrepare, LogSoftmaxEval}));
  K2L_RETURN_IF_ERROR(
      r.Add({Op::L2_NORMALIZATION, 1, 2, L2NormPrepare, L2NormEval}));
  return Status::Ok();
}

}  // namespace k2l::runtime::kernels
