// CONV_2D: NHWC input, OHWI filter, optional bias, SAME/VALID padding,
// strides, dilation, grouped convolution (input channels a multiple of the
// filter's) and a fused clamp; float32, and int8 (per-channel) or uint8
// (per-tensor) with LiteRT's integer math, and dynamic-range (hybrid)
// float32 with int8 filters: the input quantized per batch, symmetric for a
// filter with one scale (or all scales equal), asymmetric for per-channel
// scales or grouped convolution, as LiteRT's EvalHybrid and
// EvalHybridPerChannel do.
#include "runtime/reference/conv.h"

#include <algorithm>

#include "runtime/fast/xnnpack.h"
#include "runtime/interpreter.h"
#include "runtime/kernels/quantized_conv.h"
#include "runtime/kernels/register.h"
#include "runtime/kernels/util.h"

namespace k2l::runtime::kernels {

namespace {

struct ConvData : OpData {
  reference::Window w;
  FloatRange act{};
  QuantizedConv quant;
  // Hybrid: the quantized input, one row per batch, and its scales.
  bool hybrid = false;
  bool per_channel = false;  // LiteRT's EvalHybridPerChannel (asymmetric)
  std::vector<int8_t> q;
  std::vector<reference::HybridRow> rows;
  // XNNPACK's operator (float, constant filter and bias only), made for
  // xnn_w.
  fast::XnnOperator xnn;
  reference::Window xnn_w;
};

// Checks the shapes and options and fills d.w; returns the activation.
Result<fb::ActivationFunctionType> PrepareWindow(OpContext& ctx, ConvData& d) {
  const Tensor& in = ctx.input(0);
  const Tensor& filter = ctx.input(1);
  K2L_RETURN_IF_ERROR(CheckRank(ctx, in, "input", 4, 4));
  K2L_RETURN_IF_ERROR(CheckRank(ctx, filter, "filter", 4, 4));
  for (int i = 1; i < 4; ++i) {
    if (in.dim(i) <= 0 || filter.dim(i) <= 0 || filter.dim(0) <= 0) {
      return ctx.Error("input " + ShapeString(in.shape) + " and filter " +
                       ShapeString(filter.shape) +
                       " must have positive height, width and channels");
    }
  }
  if (in.dim(3) % filter.dim(3) != 0) {
    return ctx.Error("input '" + in.name + "' has " +
                     std::to_string(in.dim(3)) +
                     " channels, not a multiple of the filter's " +
                     std::to_string(filter.dim(3)) + " input channels");
  }
  const int groups = in.dim(3) / filter.dim(3);
  if (filter.dim(0) % groups != 0) {
    return ctx.Error("the filter's " + std::to_string(filter.dim(0)) +
                     " output channels do not split into " +
                     std::to_string(groups) + " groups");
  }
  const auto* o = ctx.options<fb::Conv2DOptions>();
  reference::Window& w = d.w;
  w.batches = in.dim(0);
  w.in_h = in.dim(1);
  w.in_w = in.dim(2);
  w.in_c = in.dim(3);
  w.out_c = filter.dim(0);
  w.k_h = filter.dim(1);
  w.k_w = filter.dim(2);
  w.stride_h = o ? o->stride_h() : 0;
  w.stride_w = o ? o->stride_w() : 0;
  w.dil_h = o ? o->dilation_h_factor() : 1;
  w.dil_w = o ? o->dilation_w_factor() : 1;
  w.groups = groups;
  if (w.stride_h <= 0 || w.stride_w <= 0 || w.dil_h <= 0 || w.dil_w <= 0) {
    return ctx.Error("strides (" + std::to_string(w.stride_h) + ", " +
                     std::to_string(w.stride_w) + ") and dilations (" +
                     std::to_string(w.dil_h) + ", " + std::to_string(w.dil_w) +
                     ") must be positive");
  }
  const bool same = o == nullptr || o->padding() == fb::Padding::SAME;
  if (!reference::ResolveWindow(same, &w)) {
    return ctx.Error("the dilated filter " + ShapeString(filter.shape) +
                     " does not fit the input " + ShapeString(in.shape) +
                     " with VALID padding");
  }
  return o ? o->fused_activation_function() : fb::ActivationFunctionType::NONE;
}

Status PrepareFloat(OpContext& ctx, ConvData& d,
                    fb::ActivationFunctionType act) {
  const Tensor& filter = ctx.input(1);
  d.hybrid = filter.type != TensorType::FLOAT32;
  if (d.hybrid) {
    bool has_scales = false;
    K2L_RETURN_IF_ERROR(CheckHybridFilter(ctx, filter, d.w.out_c, 0,
                                          /*allow_per_tensor=*/true,
                                          &has_scales));
    // LiteRT takes the per-channel kernel only when the scales differ (or
    // the convolution is grouped, which needs one scale per channel there).
    const auto& scales = filter.quant.scale;
    d.per_channel =
        d.w.groups != 1 || std::any_of(scales.begin(), scales.end(),
                                       [&](float s) { return s != scales[0]; });
    if (d.per_channel && !has_scales) {
      return ctx.Error("int8 filter '" + filter.name +
                       "' has one scale; a grouped dynamic-range convolution "
                       "needs one per output channel");
    }
    const Tensor& in = ctx.input(0);
    d.q.resize(static_cast<size_t>(in.num_elements()));
    d.rows.resize(static_cast<size_t>(d.w.batches));
  }
  K2L_RETURN_IF_ERROR(
      CheckType(ctx, ctx.output(0), "output", {TensorType::FLOAT32}));
  const bool has_bias = ctx.has_input(2);
  if (has_bias) {
    K2L_RETURN_IF_ERROR(
        CheckType(ctx, ctx.input(2), "bias", {TensorType::FLOAT32}));
    if (ctx.input(2).num_elements() != d.w.out_c) {
      return ctx.Error("bias '" + ctx.input(2).name + "' has " +
                       std::to_string(ctx.input(2).num_elements()) +
                       " values but the filter has " +
                       std::to_string(d.w.out_c) + " output channels");
    }
  }
  K2L_ASSIGN_OR_RETURN(d.act, ActivationRange(ctx, act));
  if (d.hybrid || !filter.is_constant() ||
      (has_bias && !ctx.input(2).is_constant())) {
    d.xnn.Reset();
  } else if (!d.xnn || !(d.xnn_w == d.w)) {
    d.xnn = fast::CreateConv2D(d.w, false, filter.data<float>(),
                               has_bias ? ctx.input(2).data<float>() : nullptr,
                               d.act.min, d.act.max);
    d.xnn_w = d.w;
  }
  return Status::Ok();
}

Status ConvPrepare(OpContext& ctx) {
  K2L_RETURN_IF_ERROR(CheckArity(ctx, 2, 3, 1));
  const Tensor& in = ctx.input(0);
  K2L_RETURN_IF_ERROR(
      CheckType(ctx, in, "input",
                {TensorType::FLOAT32, TensorType::INT8, TensorType::UINT8}));
  auto& d = ctx.data<ConvData>();
  d.hybrid = false;
  K2L_ASSIGN_OR_RETURN(fb::ActivationFunctionType act, PrepareWindow(ctx, d));
  if (in.type == TensorType::FLOAT32) {
    K2L_RETURN_IF_ERROR(PrepareFloat(ctx, d, act));
  } else {
    // LiteRT: int8 takes per-channel multipliers computed in double and a
    // symmetric filter; uint8 the legacy per-tensor multiplier.
    QuantizedConvSpec spec;
    spec.channels = d.w.out_c;
    spec.channel_dim = 0;
    const bool uint8 = in.type == TensorType::UINT8;
    spec.legacy_float_product = uint8;
    spec.filter_offset = uint8;
    spec.check_bias_scale = uint8;
    spec.zero_filter_zero_point = !uint8;
    K2L_RETURN_IF_ERROR(PrepareQuantizedConv(
        ctx, in, ctx.input(1), ctx.has_input(2) ? &ctx.input(2) : nullptr,
        ctx.output(0), act, spec, &d.quant));
  }
  const reference::Window& w = d.w;
  return ctx.ResizeOutput(0, {w.batches, w.out_h, w.out_w, w.out_c});
}

template <typename T>
void EvalQuantized(OpContext& ctx, const ConvData& d) {
  const reference::Window& w = d.w;
  const T* in = ctx.input(0).data<T>();
  const T* filter = ctx.input(1).data<T>();
  const int32_t* bias =
      ctx.has_input(2) ? ctx.input(2).data<int32_t>() : nullptr;
  T* out = ctx.output(0).mutable_data<T>();
  const int64_t work = w.taps() * (w.in_c / w.groups) * w.out_c * w.out_w;
  ctx.ParallelFor(static_cast<int64_t>(w.batches) * w.out_h,
                  reference::MinChunk(work), [&](int64_t begin, int64_t end) {
                    reference::Conv2DQuantized(w, in, filter, bias, d.quant.out,
                                               out, begin, end);
                  });
}

void EvalHybrid(OpContext& ctx, ConvData& d) {
  const reference::Window& w = d.w;
  const Tensor& filter = ctx.input(1);
  const int64_t size = static_cast<int64_t>(w.in_h) * w.in_w * w.in_c;
  reference::QuantizeHybridRows(ctx.input(0).data<float>(), w.batches, size,
                                d.per_channel, d.q.data(), d.rows.data());
  const float* channel_scale = nullptr;
  if (d.per_channel) {
    channel_scale = filter.quant.scale.data();
  } else {
    for (auto& r : d.rows) r.scale *= filter.quant.scale[0];
  }
  const float* bias = ctx.has_input(2) ? ctx.input(2).data<float>() : nullptr;
  float* out = ctx.output(0).mutable_data<float>();
  const int64_t work = w.taps() * (w.in_c / w.groups) * w.out_c * w.out_w;
  ctx.ParallelFor(static_cast<int64_t>(w.batches) * w.out_h,
                  reference::MinChunk(work), [&](int64_t begin, int64_t end) {
                    reference::Conv2DHybrid(w, d.q.data(), d.rows.data(),
                                            filter.data<int8_t>(),
                                            channel_scale, bias, d.act.min,
                                            d.act.max, out, begin, end);
                  });
}

Status ConvEval(OpContext& ctx) {
  auto& d = ctx.data<ConvData>();
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
  const int64_t work = w.taps() * (w.in_c / w.groups) * w.out_c;
  ctx.ParallelFor(w.out_pixels(), reference::MinChunk(work),
                  [&](int64_t begin, int64_t end) {
                    reference::ConvGemm(w, in, filter, true, bias, d.act.min,
                                        d.act.max, out, begin, end - begin);
                  });
  return Status::Ok();
}

}  // namespace

Status RegisterConvKernels(OpResolver& r) {
  return r.Add({fb::BuiltinOperator::CONV_2D, 1, 8, ConvPrepare, ConvEval});
}

}  // namespace k2l::runtime::kernels
