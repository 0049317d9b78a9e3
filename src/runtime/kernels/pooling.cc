// AVERAGE_POOL_2D, MAX_POOL_2D and L2_POOL_2D: NHWC, Pool2DOptions
// (window, strides, SAME/VALID padding, fused clamp). Float32; the average
// and max pools also int8 and uint8 (output quantized like the input).
#include "runtime/reference/pooling.h"

#include <atomic>

#include "runtime/fast/xnnpack.h"
#include "runtime/interpreter.h"
#include "runtime/kernels/quantized_conv.h"
#include "runtime/kernels/register.h"
#include "runtime/kernels/util.h"

namespace k2l::runtime::kernels {

namespace {

using reference::PoolKind;

struct PoolData : OpData {
  reference::Window w;
  FloatRange act{};
  reference::QuantizedRange qact{};
  // XNNPACK's operator (float average and max pools), made for xnn_w.
  fast::XnnOperator xnn;
  reference::Window xnn_w;
};

template <PoolKind kind>
Status PoolPrepare(OpContext& ctx) {
  K2L_RETURN_IF_ERROR(CheckArity(ctx, 1, 1, 1));
  const Tensor& in = ctx.input(0);
  K2L_RETURN_IF_ERROR(CheckRank(ctx, in, "input", 4, 4));
  if (kind == PoolKind::kL2) {
    K2L_RETURN_IF_ERROR(CheckType(ctx, in, "input", {TensorType::FLOAT32}));
  } else {
    K2L_RETURN_IF_ERROR(
        CheckType(ctx, in, "input",
                  {TensorType::FLOAT32, TensorType::INT8, TensorType::UINT8}));
  }
  const Tensor& out = ctx.output(0);
  if (out.type != in.type) {
    return ctx.Error("output '" + out.name + "' has type " +
                     TypeName(out.type) + " but input '" + in.name + "' has " +
                     TypeName(in.type));
  }
  const bool is_float = in.type == TensorType::FLOAT32;
  if (!is_float) K2L_RETURN_IF_ERROR(CheckSameQuantization(ctx, in, out));
  const auto* o = ctx.options<fb::Pool2DOptions>();
  auto& d = ctx.data<PoolData>();
  reference::Window& w = d.w;
  w.stride_h = o ? o->stride_h() : 0;
  w.stride_w = o ? o->stride_w() : 0;
  w.k_h = o ? o->filter_height() : 0;
  w.k_w = o ? o->filter_width() : 0;
  if (w.stride_h <= 0 || w.stride_w <= 0 || w.k_h <= 0 || w.k_w <= 0) {
    return ctx.Error("strides (" + std::to_string(w.stride_h) + ", " +
                     std::to_string(w.stride_w) + ") and window (" +
                     std::to_string(w.k_h) + ", " + std::to_string(w.k_w) +
                     ") must be positive");
  }
  const auto act =
      o ? o->fused_activation_function() : fb::ActivationFunctionType::NONE;
  if (is_float) {
    K2L_ASSIGN_OR_RETURN(d.act, ActivationRange(ctx, act));
  } else {
    K2L_ASSIGN_OR_RETURN(d.qact, QuantizedClamp(ctx, act, out));
  }
  w.batches = in.dim(0);
  w.in_h = in.dim(1);
  w.in_w = in.dim(2);
  w.in_c = w.out_c = in.dim(3);
  const bool same = o == nullptr || o->padding() == fb::Padding::SAME;
  if (!reference::ResolveWindow(same, &w)) {
    return ctx.Error("the " + std::to_string(w.k_h) + "x" +
                     std::to_string(w.k_w) + " window does not fit input " +
                     ShapeString(in.shape) + " with VALID padding");
  }
  if (!is_float) {
    d.xnn.Reset();
  } else if (!d.xnn || !(d.xnn_w == w)) {
    d.xnn = fast::CreatePool2D(kind, w, d.act.min, d.act.max);
    d.xnn_w = w;
  }
  return ctx.ResizeOutput(0, {w.batches, w.out_h, w.out_w, w.out_c});
}

template <PoolKind kind, typename T>
Status EvalQuantized(OpContext& ctx, const PoolData& d) {
  const reference::Window& w = d.w;
  const T* in = ctx.input(0).data<T>();
  T* out = ctx.output(0).mutable_data<T>();
  std::atomic<bool> ok{true};
  ctx.ParallelFor(static_cast<int64_t>(w.batches) * w.out_h,
                  reference::MinChunk(w.taps() * w.out_w * w.out_c),
                  [&](int64_t begin, int64_t end) {
                    if (!reference::PoolQuantized(kind, w, in, d.qact.min,
                                                  d.qact.max, out, begin, end))
                      ok = false;
                  });
  if (!ok) {
    return ctx.Error("a pooling window covers no input value (input " +
                     ShapeString(ctx.input(0).shape) + ")");
  }
  return Status::Ok();
}

template <PoolKind kind>
Status PoolEval(OpContext& ctx) {
  const auto& d = ctx.data<PoolData>();
  const reference::Window& w = d.w;
  if constexpr (kind != PoolKind::kL2) {
    if (ctx.input(0).type == TensorType::INT8)
      return EvalQuantized<kind, int8_t>(ctx, d);
    if (ctx.input(0).type == TensorType::UINT8)
      return EvalQuantized<kind, uint8_t>(ctx, d);
  }
  const float* in = ctx.input(0).data<float>();
  float* out = ctx.output(0).mutable_data<float>();
  // XNNPACK may read a few bytes past the input, which owned storage
  // allows but a constant's view on the file might not.
  if (d.xnn && !ctx.input(0).is_constant() &&
      fast::RunPool2D(d.xnn, kind, w, in, out,
                      ctx.interpreter().threadpool())) {
    return Status::Ok();
  }
  std::atomic<bool> ok{true};
  ctx.ParallelFor(static_cast<int64_t>(w.batches) * w.out_h,
                  reference::MinChunk(w.taps() * w.out_w * w.out_c),
                  [&](int64_t begin, int64_t end) {
                    if (!reference::Pool(kind, w, in, d.act.min, d.act.max, out,
                                         begin, end))
                      ok = false;
                  });
  if (!ok) {
    return ctx.Error("a pooling window covers no input value (input " +
                     ShapeString(ctx.input(0).shape) + ")");
  }
  return Status::Ok();
}

}  // namespace

Status RegisterPoolingKernels(OpResolver& r) {
  K2L_RETURN_IF_ERROR(
      r.Add({fb::BuiltinOperator::AVERAGE_POOL_2D, 1, 3,
             PoolPrepare<PoolKind::kAverage>, PoolEval<PoolKind::kAverage>}));
  K2L_RETURN_IF_ERROR(
      r.Add({fb::BuiltinOperator::MAX_POOL_2D, 1, 3,
             PoolPrepare<PoolKind::kMax>, PoolEval<PoolKind::kMax>}));
  return r.Add({fb::BuiltinOperator::L2_POOL_2D, 1, 1,
                PoolPrepare<PoolKind::kL2>, PoolEval<PoolKind::kL2>});
}

}  // namespace k2l::runtime::kernels
