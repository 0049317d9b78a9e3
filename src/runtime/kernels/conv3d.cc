// CONV_3D (input, filter [k_d, k_h, k_w, in_c, out_c], optional bias) and
// CONV_3D_TRANSPOSE (output_shape, filter [k_d, k_h, k_w, out_c, in_c],
// input, optional bias), both with Conv3DOptions, over NDHWC float32.
#include "runtime/reference/conv3d.h"

#include "runtime/kernels/register.h"
#include "runtime/kernels/util.h"
#include "runtime/reference/transpose_conv.h"

namespace k2l::runtime::kernels {

namespace {

struct Conv3DData : OpData {
  reference::Window w;
  FloatRange act{};
};

// Checks types, ranks, the bias and the options shared by both ops, and
// fills the window's kernel, strides and dilations. `in_c_dim` / `out_c_dim`
// index the filter's channel dims.
Status CommonPrepare(OpContext& ctx, const Tensor& in, const Tensor& filter,
                     int bias_index, int in_c_dim, int out_c_dim, Conv3DData& d,
                     bool* same) {
  K2L_RETURN_IF_ERROR(CheckRank(ctx, in, "input", 5, 5));
  K2L_RETURN_IF_ERROR(CheckRank(ctx, filter, "filter", 5, 5));
  K2L_RETURN_IF_ERROR(CheckType(ctx, in, "input", {TensorType::FLOAT32}));
  K2L_RETURN_IF_ERROR(CheckType(ctx, filter, "filter", {TensorType::FLOAT32}));
  K2L_RETURN_IF_ERROR(
      CheckType(ctx, ctx.output(0), "output", {TensorType::FLOAT32}));
  for (int i = 0; i < 5; ++i) {
    if ((i > 0 && in.dim(i) <= 0) || filter.dim(i) <= 0) {
      return ctx.Error("input " + ShapeString(in.shape) + " and filter " +
                       ShapeString(filter.shape) + " must have positive sizes");
    }
  }
  if (in.dim(4) != filter.dim(in_c_dim)) {
    return ctx.Error("input '" + in.name + "' has " +
                     std::to_string(in.dim(4)) + " channels but the filter " +
                     ShapeString(filter.shape) + " takes " +
                     std::to_string(filter.dim(in_c_dim)));
  }
  if (ctx.has_input(bias_index)) {
    const Tensor& bias = ctx.input(bias_index);
    K2L_RETURN_IF_ERROR(CheckType(ctx, bias, "bias", {TensorType::FLOAT32}));
    if (bias.num_elements() != filter.dim(out_c_dim)) {
      return ctx.Error(
          "bias '" + bias.name + "' has " +
          std::to_string(bias.num_elements()) + " values but the filter has " +
          std::to_string(filter.dim(out_c_dim)) + " output channels");
    }
  }
  const auto* o = ctx.options<fb::Conv3DOptions>();
  reference::Window& w = d.w;
  w.stride_d = o ? o->stride_d() : 0;
  w.stride_h = o ? o->stride_h() : 0;
  w.stride_w = o ? o->stride_w() : 0;
  w.dil_d = o ? o->dilation_d_factor() : 1;
  w.dil_h = o ? o->dilation_h_factor() : 1;
  w.dil_w = o ? o->dilation_w_factor() : 1;
  if (w.stride_d <= 0 || w.stride_h <= 0 || w.stride_w <= 0 || w.dil_d <= 0 ||
      w.dil_h <= 0 || w.dil_w <= 0) {
    return ctx.Error("strides (" + std::to_string(w.stride_d) + ", " +
                     std::to_string(w.stride_h) + ", " +
                     std::to_string(w.stride_w) + ") and dilations (" +
                     std::to_string(w.dil_d) + ", " + std::to_string(w.dil_h) +
                     ", " + std::to_string(w.dil_w) + ") must be positive");
  }
  K2L_ASSIGN_OR_RETURN(
      d.act, ActivationRange(ctx, o ? o->fused_activation_function()
                                    : fb::ActivationFunctionType::NONE));
  *same = o == nullptr || o->padding() == fb::Padding::SAME;
  w.k_d = filter.dim(0);
  w.k_h = filter.dim(1);
  w.k_w = filter.dim(2);
  w.batches = in.dim(0);
  return Status::Ok();
}

Status Conv3DPrepare(OpContext& ctx) {
  K2L_RETURN_IF_ERROR(CheckArity(ctx, 2, 3, 1));
  const Tensor& in = ctx.input(0);
  const Tensor& filter = ctx.input(1);
  auto& d = ctx.data<Conv3DData>();
  bool same = true;
  K2L_RETURN_IF_ERROR(CommonPrepare(ctx, in, filter, 2, 3, 4, d, &same));
  reference::Window& w = d.w;
  w.in_d = in.dim(1);
  w.in_h = in.dim(2);
  w.in_w = in.dim(3);
  w.in_c = in.dim(4);
  w.out_c = filter.dim(4);
  if (!reference::ResolveWindow(same, &w)) {
    return ctx.Error("the dilated filter " + ShapeString(filter.shape) +
                     " does not fit the input " + ShapeString(in.shape) +
                     " with VALID padding");
  }
  return ctx.ResizeOutput(0, {w.batches, w.out_d, w.out_h, w.out_w, w.out_c});
}

Status Conv3DEval(OpContext& ctx) {
  const auto& d = ctx.data<Conv3DData>();
  const reference::Window& w = d.w;
  const float* in = ctx.input(0).data<float>();
  const float* filter = ctx.input(1).data<float>();
  const float* bias = ctx.has_input(2) ? ctx.input(2).data<float>() : nullptr;
  float* out = ctx.output(0).mutable_data<float>();
  ctx.ParallelFor(w.out_pixels(),
                  reference::MinChunk(w.taps() * w.in_c * w.out_c),
                  [&](int64_t begin, int64_t end) {
                    reference::ConvGemm(w, in, filter, false, bias, d.act.min,
                                        d.act.max, out, begin, end - begin);
                  });
  return Status::Ok();
}

Status Conv3DTransposePrepare(OpContext& ctx) {
  K2L_RETURN_IF_ERROR(CheckArity(ctx, 3, 4, 1));
  const Tensor& shape = ctx.input(0);
  const Tensor& filter = ctx.input(1);
  const Tensor& in = ctx.input(2);
  K2L_RETURN_IF_ERROR(
      CheckType(ctx, shape, "output_shape", {TensorType::INT32}));
  if (shape.rank() != 1 || shape.num_elements() != 5) {
    return ctx.Error("output_shape '" + shape.name + "' has shape " +
                     ShapeString(shape.shape) + "; it needs 5 values (NDHWC)");
  }
  auto& d = ctx.data<Conv3DData>();
  bool same = true;
  K2L_RETURN_IF_ERROR(CommonPrepare(ctx, in, filter, 3, 4, 3, d, &same));
  if (!ctx.ValueKnown(0)) {
    ctx.Defer();
    return Status::Ok();
  }
  const int32_t* s = shape.data<int32_t>();
  Shape out(s, s + 5);
  if (s[0] != in.dim(0) || s[4] != filter.dim(3)) {
    return ctx.Error("output_shape " + ShapeString(out) +
                     " must keep the input's batch " +
                     std::to_string(in.dim(0)) + " and have the filter's " +
                     std::to_string(filter.dim(3)) + " output channels");
  }
  // The forward convolution from the output must give back the input.
  reference::Window& w = d.w;
  reference::Window fwd = w;
  fwd.in_d = s[1];
  fwd.in_h = s[2];
  fwd.in_w = s[3];
  if (s[1] < 0 || s[2] < 0 || s[3] < 0 ||
      !reference::ResolveWindow(same, &fwd) || fwd.out_d != in.dim(1) ||
      fwd.out_h != in.dim(2) || fwd.out_w != in.dim(3)) {
    return ctx.Error("output_shape " + ShapeString(out) +
                     " does not match input " + ShapeString(in.shape) +
                     " for this filter, strides, dilations and " +
                     (same ? "SAME" : "VALID") + " padding");
  }
  w.in_d = in.dim(1);
  w.in_h = in.dim(2);
  w.in_w = in.dim(3);
  w.in_c = in.dim(4);
  w.out_d = s[1];
  w.out_h = s[2];
  w.out_w = s[3];
  w.out_c = s[4];
  w.pad_d = fwd.pad_d;
  w.pad_h = fwd.pad_h;
  w.pad_w = fwd.pad_w;
  return ctx.ResizeOutput(0, out);
}

Status Conv3DTransposeEval(OpContext& ctx) {
  const auto& d = ctx.data<Conv3DData>();
  const float* filter = ctx.input(1).data<float>();
  const float* in = ctx.input(2).data<float>();
  const float* bias = ctx.has_input(3) ? ctx.input(3).data<float>() : nullptr;
  float* out = ctx.output(0).mutable_data<float>();
  ctx.ParallelFor(d.w.batches, 1, [&](int64_t begin, int64_t end) {
    reference::TransposeConvGemm(d.w, in, filter, bias, d.act.min, d.act.max,
                                 out, begin, end);
  });
  return Status::Ok();
}

}  // namespace

Status RegisterConv3DKernels(OpResolver& r) {
  K2L_RETURN_IF_ERROR(
      r.Add({fb::BuiltinOperator::CONV_3D, 1, 1, Conv3DPrepare, Conv3DEval}));
  return r.Add({fb::BuiltinOperator::CONV_3D_TRANSPOSE, 1, 1,
                Conv3DTransposePrepare, Conv3DTransposeEval});
}

}  // namespace k2l::runtime::kernels
