// Keras-Hub's RetinaNet layers, channels last, lowered through the
// converters of their sublayers:
//  - FeaturePyramid: a 1x1 lateral convolution per backbone level, merged
//    top-down with the nearest-upsampled coarser level (and, with
//    use_batch_norm, normalized), a 3x3 output convolution per level, and
//    coarser levels made by stride-2 3x3 convolutions (the first on the
//    backbone's last level or its pyramid output, the next ones after the
//    activation). Its sublayers are saved in dicts, counted per class:
//    lateral_conv_layers/conv2d, .../conv2d_1, ...
//  - PredictionHead: num_conv_layers 3x3 convolutions, each followed by
//    GroupNormalization (32 groups, with use_group_norm) and the
//    activation, then the 3x3 `prediction_layer`.
#include "frontend/keras/attention_lowering.h"
#include "frontend/keras/layer_configs.h"
#include "frontend/keras/model_lowering.h"
#include "frontend/keras/registry.h"
#include "frontend/keras/shared_lowering.h"

namespace k2l::keras {

namespace {

using ir::OpKind;
using ir::ValueId;
using nlohmann::json;

json Conv(const std::string& name, int64_t filters, int64_t kernel,
          int64_t stride, bool bias) {
  json c = Conv2DConfig(filters, kernel, stride, "same", bias);
  c["name"] = name;
  return c;
}

Status RequireFeatureMap(LayerContext& ctx, ValueId x,
                         const std::string& what) {
  const ir::Shape s = ctx.shape(x);
  if (s.size() != 4 || s[1] == ir::kDynamic || s[2] == ir::kDynamic ||
      s[3] == ir::kDynamic) {
    return ctx.Invalid(what + " has shape " + ir::ShapeToString(s) +
                           "; it takes channels-last feature maps of known "
                           "height, width and channels",
                       "Export at a fixed image size");
  }
  if (ctx.value(x).dtype != ir::DType::kFloat32) {
    return ctx.Invalid(
        what + " is " + std::string(ir::DTypeName(ctx.value(x).dtype)),
        "Feed it float32 feature maps");
  }
  return Status::Ok();
}

Result<std::vector<ValueId>> ConvertFeaturePyramid(LayerContext& ctx) {
  K2L_RETURN_IF_ERROR(RefuseQuantized(ctx));
  K2L_RETURN_IF_ERROR(ctx.RequireChannelsLast("its convolutions"));
  K2L_ASSIGN_OR_RETURN(int64_t min_level, ctx.Int("min_level"));
  K2L_ASSIGN_OR_RETURN(int64_t max_level, ctx.Int("max_level"));
  K2L_ASSIGN_OR_RETURN(bool use_p5, ctx.BoolOr("use_p5", false));
  K2L_ASSIGN_OR_RETURN(int64_t filters, ctx.IntOr("num_filters", 256));
  K2L_ASSIGN_OR_RETURN(bool use_bn, ctx.BoolOr("use_batch_norm", false));
  K2L_ASSIGN_OR_RETURN(double epsilon, ctx.FloatOr("batch_norm_epsilon", 1e-3));
  const json activation =
      ctx.Has("activation") ? ctx.config()["activation"] : json("relu");
  const size_t n = ctx.num_inputs();
  if (min_level < 1 || max_level < min_level || n == 0 ||
      static_cast<int64_t>(n) > max_level - min_level + 1 || filters < 1) {
    return ctx.Invalid(
        "it has min_level " + std::to_string(min_level) + ", max_level " +
            std::to_string(max_level) + ", num_filters " +
            std::to_string(filters) + " and " + std::to_string(n) +
            " input levels; it takes the levels P<min_level> upwards, at "
            "most up to P<max_level>",
        "Save the model again with Keras-Hub");
  }
  // Inputs are the backbone levels P<min_level> ... P<top>.
  const int64_t top = min_level + static_cast<int64_t>(n) - 1;
  for (size_t k = 0; k < n; ++k) {
    const std::string what = "its input P" + std::to_string(min_level + k);
    K2L_RETURN_IF_ERROR(RequireFeatureMap(ctx, ctx.input(k), what));
    if (k == 0) continue;
    const ir::Shape fine = ctx.shape(ctx.input(k - 1));
    const ir::Shape coarse = ctx.shape(ctx.input(k));
    if (fine[1] != 2 * coarse[1] || fine[2] != 2 * coarse[2]) {
      return ctx.Invalid(
          what + " is " + std::to_string(coarse[1]) + "x" +
              std::to_string(coarse[2]) + " and the level below it " +
              std::to_string(fine[1]) + "x" + std::to_string(fine[2]) +
              ": the top-down path upsamples each level by 2 and adds it to "
              "the one below, so each must be twice the next",
          "Use an image size that is a multiple of " +
              std::to_string(int64_t{1} << top));
    }
  }
  auto bn = [&](const std::string& group, size_t k, const std::string& name,
                ValueId x) {
    return RunSublayer(
        ctx, "BatchNormalization", BatchNormConfig(epsilon, epsilon),
        {group, ContainerItemName("BatchNormalization", k)}, name, x);
  };

  std::vector<ValueId> out(static_cast<size_t>(max_level - min_level + 1));
  // Top-down: lateral 1x1 convolutions, the coarser level upsampled and
  // added, then the optional lateral BatchNormalization.
  for (size_t k = n; k-- > 0;) {
    const std::string level = "P" + std::to_string(min_level + k);
    const std::string name = "lateral_conv_" + level;
    K2L_ASSIGN_OR_RETURN(
        ValueId x,
        RunSublayer(ctx, "Conv2D", Conv(name, filters, 1, 1, true),
                    {"lateral_conv_layers", ContainerItemName("Conv2D", k)},
                    name, ctx.input(k)));
    if (k + 1 < n) {
      K2L_ASSIGN_OR_RETURN(
          ValueId up, RunSublayer(ctx, "UpSampling2D",
                                  {{"name", "upsampling"},
                                   {"size", {2, 2}},
                                   {"interpolation", "nearest"},
                                   {"data_format", "channels_last"}},
                                  {"top_down_op"}, "upsampling", out[k + 1]));
      K2L_ASSIGN_OR_RETURN(x, ctx.Op(OpKind::kAdd, {x, up}, ir::BinaryAttrs{}));
    }
    if (use_bn) {
      K2L_ASSIGN_OR_RETURN(
          x, bn("lateral_batch_norm_layers", k, "lateral_norm_" + level, x));
    }
    out[k] = x;
  }
  for (size_t k = 0; k < n; ++k) {
    const std::string name = "output_conv_P" + std::to_string(min_level + k);
    K2L_ASSIGN_OR_RETURN(
        out[k],
        RunSublayer(ctx, "Conv2D", Conv(name, filters, 3, 1, true),
                    {"output_conv_layers", ContainerItemName("Conv2D", k)},
                    name, out[k]));
  }
  // Coarser levels: stride-2 convolutions, then the optional output norm.
  for (size_t k = n; k < out.size(); ++k) {
    const std::string level = "P" + std::to_string(min_level + k);
    ValueId x = k == n && use_p5 ? ctx.input(n - 1) : out[k - 1];
    if (k > n) {
      K2L_ASSIGN_OR_RETURN(
          x, RunSublayer(ctx, "Activation",
                         {{"name", "activation"}, {"activation", activation}},
                         {"activation"}, "activation", x));
    }
    const std::string name = "coarser_" + level;
    K2L_ASSIGN_OR_RETURN(
        x, RunSublayer(ctx, "Conv2D", Conv(name, filters, 3, 2, true),
                       {"output_conv_layers", ContainerItemName("Conv2D", k)},
                       name, x));
    if (use_bn) {
      K2L_ASSIGN_OR_RETURN(
          x, bn("output_batch_norms", k, "output_norm_" + level, x));
    }
    out[k] = x;
  }
  return out;
}

Result<std::vector<ValueId>> ConvertPredictionHead(LayerContext& ctx) {
  K2L_RETURN_IF_ERROR(RefuseQuantized(ctx));
  K2L_RETURN_IF_ERROR(ctx.RequireChannelsLast("its convolutions"));
  K2L_ASSIGN_OR_RETURN(int64_t out_filters, ctx.Int("output_filters"));
  K2L_ASSIGN_OR_RETURN(int64_t filters, ctx.Int("num_filters"));
  K2L_ASSIGN_OR_RETURN(int64_t convs, ctx.Int("num_conv_layers"));
  K2L_ASSIGN_OR_RETURN(bool group_norm, ctx.BoolOr("use_group_norm", false));
  const json activation =
      ctx.Has("activation") ? ctx.config()["activation"] : json("relu");
  if (out_filters < 1 || filters < 1 || convs < 0 ||
      (group_norm && filters % 32 != 0)) {
    return ctx.Invalid(
        "it has output_filters " + std::to_string(out_filters) +
            ", num_filters " + std::to_string(filters) +
            " and num_conv_layers " + std::to_string(convs) +
            "; the filters must be positive (a multiple of 32 with "
            "use_group_norm) and the layer count not negative",
        "Save the model again with Keras-Hub");
  }
  ValueId x = ctx.input();
  K2L_RETURN_IF_ERROR(RequireFeatureMap(ctx, x, "its input"));
  for (int64_t i = 0; i < convs; ++i) {
    const size_t k = static_cast<size_t>(i);
    const std::string name = "conv2d_" + std::to_string(i);
    K2L_ASSIGN_OR_RETURN(
        x,
        RunSublayer(ctx, "Conv2D", Conv(name, filters, 3, 1, !group_norm),
                    {"conv_layers", ContainerItemName("Conv2D", k)}, name, x));
    if (group_norm) {
      const std::string gn = "group_norm_" + std::to_string(i);
      K2L_ASSIGN_OR_RETURN(
          x, RunSublayer(ctx, "GroupNormalization",
                         {{"name", gn},
                          {"groups", 32},
                          {"axis", -1},
                          {"epsilon", 1e-3},
                          {"center", true},
                          {"scale", true}},
                         {"group_norm_layers",
                          ContainerItemName("GroupNormalization", k)},
                         gn, x));
    }
    K2L_ASSIGN_OR_RETURN(
        x, RunSublayer(ctx, "Activation",
                       {{"name", "activation"}, {"activation", activation}},
                       {"activation"}, "activation", x));
  }
  K2L_ASSIGN_OR_RETURN(
      x,
      RunSublayer(ctx, "Conv2D", Conv("logits_layer", out_filters, 3, 1, true),
                  {"prediction_layer"}, "logits_layer", x));
  return std::vector<ValueId>{x};
}

}  // namespace

Status RegisterHubRetinaNetLayers(Registry& r) {
  K2L_RETURN_IF_ERROR(r.Register(
      "keras_hub>FeaturePyramid", ConvertFeaturePyramid,
      "as Conv2D, UpSampling2D (nearest), ADD, BatchNormalization, Activation",
      "channels_first, a dynamic height or width, levels that are not twice "
      "the next, and quantized layers are refused"));
  return r.Register(
      "keras_hub>PredictionHead", ConvertPredictionHead,
      "as Conv2D, GroupNormalization, Activation",
      "channels_first, a dynamic height or width, and quantized layers are "
      "refused");
}

}  // namespace k2l::keras
