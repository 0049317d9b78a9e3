// CONV_2D: NHWC input, OHWI filter, optional bias, SAME/VALID padding,
// strides, dilation, grouped convolution (input channels a multiple of the
// filter's) and a fused clamp.
#include "runtime/reference/conv.h"

#include "runtime/fast/xnnpack.h"
#include "runtime/interpreter.h"
#include "runtime/kernels/register.h"
#include "runtime/kernels/util.h"

namespace k2l::runtime::kernels {

namespace {

struct ConvData : OpData {
  reference::Window w;
  FloatRange act{};
  // XNNPACK's operator (constant filter and bias only), made for xnn_w.
  fast::XnnOperator xnn;
  reference::Window xnn_w;
};

Status ConvPrepare(OpContext& ctx) {
  K2L_RETURN_IF_ERROR(CheckArity(ctx, 2, 3, 1));
  const Tensor& in = ctx.input(0);
  const Tensor& filter = ctx.input(1);
  K2L_RETURN_IF_ERROR(CheckRank(ctx, in, "input", 4, 4));
  K2L_RETURN_IF_ERROR(CheckRank(ctx, filter, "filter", 4, 4));
  K2L_RETURN_IF_ERROR(CheckType(ctx, in, "input", {TensorType::FLOAT32}));
  if (filter.type != TensorType::FLOAT32) {
    return ctx.Error("filter '" + filter.name + "' has type " +
                     TypeName(filter.type) +
                     " with a float32 input; dynamic-range (hybrid) "
                     "convolution is not supported. Dequantize the filter");
  }
  K2L_RETURN_IF_ERROR(
      CheckType(ctx, ctx.output(0), "output", {TensorType::FLOAT32}));
  const bool has_bias = ctx.has_input(2);
  if (has_bias) {
    K2L_RETURN_IF_ERROR(
        CheckType(ctx, ctx.input(2), "bias", {TensorType::FLOAT32}));
    if (ctx.input(2).num_elements() != filter.dim(0)) {
      return ctx.Error("bias '" + ctx.input(2).name + "' has " +
                       std::to_string(ctx.input(2).num_elements()) +
                       " values but the filter has " +
                       std::to_string(filter.dim(0)) + " output channels");
    }
  }
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
  const bool same = o == nullptr || o->padding() == fb::Padding::SAME;
  const int stride_h = o ? o->stride_h() : 0, stride_w = o ? o->stride_w() : 0;
  const int dil_h = o ? o->dilation_h_factor() : 1;
  const int dil_w = o ? o->dilation_w_factor() : 1;
  if (stride_h <= 0 || stride_w <= 0 || dil_h <= 0 || dil_w <= 0) {
    return ctx.Error("strides (" + std::to_string(stride_h) + ", " +
                     std::to_string(stride_w) + ") and dilations (" +
                     std::to_string(dil_h) + ", " + std::to_string(dil_w) +
                     ") must be positive");
  }
  auto& d = ctx.data<ConvData>();
  K2L_ASSIGN_OR_RETURN(
      d.act, ActivationRange(ctx, o ? o->fused_activation_function()
                                    : fb::ActivationFunctionType::NONE));
  reference::Window& w = d.w;
  w.batches = in.dim(0);
  w.in_h = in.dim(1);
  w.in_w = in.dim(2);
  w.in_c = in.dim(3);
  w.out_c = filter.dim(0);
  w.k_h = filter.dim(1);
  w.k_w = filter.dim(2);
  w.stride_h = stride_h;
  w.stride_w = stride_w;
  w.dil_h = dil_h;
  w.dil_w = dil_w;
  w.groups = groups;
  if (!reference::ResolveWindow(same, &w)) {
    return ctx.Error("the dilated filter " + ShapeString(filter.shape) +
                     " does not fit the input " + ShapeString(in.shape) +
                     " with VALID padding");
  }
  const bool constant =
      filter.is_constant() && (!has_bias || ctx.input(2).is_constant());
  if (!constant) {
    d.xnn.Reset();
  } else if (!d.xnn || !(d.xnn_w == w)) {
    d.xnn = fast::CreateConv2D(w, false, filter.data<float>(),
                               has_bias ? ctx.input(2).data<float>() : nullptr,
                               d.act.min, d.act.max);
    d.xnn_w = w;
  }
  return ctx.ResizeOutput(0, {w.batches, w.out_h, w.out_w, w.out_c});
}

Status ConvEval(OpContext& ctx) {
  const auto& d = ctx.data<ConvData>();
  const reference::Window& w = d.w;
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
