// Keras-Hub's SpatialPyramidPooling (DeepLabV3's atrous spatial pyramid
// pooling), channels last, lowered through the converters of its
// sublayers. Its branches are keras.Sequential models saved under
// aspp_parallel_channels/sequential[_k]: a 1x1 convolution, one dilated
// 3x3 convolution per rate, and global average pooling followed by a 1x1
// convolution (each with BatchNormalization and the activation); the
// pooled branch is resized back to the input's height and width (bilinear
// from one pixel: the pixel everywhere), the branches are concatenated,
// and the `projection` Sequential (1x1 convolution, BatchNormalization,
// activation, dropout) maps them to num_channels.
#include "frontend/keras/attention_lowering.h"
#include "frontend/keras/registry.h"
#include "frontend/keras/shared_lowering.h"
#include "frontend/keras/layer_configs.h"

namespace k2l::keras {

namespace {

using ir::OpKind;
using ir::ValueId;
using nlohmann::json;

json ConvConfig(const std::string& name, int64_t filters, int64_t kernel,
                int64_t dilation) {
  json c = Conv2DConfig(filters, kernel, 1, kernel == 1 ? "valid" : "same",
                        false, "linear", 1, dilation);
  c["name"] = name;
  return c;
}

// Conv2D, BatchNormalization and the activation of one Sequential branch
// saved under `seq` (e.g. {"aspp_parallel_channels", "sequential_1"}).
Result<ValueId> ConvBnAct(LayerContext& ctx, std::vector<std::string> seq,
                          const json& conv, const std::string& bn_name,
                          const std::string& act_name, const json& activation,
                          ValueId x) {
  auto at = [&](const std::string& group) {
    std::vector<std::string> a = seq;
    a.push_back("layers");
    a.push_back(group);
    return a;
  };
  K2L_ASSIGN_OR_RETURN(
      x, RunSublayer(ctx, "Conv2D", conv, at("conv2d"), conv["name"], x));
  K2L_ASSIGN_OR_RETURN(
      x, RunSublayer(ctx, "BatchNormalization",
                     BatchNormConfig(1e-3, 0.99),
                     at("batch_normalization"), bn_name, x));
  return RunSublayer(ctx, "Activation",
                     {{"name", act_name}, {"activation", activation}},
                     at("activation"), act_name, x);
}

Result<std::vector<ValueId>> ConvertSpatialPyramidPooling(LayerContext& ctx) {
  K2L_RETURN_IF_ERROR(RefuseQuantized(ctx));
  K2L_ASSIGN_OR_RETURN(auto rates, ctx.IntList("dilation_rates"));
  K2L_ASSIGN_OR_RETURN(int64_t channels, ctx.IntOr("num_channels", 256));
  const json activation = ctx.Has("activation") ? ctx.config()["activation"]
                                                : json("relu");
  const ValueId x = ctx.input();
  const ir::Shape s = ctx.shape(x);
  if (s.size() != 4 || s[1] == ir::kDynamic || s[2] == ir::kDynamic ||
      s[3] == ir::kDynamic) {
    return ctx.Invalid("its input has shape " + ir::ShapeToString(s) +
                           "; it takes a channels-last feature map of known "
                           "height, width and channels",
                       "Export at a fixed image size");
  }
  if (ctx.value(x).dtype != ir::DType::kFloat32) {
    return ctx.Invalid(
        "its input is " + std::string(ir::DTypeName(ctx.value(x).dtype)),
        "Feed it a float32 feature map");
  }
  std::vector<ValueId> branches;
  K2L_ASSIGN_OR_RETURN(
      ValueId b, ConvBnAct(ctx, {"aspp_parallel_channels", "sequential"},
                           ConvConfig("aspp_conv_1", channels, 1, 1),
                           "aspp_bn_1", "aspp_activation_1", activation, x));
  branches.push_back(b);
  for (size_t i = 0; i < rates.size(); ++i) {
    const std::string k = std::to_string(i + 2);
    K2L_ASSIGN_OR_RETURN(
        b, ConvBnAct(ctx,
                     {"aspp_parallel_channels",
                      "sequential_" + std::to_string(i + 1)},
                     ConvConfig("aspp_conv_" + k, channels, 3, rates[i]),
                     "aspp_bn_" + k, "aspp_activation_" + k, activation, x));
    branches.push_back(b);
  }
  // GlobalAveragePooling2D and Reshape((1, 1, C)): a mean kept as
  // [B, 1, 1, C].
  K2L_ASSIGN_OR_RETURN(
      ValueId pooled,
      ctx.Op(OpKind::kMean, {x, ctx.ConstInts({1, 2})}, ir::ReduceAttrs{true}));
  K2L_ASSIGN_OR_RETURN(
      pooled,
      ConvBnAct(ctx,
                {"aspp_parallel_channels",
                 "sequential_" + std::to_string(rates.size() + 1)},
                ConvConfig("conv_pooling", channels, 1, 1), "bn_pooling",
                "activation_pooling", activation, pooled));
  // Resizing a single pixel to [H, W] bilinearly repeats it.
  K2L_ASSIGN_OR_RETURN(
      pooled,
      ctx.Op(OpKind::kMul,
             {pooled, ctx.ConstFloats(std::vector<float>(s[1] * s[2], 1.0f),
                                      {1, s[1], s[2], 1})},
             ir::BinaryAttrs{}));
  branches.push_back(pooled);
  K2L_ASSIGN_OR_RETURN(
      ValueId cat, ctx.Op(OpKind::kConcatenation, branches,
                          ir::ConcatAttrs{3, ir::Activation::kNone}));
  K2L_ASSIGN_OR_RETURN(
      ValueId y, ConvBnAct(ctx, {"projection"},
                           ConvConfig("conv_projection", channels, 1, 1),
                           "bn_projection", "activation_projection",
                           activation, cat));
  return std::vector<ValueId>{y};
}

}  // namespace

Status RegisterHubDeepLabLayers(Registry& r) {
  return r.Register(
      "keras_hub>SpatialPyramidPooling", ConvertSpatialPyramidPooling,
      "as Conv2D (dilated), BatchNormalization, Activation, MEAN, MUL, "
      "CONCATENATION",
      "channels_first, a dynamic height or width, and quantized layers are "
      "refused");
}

}  // namespace k2l::keras
