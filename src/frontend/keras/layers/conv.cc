// Convolution layers: Conv1D/2D, DepthwiseConv1D/2D, SeparableConv1D/2D and
// Conv1DTranspose/2DTranspose. 1-D layers run as 2-D ops over [N, 1, W, C].
//
// Weight layouts, Keras -> LiteRT:
//   Conv kernel (kh, kw, in, out)            -> CONV_2D (out, kh, kw, in)
//   Depthwise kernel (kh, kw, in, mult)      -> (1, kh, kw, in * mult)
//   Conv transpose kernel (kh, kw, out, in)  -> TRANSPOSE_CONV (out, kh, kw,
//   in)
#include "frontend/keras/activations.h"
#include "frontend/keras/registry.h"
#include "frontend/keras/shared_lowering.h"
#include "frontend/keras/weight_layout.h"

namespace k2l::keras {

namespace {

using ir::OpKind;
using ir::ValueId;

// Slices [begin, begin + count) of axis 0 of a float32 constant.
ir::TensorData SliceAxis0(const ir::TensorData& t, int64_t begin,
                          int64_t count) {
  int64_t inner = t.num_elements() / t.shape()[0];
  auto src = t.as<float>();
  std::vector<float> dst(src.begin() + begin * inner,
                         src.begin() + (begin + count) * inner);
  ir::Shape s = t.shape();
  s[0] = count;
  return ir::TensorData::FromVector(ir::DType::kFloat32, s, dst);
}

struct ConvSpec {
  int rank = 2;  // spatial rank of the Keras layer (1 or 2)
  std::vector<int64_t> kernel, strides, dilation;
  ir::Padding padding = ir::Padding::kValid;
  bool causal = false;
  bool use_bias = true;
};

Result<ConvSpec> ReadSpec(LayerContext& ctx, int rank, bool allow_causal,
                          const char* kernel_key = "kernel_size") {
  K2L_RETURN_IF_ERROR(ctx.RequireChannelsLast("convolutions"));
  ConvSpec s;
  s.rank = rank;
  K2L_ASSIGN_OR_RETURN(s.kernel, ctx.Ints(kernel_key, rank));
  K2L_ASSIGN_OR_RETURN(s.strides, ctx.Ints("strides", rank));
  if (ctx.Has("dilation_rate")) {
    K2L_ASSIGN_OR_RETURN(s.dilation, ctx.Ints("dilation_rate", rank));
  } else {
    s.dilation.assign(rank, 1);
  }
  std::vector<std::string> allowed = {"valid", "same"};
  if (allow_causal) allowed.push_back("causal");
  K2L_ASSIGN_OR_RETURN(std::string pad,
                       ctx.Choice("padding", allowed, "valid"));
  s.padding = pad == "same" ? ir::Padding::kSame : ir::Padding::kValid;
  s.causal = pad == "causal";
  K2L_ASSIGN_OR_RETURN(s.use_bias, ctx.BoolOr("use_bias", true));
  return s;
}

// [N, W, C] -> [N, 1, W, C] for 1-D layers; 2-D inputs pass through.
Result<ValueId> To4D(LayerContext& ctx, ValueId x, int rank) {
  size_t want = static_cast<size_t>(rank) + 2;
  if (ctx.rank(x) != want) {
    return ctx.Invalid("its input has shape " +
                           ir::ShapeToString(ctx.shape(x)) +
                           ", expected rank " + std::to_string(want),
                       "Check the model's input shape");
  }
  if (rank == 2) return x;
  return ctx.Op(OpKind::kExpandDims, {x, ctx.ConstInts({1})});
}

Result<ValueId> From4D(LayerContext& ctx, ValueId y, int rank) {
  if (rank == 2) return y;
  return ctx.Op(OpKind::kSqueeze, {y}, ir::SqueezeAttrs{{1}});
}

// Spatial params as (h, w) for the 2-D op.
std::pair<int, int> HW(const std::vector<int64_t>& v, int rank) {
  return rank == 2 ? std::pair<int, int>(static_cast<int>(v[0]),
                                         static_cast<int>(v[1]))
                   : std::pair<int, int>(1, static_cast<int>(v[0]));
}

// Pads the time axis on the left by (k - 1) * dilation, as Keras' causal
// padding does before a 'valid' convolution.
Result<ValueId> CausalPad(LayerContext& ctx, ValueId x4, const ConvSpec& s) {
  int32_t left = static_cast<int32_t>((s.kernel[0] - 1) * s.dilation[0]);
  return ctx.Op(OpKind::kPad,
                {x4, ctx.ConstInts({0, 0, 0, 0, left, 0, 0, 0}, {4, 2})});
}

Result<ValueId> Conv2DOp(LayerContext& ctx, ValueId x4, ir::TensorData filter,
                         ValueId bias, const ConvSpec& s) {
  if (bias == ir::kNoValue) {
    // LiteRT's CONV_2D kernel requires its bias input.
    int64_t out = filter.shape()[0];
    bias = ctx.Const(ir::TensorData::FromVector(ir::DType::kFloat32, {out},
                                                std::vector<float>(out, 0.f)),
                     "zero_bias");
  }
  ir::Conv2DAttrs a;
  a.padding = s.causal ? ir::Padding::kValid : s.padding;
  std::tie(a.stride_h, a.stride_w) = HW(s.strides, s.rank);
  std::tie(a.dilation_h, a.dilation_w) = HW(s.dilation, s.rank);
  return ctx.Op(OpKind::kConv2D,
                {x4, ctx.Const(std::move(filter), "kernel"), bias}, a);
}

Result<ValueId> DepthwiseOp(LayerContext& ctx, ValueId x4,
                            const ir::TensorData& kernel, int64_t in,
                            int64_t mult, ValueId bias, const ConvSpec& s) {
  ir::Shape ks = kernel.shape();
  int64_t kh = s.rank == 2 ? ks[0] : 1;
  int64_t kw = s.rank == 2 ? ks[1] : ks[0];
  ir::DepthwiseConv2DAttrs a;
  a.padding = s.causal ? ir::Padding::kValid : s.padding;
  std::tie(a.stride_h, a.stride_w) = HW(s.strides, s.rank);
  std::tie(a.dilation_h, a.dilation_w) = HW(s.dilation, s.rank);
  a.depth_multiplier = static_cast<int>(mult);
  if (bias == ir::kNoValue) {
    // LiteRT's depthwise kernel requires a bias tensor.
    bias = ctx.Const(
        ir::TensorData::FromVector(ir::DType::kFloat32, {in * mult},
                                   std::vector<float>(in * mult, 0.f)),
        "zero_bias");
  }
  ValueId filter =
      ctx.Const(Reshaped(kernel, {1, kh, kw, in * mult}), "depthwise_kernel");
  return ctx.Op(OpKind::kDepthwiseConv2D, {x4, filter, bias}, a);
}

Result<std::vector<ValueId>> ConvertConv(LayerContext& ctx, int rank) {
  K2L_ASSIGN_OR_RETURN(ConvSpec s, ReadSpec(ctx, rank, rank == 1));
  K2L_ASSIGN_OR_RETURN(int64_t filters, ctx.Int("filters"));
  K2L_ASSIGN_OR_RETURN(int64_t groups, ctx.IntOr("groups", 1));
  ValueId x = ctx.input();
  const ir::Shape xs = ctx.shape(x);
  int64_t in = xs.empty() ? ir::kDynamic : xs.back();
  if (in == ir::kDynamic) {
    return {ctx.Invalid("its input channel count is unknown",
                        "Give the model's Input a fixed channel dimension")};
  }
  if (groups < 1 || in % groups || filters % groups) {
    return {ctx.Invalid("groups=" + std::to_string(groups) +
                            " does not divide the input channels (" +
                            std::to_string(in) + ") and filters (" +
                            std::to_string(filters) + ")",
                        "Use a group count that divides both")};
  }
  std::vector<std::string> names = {"kernel"};
  if (s.use_bias) names.push_back("bias");
  K2L_ASSIGN_OR_RETURN(auto w, ctx.Weights(names));
  ir::Shape expected(s.kernel.begin(), s.kernel.end());
  expected.push_back(in / groups);
  expected.push_back(filters);
  K2L_RETURN_IF_ERROR(ctx.ExpectWeightShape(w[0], "kernel", expected));
  if (s.use_bias)
    K2L_RETURN_IF_ERROR(ctx.ExpectWeightShape(w[1], "bias", {filters}));

  // (k..., in, out) -> (out, kh, kw, in), for CONV_2D.
  auto conv_filter = [&] {
    ir::TensorData kernel = w[0];
    if (rank == 1)
      kernel = Reshaped(kernel, {1, s.kernel[0], in / groups, filters});
    return Permute(kernel, {3, 0, 1, 2});
  };

  K2L_ASSIGN_OR_RETURN(ValueId x4, To4D(ctx, x, rank));
  if (s.causal) {
    K2L_ASSIGN_OR_RETURN(x4, CausalPad(ctx, x4, s));
  }
  ValueId y;
  if (groups == 1) {
    ValueId bias = s.use_bias ? ctx.Const(w[1], "bias") : ir::kNoValue;
    K2L_ASSIGN_OR_RETURN(y, Conv2DOp(ctx, x4, conv_filter(), bias, s));
  } else if (groups == in) {
    // One input channel per group is a depthwise convolution: output
    // channel o reads input channel o / (filters / in), as DEPTHWISE_CONV_2D
    // with that multiplier does, and the kernel (k..., 1, filters) is laid
    // out as its (1, kh, kw, filters).
    ValueId bias = s.use_bias ? ctx.Const(w[1], "bias") : ir::kNoValue;
    K2L_ASSIGN_OR_RETURN(
        y, DepthwiseOp(ctx, x4, w[0], in, filters / in, bias, s));
  } else {
    // Grouped convolution: one CONV_2D per group over a channel split.
    K2L_ASSIGN_OR_RETURN(auto parts,
                         ctx.MultiOp(OpKind::kSplit, {ctx.ConstInts({3}), x4},
                                     ir::SplitAttrs{static_cast<int>(groups)}));
    int64_t per = filters / groups;
    const ir::TensorData filter = conv_filter();
    std::vector<ValueId> outs;
    for (int64_t gi = 0; gi < groups; ++gi) {
      ValueId bias = s.use_bias
                         ? ctx.Const(SliceAxis0(w[1], gi * per, per), "bias")
                         : ir::kNoValue;
      K2L_ASSIGN_OR_RETURN(
          ValueId part,
          Conv2DOp(ctx, parts[gi], SliceAxis0(filter, gi * per, per), bias, s));
      outs.push_back(part);
    }
    K2L_ASSIGN_OR_RETURN(
        y, ctx.Op(OpKind::kConcatenation, outs, ir::ConcatAttrs{3}));
  }
  K2L_ASSIGN_OR_RETURN(y, From4D(ctx, y, rank));
  K2L_ASSIGN_OR_RETURN(y, ApplyConfigActivation(ctx, y));
  return std::vector<ValueId>{y};
}

Result<int64_t> KnownChannels(LayerContext& ctx, ValueId x) {
  const ir::Shape xs = ctx.shape(x);
  if (xs.empty() || xs.back() == ir::kDynamic) {
    return ctx.Invalid("its input channel count is unknown",
                       "Give the model's Input a fixed channel dimension");
  }
  return xs.back();
}

Result<std::vector<ValueId>> ConvertDepthwise(LayerContext& ctx, int rank) {
  K2L_ASSIGN_OR_RETURN(ConvSpec s, ReadSpec(ctx, rank, rank == 1));
  K2L_ASSIGN_OR_RETURN(int64_t mult, ctx.IntOr("depth_multiplier", 1));
  ValueId x = ctx.input();
  K2L_ASSIGN_OR_RETURN(int64_t in, KnownChannels(ctx, x));
  std::vector<std::string> names = {"depthwise_kernel"};
  if (s.use_bias) names.push_back("bias");
  K2L_ASSIGN_OR_RETURN(auto w, ctx.Weights(names));
  ir::Shape expected(s.kernel.begin(), s.kernel.end());
  expected.push_back(in);
  expected.push_back(mult);
  K2L_RETURN_IF_ERROR(
      ctx.ExpectWeightShape(w[0], "depthwise_kernel", expected));
  ValueId bias = ir::kNoValue;
  if (s.use_bias) {
    K2L_RETURN_IF_ERROR(ctx.ExpectWeightShape(w[1], "bias", {in * mult}));
    bias = ctx.Const(w[1], "bias");
  }
  K2L_ASSIGN_OR_RETURN(ValueId x4, To4D(ctx, x, rank));
  if (s.causal) {
    K2L_ASSIGN_OR_RETURN(x4, CausalPad(ctx, x4, s));
  }
  K2L_ASSIGN_OR_RETURN(ValueId y,
                       DepthwiseOp(ctx, x4, w[0], in, mult, bias, s));
  K2L_ASSIGN_OR_RETURN(y, From4D(ctx, y, rank));
  K2L_ASSIGN_OR_RETURN(y, ApplyConfigActivation(ctx, y));
  return std::vector<ValueId>{y};
}

Result<std::vector<ValueId>> ConvertSeparable(LayerContext& ctx, int rank) {
  K2L_ASSIGN_OR_RETURN(ConvSpec s, ReadSpec(ctx, rank, rank == 1));
  K2L_ASSIGN_OR_RETURN(int64_t mult, ctx.IntOr("depth_multiplier", 1));
  K2L_ASSIGN_OR_RETURN(int64_t filters, ctx.Int("filters"));
  ValueId x = ctx.input();
  K2L_ASSIGN_OR_RETURN(int64_t in, KnownChannels(ctx, x));
  std::vector<std::string> names = {"depthwise_kernel", "pointwise_kernel"};
  if (s.use_bias) names.push_back("bias");
  K2L_ASSIGN_OR_RETURN(auto w, ctx.Weights(names));
  ir::Shape dw(s.kernel.begin(), s.kernel.end());
  dw.push_back(in);
  dw.push_back(mult);
  K2L_RETURN_IF_ERROR(ctx.ExpectWeightShape(w[0], "depthwise_kernel", dw));
  ir::Shape pw(static_cast<size_t>(rank), 1);
  pw.push_back(in * mult);
  pw.push_back(filters);
  K2L_RETURN_IF_ERROR(ctx.ExpectWeightShape(w[1], "pointwise_kernel", pw));
  K2L_ASSIGN_OR_RETURN(ValueId x4, To4D(ctx, x, rank));
  if (s.causal) {
    K2L_ASSIGN_OR_RETURN(x4, CausalPad(ctx, x4, s));
  }
  K2L_ASSIGN_OR_RETURN(ValueId d,
                       DepthwiseOp(ctx, x4, w[0], in, mult, ir::kNoValue, s));
  ValueId bias = ir::kNoValue;
  if (s.use_bias) {
    K2L_RETURN_IF_ERROR(ctx.ExpectWeightShape(w[2], "bias", {filters}));
    bias = ctx.Const(w[2], "bias");
  }
  // Pointwise: (1, [1,] in*mult, filters) -> (filters, 1, 1, in*mult).
  ir::TensorData point =
      Permute(Reshaped(w[1], {1, 1, in * mult, filters}), {3, 0, 1, 2});
  ConvSpec unit;
  unit.rank = 2;
  unit.kernel = {1, 1};
  unit.strides = {1, 1};
  unit.dilation = {1, 1};
  K2L_ASSIGN_OR_RETURN(ValueId y, Conv2DOp(ctx, d, point, bias, unit));
  K2L_ASSIGN_OR_RETURN(y, From4D(ctx, y, rank));
  K2L_ASSIGN_OR_RETURN(y, ApplyConfigActivation(ctx, y));
  return std::vector<ValueId>{y};
}

// Transposed convolutions in LiteRT have neither dilation nor output
// padding.
Status CheckTransposeOptions(LayerContext& ctx,
                             const std::vector<int64_t>& dilation,
                             const std::string& op) {
  for (int64_t d : dilation) {
    if (d != 1) {
      return ctx.Invalid(
          "dilation_rate != 1 has no LiteRT lowering for transposed "
          "convolutions",
          "Use dilation_rate=1");
    }
  }
  if (ctx.Has("output_padding")) {
    return ctx.Invalid("output_padding is set, which " + op + " cannot express",
                       "Use output_padding=None and crop or pad explicitly");
  }
  return Status::Ok();
}

// The output_shape input of a transposed convolution: the batch read from
// `x` at run time (it is dynamic), then the static `rest`.
Result<ValueId> OutputShapeWithBatch(LayerContext& ctx, ValueId x,
                                     const std::vector<int32_t>& rest) {
  K2L_ASSIGN_OR_RETURN(ValueId batch, RuntimeDims(ctx, x, 0, 1));
  return ctx.Op(OpKind::kConcatenation, {batch, ctx.ConstInts(rest)},
                ir::ConcatAttrs{0});
}

Result<std::vector<ValueId>> ConvertTranspose(LayerContext& ctx, int rank) {
  K2L_ASSIGN_OR_RETURN(ConvSpec s, ReadSpec(ctx, rank, false));
  K2L_ASSIGN_OR_RETURN(int64_t filters, ctx.Int("filters"));
  K2L_RETURN_IF_ERROR(CheckTransposeOptions(ctx, s.dilation, "TRANSPOSE_CONV"));
  ValueId x = ctx.input();
  K2L_ASSIGN_OR_RETURN(int64_t in, KnownChannels(ctx, x));
  std::vector<std::string> names = {"kernel"};
  if (s.use_bias) names.push_back("bias");
  K2L_ASSIGN_OR_RETURN(auto w, ctx.Weights(names));
  ir::Shape expected(s.kernel.begin(), s.kernel.end());
  expected.push_back(filters);
  expected.push_back(in);
  K2L_RETURN_IF_ERROR(ctx.ExpectWeightShape(w[0], "kernel", expected));
  ValueId bias = ir::kNoValue;
  if (s.use_bias) {
    K2L_RETURN_IF_ERROR(ctx.ExpectWeightShape(w[1], "bias", {filters}));
    bias = ctx.Const(w[1], "bias");
  }
  ir::TensorData kernel = w[0];
  if (rank == 1) kernel = Reshaped(kernel, {1, s.kernel[0], filters, in});
  ValueId filter = ctx.Const(Permute(kernel, {2, 0, 1, 3}), "kernel");

  K2L_ASSIGN_OR_RETURN(ValueId x4, To4D(ctx, x, rank));
  const ir::Shape xs = ctx.shape(x4);
  auto [sh, sw] = HW(s.strides, rank);
  int64_t kh = rank == 2 ? s.kernel[0] : 1;
  int64_t kw = rank == 2 ? s.kernel[1] : s.kernel[0];
  auto extent = [&](int64_t n, int64_t k, int st) -> int64_t {
    if (n == ir::kDynamic) return ir::kDynamic;
    return s.padding == ir::Padding::kSame ? n * st : (n - 1) * st + k;
  };
  int64_t oh = extent(xs[1], kh, sh), ow = extent(xs[2], kw, sw);
  if (oh == ir::kDynamic || ow == ir::kDynamic) {
    return {ctx.Invalid(
        "its input has dynamic spatial dims " + ir::ShapeToString(xs),
        "Give the model's Input fixed spatial dimensions")};
  }
  std::vector<int32_t> rest = {static_cast<int32_t>(oh),
                               static_cast<int32_t>(ow),
                               static_cast<int32_t>(filters)};
  K2L_ASSIGN_OR_RETURN(ValueId out_shape, OutputShapeWithBatch(ctx, x4, rest));
  ir::TransposeConvAttrs a;
  a.padding = s.padding;
  a.stride_h = sh;
  a.stride_w = sw;
  std::vector<ValueId> ins = {out_shape, filter, x4};
  if (bias != ir::kNoValue) ins.push_back(bias);
  K2L_ASSIGN_OR_RETURN(ValueId y, ctx.Op(OpKind::kTransposeConv, ins, a));
  K2L_ASSIGN_OR_RETURN(y, From4D(ctx, y, rank));
  K2L_ASSIGN_OR_RETURN(y, ApplyConfigActivation(ctx, y));
  return std::vector<ValueId>{y};
}

// Conv3D and Conv3DTranspose map onto CONV_3D / CONV_3D_TRANSPOSE, whose
// filters keep Keras' layouts: (kd, kh, kw, in, out) and
// (kd, kh, kw, out, in).
Result<std::vector<ValueId>> ConvertConv3D(LayerContext& ctx, bool transpose) {
  K2L_RETURN_IF_ERROR(ctx.RequireChannelsLast("convolutions"));
  K2L_ASSIGN_OR_RETURN(auto kernel, ctx.Ints("kernel_size", 3));
  K2L_ASSIGN_OR_RETURN(auto strides, ctx.Ints("strides", 3));
  std::vector<int64_t> dilation = {1, 1, 1};
  if (ctx.Has("dilation_rate")) {
    K2L_ASSIGN_OR_RETURN(dilation, ctx.Ints("dilation_rate", 3));
  }
  K2L_ASSIGN_OR_RETURN(std::string pad,
                       ctx.Choice("padding", {"valid", "same"}, "valid"));
  K2L_ASSIGN_OR_RETURN(bool use_bias, ctx.BoolOr("use_bias", true));
  K2L_ASSIGN_OR_RETURN(int64_t filters, ctx.Int("filters"));
  K2L_ASSIGN_OR_RETURN(int64_t groups, ctx.IntOr("groups", 1));
  if (groups != 1) {
    return {ctx.Invalid("groups=" + std::to_string(groups) +
                            " is not supported for 3-D convolutions",
                        "Use groups=1")};
  }
  if (transpose) {
    K2L_RETURN_IF_ERROR(
        CheckTransposeOptions(ctx, dilation, "CONV_3D_TRANSPOSE"));
  }
  ValueId x = ctx.input();
  if (ctx.rank(x) != 5) {
    return {ctx.Invalid("its input has shape " +
                            ir::ShapeToString(ctx.shape(x)) +
                            ", expected rank 5",
                        "Check the model's input shape")};
  }
  K2L_ASSIGN_OR_RETURN(int64_t in, KnownChannels(ctx, x));
  std::vector<std::string> names = {"kernel"};
  if (use_bias) names.push_back("bias");
  K2L_ASSIGN_OR_RETURN(auto w, ctx.Weights(names));
  ir::Shape expected(kernel.begin(), kernel.end());
  expected.push_back(transpose ? filters : in);
  expected.push_back(transpose ? in : filters);
  K2L_RETURN_IF_ERROR(ctx.ExpectWeightShape(w[0], "kernel", expected));
  if (use_bias) {
    K2L_RETURN_IF_ERROR(ctx.ExpectWeightShape(w[1], "bias", {filters}));
  }
  ir::Conv3DAttrs a;
  a.padding = pad == "same" ? ir::Padding::kSame : ir::Padding::kValid;
  a.stride_d = static_cast<int>(strides[0]);
  a.stride_h = static_cast<int>(strides[1]);
  a.stride_w = static_cast<int>(strides[2]);
  a.dilation_d = static_cast<int>(dilation[0]);
  a.dilation_h = static_cast<int>(dilation[1]);
  a.dilation_w = static_cast<int>(dilation[2]);
  ValueId filter = ctx.Const(w[0], "kernel");
  std::vector<ValueId> ins;
  if (transpose) {
    const ir::Shape xs = ctx.shape(x);
    std::vector<int32_t> rest;
    for (int i = 0; i < 3; ++i) {
      if (xs[i + 1] == ir::kDynamic) {
        return {ctx.Invalid(
            "its input has dynamic spatial dims " + ir::ShapeToString(xs),
            "Give the model's Input fixed spatial dimensions")};
      }
      int64_t n = a.padding == ir::Padding::kSame
                      ? xs[i + 1] * strides[i]
                      : (xs[i + 1] - 1) * strides[i] + kernel[i];
      rest.push_back(static_cast<int32_t>(n));
    }
    rest.push_back(static_cast<int32_t>(filters));
    K2L_ASSIGN_OR_RETURN(ValueId out_shape, OutputShapeWithBatch(ctx, x, rest));
    ins = {out_shape, filter, x};
  } else {
    ins = {x, filter};
  }
  // LiteRT's 3-D kernels take the bias only as a present input.
  if (use_bias) ins.push_back(ctx.Const(w[1], "bias"));
  K2L_ASSIGN_OR_RETURN(
      ValueId y,
      ctx.Op(transpose ? OpKind::kConv3DTranspose : OpKind::kConv3D, ins, a));
  K2L_ASSIGN_OR_RETURN(y, ApplyConfigActivation(ctx, y));
  return std::vector<ValueId>{y};
}

Result<std::vector<ValueId>> Conv3D(LayerContext& c) {
  return ConvertConv3D(c, false);
}
Result<std::vector<ValueId>> Conv3DTranspose(LayerContext& c) {
  return ConvertConv3D(c, true);
}

Result<std::vector<ValueId>> Conv1D(LayerContext& c) {
  return ConvertConv(c, 1);
}
Result<std::vector<ValueId>> Conv2D(LayerContext& c) {
  return ConvertConv(c, 2);
}
Result<std::vector<ValueId>> Depthwise1D(LayerContext& c) {
  return ConvertDepthwise(c, 1);
}
Result<std::vector<ValueId>> Depthwise2D(LayerContext& c) {
  return ConvertDepthwise(c, 2);
}
Result<std::vector<ValueId>> Separable1D(LayerContext& c) {
  return ConvertSeparable(c, 1);
}
Result<std::vector<ValueId>> Separable2D(LayerContext& c) {
  return ConvertSeparable(c, 2);
}
Result<std::vector<ValueId>> Transpose1D(LayerContext& c) {
  return ConvertTranspose(c, 1);
}
Result<std::vector<ValueId>> Transpose2D(LayerContext& c) {
  return ConvertTranspose(c, 2);
}

}  // namespace

Status RegisterConvLayers(Registry& r) {
  K2L_RETURN_IF_ERROR(r.Register("Conv1D", Conv1D, "CONV_2D (+PAD for causal)",
                                 kRefusesChannelsFirst));
  K2L_RETURN_IF_ERROR(r.Register("Conv2D", Conv2D,
                                 "CONV_2D (DEPTHWISE_CONV_2D for one channel per group; SPLIT + "
                                 "CONCATENATION for other groups)",
                                 kRefusesChannelsFirst));
  K2L_RETURN_IF_ERROR(r.Register("DepthwiseConv1D", Depthwise1D,
                                 "DEPTHWISE_CONV_2D", kRefusesChannelsFirst));
  K2L_RETURN_IF_ERROR(r.Register("DepthwiseConv2D", Depthwise2D,
                                 "DEPTHWISE_CONV_2D", kRefusesChannelsFirst));
  K2L_RETURN_IF_ERROR(r.Register("SeparableConv1D", Separable1D,
                                 "DEPTHWISE_CONV_2D, CONV_2D",
                                 kRefusesChannelsFirst));
  K2L_RETURN_IF_ERROR(r.Register("SeparableConv2D", Separable2D,
                                 "DEPTHWISE_CONV_2D, CONV_2D",
                                 kRefusesChannelsFirst));
  K2L_RETURN_IF_ERROR(
      r.Register("Conv1DTranspose", Transpose1D, "TRANSPOSE_CONV",
                 "data_format='channels_first', dilation_rate != 1, "
                 "output_padding and dynamic spatial dims are refused"));
  K2L_RETURN_IF_ERROR(
      r.Register("Conv2DTranspose", Transpose2D, "TRANSPOSE_CONV",
                 "data_format='channels_first', dilation_rate != 1, "
                 "output_padding and dynamic spatial dims are refused"));
  K2L_RETURN_IF_ERROR(
      r.Register("Conv3D", Conv3D, "CONV_3D", kRefusesChannelsFirst));
  K2L_RETURN_IF_ERROR(
      r.Register("Conv3DTranspose", Conv3DTranspose, "CONV_3D_TRANSPOSE",
                 "data_format='channels_first', dilation_rate != 1, "
                 "output_padding and dynamic spatial dims are refused"));
  return Status::Ok();
}

}  // namespace k2l::keras
