// Keras-Hub's EfficientNet blocks (keras_hub.src.models.efficientnet), as
// keras-hub 0.32 computes them at inference. Each is one Keras layer whose
// sublayers are saved under their attribute names; the converter runs the
// registered converters of those sublayers (Conv2D, DepthwiseConv2D,
// BatchNormalization, ...) in the order the block's call() does.
//
// MBConvBlock ("unfused"):
//   [1x1 conv1 -> bn1 -> act]          when expand_ratio != 1
//   depthwise (kernel_size, strides, "same") -> bn2 -> act
//   [squeeze and excitation]           when 0 < se_ratio <= 1
//   zero pad -> output_conv (1x1, or kernel_size when expand_ratio == 1)
//   -> bn3
//   [+ inputs]                         when strides == 1, input_filters ==
//                                      output_filters and not nores
// FusedMBConvBlock ("fused"):
//   zero pad -> conv1 (kernel_size, strides) -> bn1 -> act
//   [squeeze and excitation]
//   zero pad -> output_conv (projection_kernel_size) -> bn2
//   [projection_activation]            when expand_ratio == 1
//   [+ inputs]
// CBABlock ("cba"):
//   zero pad -> conv1 (kernel_size, strides) -> bn1 -> act  [+ inputs]
//
// Squeeze and excitation: global average pool (kept as [B, 1, 1, C]),
// se_conv1 (max(1, int(input_filters * se_ratio)) filters, the block's
// activation), se_conv2 (sigmoid), times the feature map. Dropout is the
// identity at inference.
#include <cmath>

#include "frontend/keras/registry.h"
#include "frontend/keras/layer_configs.h"

namespace k2l::keras {

using ir::ValueId;
using nlohmann::json;

namespace {

struct Block {
  int64_t in = 0, out = 0, kernel = 3, stride = 1, filters = 0, filters_se = 1,
          projection_kernel = 1;
  double expand = 1.0, se = 0.0, epsilon = 1e-3;
  std::string activation = "swish";
  json projection_activation;  // null for none
  bool nores = false;
};

Result<std::string> ActivationName(LayerContext& ctx, const std::string& key,
                                   const std::string& fallback) {
  if (!ctx.Has(key) || ctx.config()[key].is_null()) return fallback;
  if (!ctx.config()[key].is_string()) {
    return ctx.Invalid("its " + key + " is " + ctx.config()[key].dump() +
                           ", not the name of a Keras activation",
                       "Build the block with an activation name such as "
                       "\"swish\"");
  }
  return ctx.config()[key].get<std::string>();
}

Result<Block> ReadBlock(LayerContext& ctx, bool expands, bool excites) {
  Block b;
  K2L_RETURN_IF_ERROR(ctx.RequireChannelsLast("convolutions"));
  K2L_ASSIGN_OR_RETURN(b.in, ctx.Int("input_filters"));
  K2L_ASSIGN_OR_RETURN(b.out, ctx.Int("output_filters"));
  K2L_ASSIGN_OR_RETURN(b.kernel, ctx.IntOr("kernel_size", 3));
  K2L_ASSIGN_OR_RETURN(b.stride, ctx.IntOr("strides", 1));
  K2L_ASSIGN_OR_RETURN(b.epsilon, ctx.FloatOr("batch_norm_epsilon", 1e-3));
  K2L_ASSIGN_OR_RETURN(b.activation,
                       ActivationName(ctx, "activation", "swish"));
  K2L_ASSIGN_OR_RETURN(b.nores, ctx.BoolOr("nores", false));
  b.filters = b.out;
  if (expands) {
    K2L_ASSIGN_OR_RETURN(b.expand, ctx.FloatOr("expand_ratio", 1.0));
    const double filters = static_cast<double>(b.in) * b.expand;
    if (filters < 1 || filters != std::floor(filters)) {
      return ctx.Invalid(
          "input_filters * expand_ratio is " + std::to_string(filters) +
              ", not a whole number of filters",
          "Use an expand_ratio that gives whole filters (keras-hub's own "
          "presets use integers)");
    }
    b.filters = static_cast<int64_t>(filters);
  }
  if (excites) {
    K2L_ASSIGN_OR_RETURN(b.se, ctx.FloatOr("se_ratio", 0.0));
    // Python's int() truncates toward zero.
    b.filters_se = std::max<int64_t>(
        1, static_cast<int64_t>(std::trunc(static_cast<double>(b.in) * b.se)));
  }
  if (b.in < 1 || b.out < 1 || b.kernel < 1 || b.stride < 1) {
    return ctx.Invalid(
        "input_filters, output_filters, kernel_size and "
        "strides must be positive",
        "Fix the block's config");
  }
  return b;
}

// Runs the registered converter of `cls` as the sublayer saved under
// attribute `attr` with Keras name `keras_name`.
Result<std::vector<ValueId>> Run(LayerContext& ctx, const char* cls,
                                 json config, const std::string& attr,
                                 const std::string& keras_name,
                                 std::vector<ValueId> inputs) {
  const LayerInfo* info = DefaultRegistry().Find(cls);
  if (info == nullptr) {
    return Status::Internal(std::string("no converter for ") + cls);
  }
  config["name"] = keras_name;
  static const json kNoArgs = json::array();
  static const json kNoKwargs = json::object();
  LayerContext sub = ctx.Sublayer(config, cls, ctx.name() + "/" + keras_name,
                                  std::move(inputs), {attr}, kNoArgs, kNoKwargs,
                                  {}, keras_name);
  auto outs = info->convert(sub);
  if (!outs.ok()) return outs.status().WithContext(ctx.Describe());
  return outs;
}

Result<ValueId> RunOne(LayerContext& ctx, const char* cls, json config,
                       const std::string& attr, const std::string& keras_name,
                       ValueId x) {
  K2L_ASSIGN_OR_RETURN(auto outs,
                       Run(ctx, cls, std::move(config), attr, keras_name, {x}));
  return outs.at(0);
}

Result<ValueId> Conv(LayerContext& ctx, const std::string& attr,
                     const std::string& suffix, ValueId x, int64_t filters,
                     int64_t kernel, int64_t stride, const char* padding,
                     bool use_bias = false,
                     const std::string& activation = "linear") {
  return RunOne(ctx, "Conv2D",
                Conv2DConfig(filters, kernel, stride, padding, use_bias,
                             activation),
                attr, ctx.name() + suffix, x);
}

Result<ValueId> Norm(LayerContext& ctx, const std::string& attr,
                     const std::string& suffix, const Block& b, ValueId x) {
  return RunOne(
      ctx, "BatchNormalization",
      BatchNormConfig(b.epsilon, 0.99, 3),
      attr, ctx.name() + suffix, x);
}

Result<ValueId> Act(LayerContext& ctx, const std::string& attr,
                    const std::string& suffix, const json& activation,
                    ValueId x) {
  return RunOne(ctx, "Activation", {{"activation", activation}}, attr,
                ctx.name() + suffix, x);
}

Result<ValueId> Pad(LayerContext& ctx, const std::string& attr,
                    const std::string& suffix, int64_t kernel, ValueId x) {
  const int64_t p = kernel / 2;
  if (p == 0) return x;
  return RunOne(
      ctx, "ZeroPadding2D",
      {{"padding", {{p, p}, {p, p}}}, {"data_format", "channels_last"}}, attr,
      ctx.name() + suffix, x);
}

Result<ValueId> SqueezeExcite(LayerContext& ctx, const Block& b, ValueId x) {
  if (!(b.se > 0 && b.se <= 1)) return x;
  K2L_ASSIGN_OR_RETURN(
      ValueId se, RunOne(ctx, "GlobalAveragePooling2D",
                         {{"data_format", "channels_last"}, {"keepdims", true}},
                         "se_squeeze", ctx.name() + "se_squeeze", x));
  K2L_ASSIGN_OR_RETURN(se, Conv(ctx, "se_conv1", "se_reduce", se, b.filters_se,
                                1, 1, "same", true, b.activation));
  K2L_ASSIGN_OR_RETURN(se, Conv(ctx, "se_conv2", "se_expand", se, b.filters, 1,
                                1, "same", true, "sigmoid"));
  K2L_ASSIGN_OR_RETURN(auto outs,
                       Run(ctx, "Multiply", json::object(), "se_excite",
                           ctx.name() + "se_excite", {x, se}));
  return outs.at(0);
}

Result<std::vector<ValueId>> Residual(LayerContext& ctx, const Block& b,
                                      ValueId x) {
  if (b.stride == 1 && b.in == b.out && !b.nores) {
    K2L_ASSIGN_OR_RETURN(auto outs, Run(ctx, "Add", json::object(), "add",
                                        ctx.name() + "add", {x, ctx.input()}));
    return outs;
  }
  return std::vector<ValueId>{x};
}

Status RequireOneInput(LayerContext& ctx) {
  if (ctx.num_inputs() != 1 || ctx.rank(ctx.input()) != 4) {
    return ctx.Invalid(
        "it takes one [batch, height, width, channels] "
        "feature map",
        "Call the block on one 4-D channels_last tensor");
  }
  return Status::Ok();
}

Result<std::vector<ValueId>> ConvertMBConv(LayerContext& ctx) {
  K2L_RETURN_IF_ERROR(RequireOneInput(ctx));
  K2L_ASSIGN_OR_RETURN(Block b, ReadBlock(ctx, true, true));
  ValueId x = ctx.input();
  if (b.expand != 1.0) {
    K2L_ASSIGN_OR_RETURN(
        x, Conv(ctx, "conv1", "expand_conv", x, b.filters, 1, 1, "same"));
    K2L_ASSIGN_OR_RETURN(x, Norm(ctx, "bn1", "expand_bn", b, x));
    K2L_ASSIGN_OR_RETURN(x, Act(ctx, "act", "activation", b.activation, x));
  }
  K2L_ASSIGN_OR_RETURN(x, RunOne(ctx, "DepthwiseConv2D",
                                 DepthwiseConv2DConfig(b.kernel, b.stride,
                                                       "same"),
                                 "depthwise", ctx.name() + "dwconv2", x));
  K2L_ASSIGN_OR_RETURN(x, Norm(ctx, "bn2", "bn", b, x));
  K2L_ASSIGN_OR_RETURN(x, Act(ctx, "act", "activation", b.activation, x));
  K2L_ASSIGN_OR_RETURN(x, SqueezeExcite(ctx, b, x));
  const int64_t pk = b.expand != 1.0 ? 1 : b.kernel;
  K2L_ASSIGN_OR_RETURN(x,
                       Pad(ctx, "output_conv_pad", "project_conv_pad", pk, x));
  K2L_ASSIGN_OR_RETURN(
      x, Conv(ctx, "output_conv", "project_conv", x, b.out, pk, 1, "valid"));
  K2L_ASSIGN_OR_RETURN(x, Norm(ctx, "bn3", "project_bn", b, x));
  return Residual(ctx, b, x);
}

Result<std::vector<ValueId>> ConvertFusedMBConv(LayerContext& ctx) {
  K2L_RETURN_IF_ERROR(RequireOneInput(ctx));
  K2L_ASSIGN_OR_RETURN(Block b, ReadBlock(ctx, true, true));
  K2L_ASSIGN_OR_RETURN(b.projection_kernel,
                       ctx.IntOr("projection_kernel_size", 1));
  if (ctx.Has("projection_activation")) {
    b.projection_activation = ctx.config()["projection_activation"];
  }
  ValueId x = ctx.input();
  K2L_ASSIGN_OR_RETURN(x,
                       Pad(ctx, "conv1_pad", "expand_conv_pad", b.kernel, x));
  K2L_ASSIGN_OR_RETURN(x, Conv(ctx, "conv1", "expand_conv", x, b.filters,
                               b.kernel, b.stride, "valid"));
  K2L_ASSIGN_OR_RETURN(x, Norm(ctx, "bn1", "expand_bn", b, x));
  K2L_ASSIGN_OR_RETURN(x,
                       Act(ctx, "act", "expand_activation", b.activation, x));
  K2L_ASSIGN_OR_RETURN(x, SqueezeExcite(ctx, b, x));
  K2L_ASSIGN_OR_RETURN(x, Pad(ctx, "output_conv_pad", "project_conv_pad",
                              b.projection_kernel, x));
  K2L_ASSIGN_OR_RETURN(x, Conv(ctx, "output_conv", "project_conv", x, b.out,
                               b.projection_kernel, 1, "valid"));
  K2L_ASSIGN_OR_RETURN(x, Norm(ctx, "bn2", "project_bn", b, x));
  // Python truthiness: None and "" apply nothing.
  const json& pa = b.projection_activation;
  if (b.expand == 1.0 && !pa.is_null() && !(pa.is_string() && pa == "")) {
    K2L_ASSIGN_OR_RETURN(x,
                         Act(ctx, "projection_act", "projection_act", pa, x));
  }
  return Residual(ctx, b, x);
}

Result<std::vector<ValueId>> ConvertCBA(LayerContext& ctx) {
  K2L_RETURN_IF_ERROR(RequireOneInput(ctx));
  K2L_ASSIGN_OR_RETURN(Block b, ReadBlock(ctx, false, false));
  ValueId x = ctx.input();
  K2L_ASSIGN_OR_RETURN(x, Pad(ctx, "conv1_pad", "conv_pad", b.kernel, x));
  K2L_ASSIGN_OR_RETURN(
      x, Conv(ctx, "conv1", "conv", x, b.out, b.kernel, b.stride, "valid"));
  K2L_ASSIGN_OR_RETURN(x, Norm(ctx, "bn1", "bn", b, x));
  K2L_ASSIGN_OR_RETURN(x, Act(ctx, "act", "activation", b.activation, x));
  return Residual(ctx, b, x);
}

}  // namespace

Status RegisterHubEfficientNetLayers(Registry& r) {
  const std::string activations =
      "the activations must be ones the Activation layer lowers; " +
      std::string(kRefusesChannelsFirst);
  const std::string expanding =
      "input_filters * expand_ratio must be whole; " + activations;
  K2L_RETURN_IF_ERROR(r.Register(
      "keras_hub>MBConvBlock", ConvertMBConv,
      "CONV_2D, DEPTHWISE_CONV_2D, the activation, MEAN, MUL, LOGISTIC, ADD "
      "(batch norms folded)",
      expanding));
  K2L_RETURN_IF_ERROR(r.Register(
      "keras_hub>FusedMBConvBlock", ConvertFusedMBConv,
      "PAD, CONV_2D, the activation, MEAN, MUL, LOGISTIC, ADD (batch norms "
      "folded)",
      expanding));
  return r.Register("keras_hub>CBABlock", ConvertCBA,
                    "PAD, CONV_2D, the activation, ADD (batch norm folded)",
                    activations);
}

}  // namespace k2l::keras
