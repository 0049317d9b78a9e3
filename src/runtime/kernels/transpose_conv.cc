// TRANSPOSE_CONV: inputs (output_shape, filter [out_c, k_h, k_w, in_c],
// input, optional bias); SAME/VALID padding computed as for the forward
// convolution from the output size; the fused activation of version 4+.
#include "runtime/reference/transpose_conv.h"

#include "runtime/fast/xnnpack.h"
#include "runtime/interpreter.h"
#include "runtime/kernels/register.h"
#include "runtime/kernels/util.h"

namespace k2l::runtime::kernels {

namespace {

struct TransposeConvData : OpData {
  reference::Window w;
  FloatRange act{};
  // The filter in tap-major order, built once when it is constant.
  std::vector<float> tap_major;
  // XNNPACK's operator (constant filter and bias only), made for xnn_w.
  fast::XnnOperator xnn;
  reference::Window xnn_w;
};

Status TransposeConvPrepare(OpContext& ctx) {
  K2L_RETURN_IF_ERROR(CheckArity(ctx, 3, 4, 1));
  const Tensor& shape = ctx.input(0);
  const Tensor& filter = ctx.input(1);
  const Tensor& in = ctx.input(2);
  K2L_RETURN_IF_ERROR(
      CheckType(ctx, shape, "output_shape", {TensorType::INT32}));
  K2L_RETURN_IF_ERROR(CheckRank(ctx, shape, "output_shape", 1, 1));
  K2L_RETURN_IF_ERROR(CheckRank(ctx, filter, "filter", 4, 4));
  K2L_RETURN_IF_ERROR(CheckRank(ctx, in, "input", 4, 4));
  K2L_RETURN_IF_ERROR(CheckType(ctx, in, "input", {TensorType::FLOAT32}));
  if (filter.type != TensorType::FLOAT32) {
    return ctx.Error("filter '" + filter.name + "' has type " +
                     TypeName(filter.type) +
                     " with a float32 input; dynamic-range (hybrid) "
                     "TRANSPOSE_CONV is not supported. Dequantize the filter");
  }
  K2L_RETURN_IF_ERROR(
      CheckType(ctx, ctx.output(0), "output", {TensorType::FLOAT32}));
  for (int i = 0; i < 4; ++i) {
    if ((i > 0 && in.dim(i) <= 0) || (i < 3 && filter.dim(i) <= 0)) {
      return ctx.Error("input " + ShapeString(in.shape) + " and filter " +
                       ShapeString(filter.shape) + " must have positive sizes");
    }
  }
  if (in.dim(3) != filter.dim(3)) {
    return ctx.Error("input '" + in.name + "' has " +
                     std::to_string(in.dim(3)) + " channels but the filter " +
                     ShapeString(filter.shape) + " takes " +
                     std::to_string(filter.dim(3)));
  }
  if (ctx.has_input(3)) {
    const Tensor& bias = ctx.input(3);
    K2L_RETURN_IF_ERROR(CheckType(ctx, bias, "bias", {TensorType::FLOAT32}));
    if (bias.num_elements() != filter.dim(0)) {
      return ctx.Error("bias '" + bias.name + "' has " +
                       std::to_string(bias.num_elements()) +
                       " values but the filter has " +
                       std::to_string(filter.dim(0)) + " output channels");
    }
  }
  const auto* o = ctx.options<fb::TransposeConvOptions>();
  auto& d = ctx.data<TransposeConvData>();
  reference::Window& w = d.w;
  w.stride_h = o ? o->stride_h() : 0;
  w.stride_w = o ? o->stride_w() : 0;
  if (w.stride_h <= 0 || w.stride_w <= 0) {
    return ctx.Error("strides (" + std::to_string(w.stride_h) + ", " +
                     std::to_string(w.stride_w) + ") must be positive");
  }
  K2L_ASSIGN_OR_RETURN(
      d.act, ActivationRange(ctx, o ? o->fused_activation_function()
                                    : fb::ActivationFunctionType::NONE));
  if (filter.is_constant() && d.tap_major.empty()) {
    d.tap_major.resize(filter.num_elements());
    reference::FilterOutMajorToTapMajor(
        filter.data<float>(), filter.dim(0),
        static_cast<int64_t>(filter.dim(1)) * filter.dim(2), filter.dim(3),
        d.tap_major.data());
  }
  if (!ctx.ValueKnown(0)) {
    ctx.Defer();
    return Status::Ok();
  }
  if (shape.num_elements() != 4) {
    return ctx.Error("output_shape '" + shape.name + "' has " +
                     std::to_string(shape.num_elements()) +
                     " values; it needs 4 (NHWC)");
  }
  const int32_t* s = shape.data<int32_t>();
  if (s[0] != in.dim(0) || s[1] <= 0 || s[2] <= 0 || s[3] != filter.dim(0)) {
    return ctx.Error("output_shape [" + std::to_string(s[0]) + ", " +
                     std::to_string(s[1]) + ", " + std::to_string(s[2]) + ", " +
                     std::to_string(s[3]) + "] must keep the input's batch " +
                     std::to_string(in.dim(0)) +
                     ", have positive height and "
                     "width, and the filter's " +
                     std::to_string(filter.dim(0)) + " channels");
  }
  // The forward convolution from the output must give back the input.
  reference::Window fwd;
  fwd.in_h = s[1];
  fwd.in_w = s[2];
  fwd.k_h = filter.dim(1);
  fwd.k_w = filter.dim(2);
  fwd.stride_h = w.stride_h;
  fwd.stride_w = w.stride_w;
  const bool same = o == nullptr || o->padding() == fb::Padding::SAME;
  if (!reference::ResolveWindow(same, &fwd) || fwd.out_h != in.dim(1) ||
      fwd.out_w != in.dim(2)) {
    return ctx.Error("output_shape " + std::to_string(s[1]) + "x" +
                     std::to_string(s[2]) + " does not match input " +
                     ShapeString(in.shape) + " for this filter, stride and " +
                     (same ? "SAME" : "VALID") + " padding");
  }
  w.batches = in.dim(0);
  w.in_h = in.dim(1);
  w.in_w = in.dim(2);
  w.in_c = in.dim(3);
  w.out_h = s[1];
  w.out_w = s[2];
  w.out_c = s[3];
  w.k_h = filter.dim(1);
  w.k_w = filter.dim(2);
  w.pad_h = fwd.pad_h;
  w.pad_w = fwd.pad_w;
  const bool has_bias = ctx.has_input(3);
  if (!filter.is_constant() || (has_bias && !ctx.input(3).is_constant())) {
    d.xnn.Reset();
  } else if (!d.xnn || !(d.xnn_w == w)) {
    d.xnn = fast::CreateDeconv2D(
        w, filter.data<float>(),
        has_bias ? ctx.input(3).data<float>() : nullptr, d.act.min, d.act.max);
    d.xnn_w = w;
  }
  return ctx.ResizeOutput(0, {s[0], s[1], s[2], s[3]});
}

Status TransposeConvEval(OpContext& ctx) {
  auto& d = ctx.data<TransposeConvData>();
  const reference::Window& w = d.w;
  // XNNPACK may read a few bytes past the input, which owned storage
  // allows but a constant's view on the file might not.
  if (d.xnn && !ctx.input(2).is_constant() &&
      fast::RunDeconv2D(d.xnn, w, ctx.input(2).data<float>(),
                        ctx.output(0).mutable_data<float>(),
                        ctx.interpreter().threadpool())) {
    return Status::Ok();
  }
  const Tensor& filter = ctx.input(1);
  if (!filter.is_constant()) {
    d.tap_major.resize(filter.num_elements());
    reference::FilterOutMajorToTapMajor(filter.data<float>(), w.out_c, w.taps(),
                                        w.in_c, d.tap_major.data());
  }
  const float* in = ctx.input(2).data<float>();
  const float* bias = ctx.has_input(3) ? ctx.input(3).data<float>() : nullptr;
  float* out = ctx.output(0).mutable_data<float>();
  ctx.ParallelFor(w.batches, 1, [&](int64_t begin, int64_t end) {
    reference::TransposeConvGemm(w, in, d.tap_major.data(), bias, d.act.min,
                                 d.act.max, out, begin, end);
  });
  return Status::Ok();
}

}  // namespace

Status RegisterTransposeConvKernels(OpResolver& r) {
  return r.Add({fb::BuiltinOperator::TRANSPOSE_CONV, 1, 5, TransposeConvPrepare,
                TransposeConvEval});
}

}  // namespace k2l::runtime::kernels
