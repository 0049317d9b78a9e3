// DEPTHWISE_CONV_2D: NHWC input, filter [1, k_h, k_w, out_c] with out_c a
// multiple of the input channels. Like LiteRT, the multiplier is out_c /
// in_c; the depth_multiplier option is not read. Float32, and int8
// (per-channel) or uint8 (per-tensor) with LiteRT's integer math, and
// dynamic-range (hybrid) float32 with per-channel int8 filters: the input
// quantized asymmetrically per batch, as LiteRT's EvalHybridPerChannel.
#include "runtime/reference/depthwise_conv.h"

#include "runtime/fast/xnnpack.h"
#include "runtime/interpreter.h"
#include "runtime/kernels/quantized_conv.h"
#include "runtime/kernels/register.h"
#include "runtime/kernels/util.h"

namespace k2l::runtime::kernels {

namespace {

struct DepthwiseData : OpData {
  reference::Window w;
  FloatRange act{};
  QuantizedConv quant;
  // Hybrid: the quantized input, one row per batch, and its scales.
  bool hybrid = false;
  std::vector<int8_t> q;
  std::vector<reference::HybridRow> rows;
  // XNNPACK's operator (float, constant filter and bias only), made for
  // xnn_w.
  fast::XnnOperator xnn;
  reference::Window xnn_w;
};

Status DepthwisePrepare(OpContext& ctx) {
  K2L_RETURN_IF_ERROR(CheckArity(ctx, 2, 3, 1));
  const Tensor& in = ctx.input(0);
  const Tensor& filter = ctx.input(1);
  K2L_RETURN_IF_ERROR(CheckRank(ctx, in, "input", 4, 4));
  K2L_RETURN_IF_ERROR(CheckRank(ctx, filter, "filter", 4, 4));
  K2L_RETURN_IF_ERROR(
      CheckType(ctx, in, "input",
                {TensorType::FLOAT32, TensorType::INT8, TensorType::UINT8}));
  const bool is_float = in.type == TensorType::FLOAT32;
  auto& d = ctx.data<DepthwiseData>();
  d.hybrid = is_float && filter.type != TensorType::FLOAT32;
  if (is_float) {
    K2L_RETURN_IF_ERROR(
        CheckType(ctx, ctx.output(0), "output", {TensorType::FLOAT32}));
  }
  if (filter.dim(0) != 1) {
    return ctx.Error("filter '" + filter.name + "' has shape " +
                     ShapeString(filter.shape) +
                     "; a depthwise filter is [1, height, width, channels]");
  }
  for (int i = 1; i < 4; ++i) {
    if (in.dim(i) <= 0 || filter.dim(i) <= 0) {
      return ctx.Error("input " + ShapeString(in.shape) + " and filter " +
                       ShapeString(filter.shape) +
                       " must have positive height, width and channels");
    }
  }
  if (filter.dim(3) % in.dim(3) != 0) {
    return ctx.Error("the filter's " + std::to_string(filter.dim(3)) +
                     " channels are not a multiple of input '" + in.name +
                     "''s " + std::to_string(in.dim(3)) + " channels");
  }
  if (is_float && ctx.has_input(2)) {
    const Tensor& bias = ctx.input(2);
    K2L_RETURN_IF_ERROR(CheckType(ctx, bias, "bias", {TensorType::FLOAT32}));
    if (bias.num_elements() != filter.dim(3)) {
      return ctx.Error("bias '" + bias.name + "' has " +
                       std::to_string(bias.num_elements()) +
                       " values but the filter has " +
                       std::to_string(filter.dim(3)) + " channels");
    }
  }
  const auto* o = ctx.options<fb::DepthwiseConv2DOptions>();
  reference::Window& w = d.w;
  w.batches = in.dim(0);
  w.in_h = in.dim(1);
  w.in_w = in.dim(2);
  w.in_c = in.dim(3);
  w.out_c = filter.dim(3);
  w.k_h = filter.dim(1);
  w.k_w = filter.dim(2);
  w.stride_h = o ? o->stride_h() : 0;
  w.stride_w = o ? o->stride_w() : 0;
  w.dil_h = o ? o->dilation_h_factor() : 1;
  w.dil_w = o ? o->dilation_w_factor() : 1;
  if (w.stride_h <= 0 || w.stride_w <= 0 || w.dil_h <= 0 || w.dil_w <= 0) {
    return ctx.Error("strides (" + std::to_string(w.stride_h) + ", " +
                     std::to_string(w.stride_w) + ") and dilations (" +
                     std::to_string(w.dil_h) + ", " + std::to_string(w.dil_w) +
                     ") must be positive");
  }
  const auto act =
      o ? o->fused_activation_function() : fb::ActivationFunctionType::NONE;
  const bool same = o == nullptr || o->padding() == fb::Padding::SAME;
  if (!reference::ResolveWindow(same, &w)) {
    return ctx.Error("the dilated filter " + ShapeString(filter.shape) +
                     " does not fit the input " + ShapeString(in.shape) +
                     " with VALID padding");
  }
  const bool has_bias = ctx.has_input(2);
  if (!is_float) {
    // LiteRT: int8 takes per-channel multipliers computed in double and
    // ignores the filter's zero point; uint8 the legacy per-tensor math.
    QuantizedConvSpec spec;
    spec.channels = w.out_c;
    spec.channel_dim = 3;
    const bool uint8 = in.type == TensorType::UINT8;
    spec.legacy_float_product = uint8;
    spec.filter_offset = uint8;
    spec.check_bias_scale = uint8;
    K2L_RETURN_IF_ERROR(PrepareQuantizedConv(
        ctx, in, filter, has_bias ? &ctx.input(2) : nullptr, ctx.output(0), act,
        spec, &d.quant));
    return ctx.ResizeOutput(0, {w.batches, w.out_h, w.out_w, w.out_c});
  }
  K2L_ASSIGN_OR_RETURN(d.act, ActivationRange(ctx, act));
  if (d.hybrid) {
    // LiteRT: one scale per output channel (dim 3), always.
    bool per_channel = false;
    K2L_RETURN_IF_ERROR(CheckHybridFilter(ctx, filter, w.out_c, 3,
                                          /*allow_per_tensor=*/w.out_c == 1,
                                          &per_channel));
    d.q.resize(static_cast<size_t>(in.num_elements()));
    d.rows.resize(static_cast<size_t>(w.batches));
  }
  if (d.hybrid || !filter.is_constant() ||
      (has_bias && !ctx.input(2).is_constant())) {
    d.xnn.Reset();
  } else if (!d.xnn || !(d.xnn_w == w)) {
    d.xnn = fast::CreateConv2D(w, true, filter.data<float>(),
                               has_bias ? ctx.input(2).data<float>() : nullptr,
                               d.act.min, d.act.max);
    d.xnn_w = w;
  }
  return ctx.ResizeOutput(0, {w.batches, w.out_h, w.out_w, w.out_c});
}

template <typename T>
void EvalQuantized(OpContext& ctx, const DepthwiseData& d) {
  const reference::Window& w = d.w;
  const T* in = ctx.input(0).data<T>();
  const T* filter = ctx.input(1).data<T>();
  const int32_t* bias =
      ctx.has_input(2) ? ctx.input(2).data<int32_t>() : nullptr;
  T* out = ctx.output(0).mutable_data<T>();
  ctx.ParallelFor(static_cast<int64_t>(w.batches) * w.out_h,
                  reference::MinChunk(w.taps() * w.out_c * w.out_w),
                  [&](int64_t begin, int64_t end) {
                    reference::DepthwiseConv2DQuantized(
                        w, in, filter, bias, d.quant.out, out, begin, end);
                  });
}

void EvalHybrid(OpContext& ctx, DepthwiseData& d) {
  const reference::Window& w = d.w;
  const int64_t size = static_cast<int64_t>(w.in_h) * w.in_w * w.in_c;
  reference::QuantizeHybridRows(ctx.input(0).data<float>(), w.batches, size,
                                /*asymmetric=*/true, d.q.data(), d.rows.data());
  const float* bias = ctx.has_input(2) ? ctx.input(2).data<float>() : nullptr;
  const float* channel_scale = ctx.input(1).quant.scale.data();
  const int8_t* filter = ctx.input(1).data<int8_t>();
  float* out = ctx.output(0).mutable_data<float>();
  ctx.ParallelFor(static_cast<int64_t>(w.batches) * w.out_h,
                  reference::MinChunk(w.taps() * w.out_c * w.out_w),
                  [&](int64_t begin, int64_t end) {
                    reference::DepthwiseConv2DHybrid(
                        w, d.q.data(), d.rows.data(), filter, channel_scale,
                        bias, d.act.min, d.act.max, out, begin, end);
                  });
}

Status DepthwiseEval(OpContext& ctx) {
  auto& d = ctx.data<DepthwiseData>();
  const reference::Window& w = d.w;
  if (d.hybrid) {
    EvalHybrid(ctx, d);
    return Status::Ok();
  }
  switch (ctx.input(0).type) {
    case TensorType::INT8:
      EvalQuantized<int8_t>(ctx, d);
      return Status::Ok();
    case TensorType::UINT8:
      EvalQuantized<uint8_t>(ctx, d);
      return Status::Ok();
    default:
      break;
  }
  // XNNPACK may read a few bytes past the input, which owned storage
  // allows but a constant's view on the file might not.
  if (d.xnn && !ctx.input(0).is_constant() &&
      fast::RunConv2D(d.xnn, w, ctx.input(0).data<float>(),
                      ctx.output(0).mutable_data<float>(),
                      ctx.interpreter().threadpool())) {
    return Status::Ok();
  }
  const float* in = ctx.input(0).data<float>();
  const float* filter = ctx.input(1).data<float>();
  const float* bias = ctx.has_input(2) ? ctx.input(2).data<float>() : nullptr;
  float* out = ctx.output(0).mutable_data<float>();
  const int64_t work = w.taps() * w.out_c * w.out_w;
  ctx.ParallelFor(static_cast<int64_t>(w.batches) * w.out_h,
                  reference::MinChunk(work), [&](int64_t begin, int64_t end) {
                    reference::DepthwiseConv2D(w, in, filter, bias, d.act.min,
                                               d.act.max, out, begin, end);
                  });
  return Status::Ok();
}

}  // namespace

Status RegisterDepthwiseConvKernels(OpResolver& r) {
  return r.Add({fb::BuiltinOperator::DEPTHWISE_CONV_2D, 1, 7, DepthwisePrepare,
                DepthwiseEval});
}

}  // namespace k2l::runtime::kernels
