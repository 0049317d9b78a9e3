// Keras-Hub's MobileNet blocks (keras_hub.models.MobileNetBackbone):
// DepthwiseConvBlock, InvertedResidualBlock and ConvBnActBlock, with the
// squeeze-and-excite (SqueezeAndExcite2D) the first two may hold. Each is
// lowered through the converters of its sublayers (ZeroPadding2D, Conv2D,
// BatchNormalization, Activation, ReLU), whose weights are saved under the
// block's attributes (conv1, batch_normalization1, squeeze_excite/
// conv_reduce, ...) and whose recorded names are the block's name plus
// keras-hub's suffixes (_conv1, _bn1, _se_conv_reduce, ...).
//
// As keras-hub builds them, channels last:
//  - DepthwiseConvBlock: pad 1, a depthwise conv (Conv2D with one group per
//    channel, no bias), BatchNormalization, ReLU, the optional
//    squeeze-and-excite, a 1x1 conv, BatchNormalization, and the input added
//    back when `residual`;
//  - InvertedResidualBlock: a 1x1 conv to adjust_channels(expansion)
//    channels, BatchNormalization, the activation, pad `padding`, the
//    depthwise conv, BatchNormalization, the activation, the optional
//    squeeze-and-excite, a 1x1 conv, BatchNormalization, and the input added
//    back when the stride is 1 and infilters == filters;
//  - ConvBnActBlock: a 1x1 conv, BatchNormalization, the activation;
//  - squeeze-and-excite: the spatial mean (kept as 1x1), a 1x1 conv with
//    bias to adjust_channels(channels * ratio), relu, a 1x1 conv with bias
//    back, hard_sigmoid, times the input. A ratio of 0 or None has none.
// Every BatchNormalization has keras-hub's epsilon 1e-5.
#include <memory>

#include "frontend/keras/mobilenet_channels.h"
#include "frontend/keras/registry.h"
#include "frontend/keras/layer_configs.h"

namespace k2l::keras {

namespace {

using ir::OpKind;
using ir::ValueId;
using nlohmann::json;

constexpr double kBnEpsilon = 1e-5;
constexpr double kBnMomentum = 0.9;

class Block {
 public:
  explicit Block(LayerContext& ctx)
      : ctx_(ctx),
        base_(ctx.config().value("name", json()).is_string()
                  ? ctx.config()["name"].get<std::string>()
                  : ctx.name()) {}

  // Runs the registered converter of `cls` on `x` as the sublayer saved
  // under the attribute path `attrs`, recorded as base + `suffix` (an
  // empty suffix: an unnamed sublayer, whose name is not checked).
  Result<ValueId> Run(const char* cls, json config,
                      const std::vector<std::string>& attrs,
                      const std::string& suffix, ValueId x) {
    const LayerInfo* info = DefaultRegistry().Find(cls);
    if (info == nullptr) {
      return Status::Internal(std::string("no converter for ") + cls);
    }
    std::string path;
    for (const std::string& a : attrs) path += "/" + a;
    const std::string saved = suffix.empty() ? "" : base_ + suffix;
    if (!saved.empty()) config["name"] = saved;
    configs_.push_back(std::make_unique<json>(std::move(config)));
    static const json kNoArgs = json::array();
    static const json kNoKwargs = json::object();
    LayerContext sub = ctx_.Sublayer(*configs_.back(), cls, ctx_.name() + path,
                                     {x}, attrs, kNoArgs, kNoKwargs, {}, saved);
    auto outs = info->convert(sub);
    if (!outs.ok()) return outs.status().WithContext(ctx_.Describe());
    return outs->at(0);
  }

  Result<ValueId> Conv(const std::vector<std::string>& attrs,
                       const std::string& suffix, ValueId x, int64_t filters,
                       const json& kernel, const json& stride, int64_t groups,
                       bool bias) {
    return Run("Conv2D",
               Conv2DConfig(filters, kernel, stride, "valid", bias, "linear",
                            groups),
               attrs, suffix, x);
  }
  Result<ValueId> BatchNorm(const std::string& attr, const std::string& suffix,
                            ValueId x) {
    return Run("BatchNormalization", BatchNormConfig(kBnEpsilon, kBnMomentum),
               {attr}, suffix, x);
  }
  Result<ValueId> Activation(const std::vector<std::string>& attrs,
                             const json& activation, ValueId x) {
    return Run("Activation", {{"activation", activation}}, attrs, "", x);
  }
  Result<ValueId> Pad(const std::string& suffix, const json& padding,
                      ValueId x) {
    return Run("ZeroPadding2D",
               {{"padding", {{padding, padding}, {padding, padding}}},
                {"data_format", "channels_last"}},
               {"pad"}, suffix, x);
  }

  // SqueezeAndExcite2D saved under `attr`, recorded as base + `suffix`.
  Result<ValueId> SqueezeExcite(const std::string& attr,
                                const std::string& suffix, ValueId x,
                                int64_t filters, double ratio) {
    const int64_t bottleneck =
        MobileNetChannels(static_cast<double>(filters) * ratio);
    K2L_ASSIGN_OR_RETURN(
        ValueId s, ctx_.Op(OpKind::kMean, {x, ctx_.ConstInts({1, 2})},
                           ir::ReduceAttrs{true}));
    K2L_ASSIGN_OR_RETURN(s, Conv({attr, "conv_reduce"}, suffix + "_conv_reduce",
                                 s, bottleneck, 1, 1, 1, true));
    K2L_ASSIGN_OR_RETURN(s, Activation({attr, "activation1"}, "relu", s));
    K2L_ASSIGN_OR_RETURN(s, Conv({attr, "conv_expand"}, suffix + "_conv_expand",
                                 s, filters, 1, 1, 1, true));
    K2L_ASSIGN_OR_RETURN(s, Activation({attr, "gate"}, "hard_sigmoid", s));
    return Mul(x, s);
  }

  Result<ValueId> Mul(ValueId a, ValueId b) {
    return ctx_.Op(OpKind::kMul, {a, b}, ir::BinaryAttrs{});
  }
  Result<ValueId> Add(ValueId a, ValueId b) {
    return ctx_.Op(OpKind::kAdd, {a, b}, ir::BinaryAttrs{});
  }

 private:
  LayerContext& ctx_;
  std::string base_;
  // The sublayers' configs, alive while their contexts convert.
  std::vector<std::unique_ptr<json>> configs_;
};

// The block's one input: [batch, height, width, channels], channels known.
Result<ValueId> BlockInput(LayerContext& ctx) {
  const ir::Shape s =
      ctx.num_inputs() == 1 ? ctx.shape(ctx.input()) : ir::Shape{};
  if (ctx.num_inputs() != 1 || s.size() != 4 || s[3] == ir::kDynamic) {
    return ctx.Invalid(
        "its input has shape " +
            (ctx.num_inputs() == 1 ? ir::ShapeToString(s)
                                   : std::to_string(ctx.num_inputs()) +
                                         " tensors") +
            "; it takes one [batch, height, width, channels] feature map "
            "with the channels known",
        "Call it on a channels-last feature map");
  }
  return ctx.input();
}

// A squeeze-and-excite ratio: None, or a number (0 for none).
Result<double> SeRatio(LayerContext& ctx) {
  const json& r = ctx.config().value("squeeze_excite_ratio", json());
  if (r.is_null()) return 0.0;
  if (!r.is_number()) {
    return ctx.Invalid("squeeze_excite_ratio is " + r.dump() +
                           ", not a number or None",
                       "The config is corrupt; re-save the model");
  }
  return r.get<double>();
}

Result<std::vector<ValueId>> ConvertDepthwiseConvBlock(LayerContext& ctx) {
  K2L_ASSIGN_OR_RETURN(ValueId in, BlockInput(ctx));
  K2L_ASSIGN_OR_RETURN(int64_t infilters, ctx.Int("infilters"));
  K2L_ASSIGN_OR_RETURN(int64_t filters, ctx.Int("filters"));
  K2L_ASSIGN_OR_RETURN(double ratio, SeRatio(ctx));
  K2L_ASSIGN_OR_RETURN(bool residual, ctx.BoolOr("residual", false));
  const json kernel = ctx.config().value("kernel_size", json(3));
  const json stride = ctx.config().value("stride", json(2));
  Block b(ctx);
  K2L_ASSIGN_OR_RETURN(ValueId x, b.Pad("_pad", 1, in));
  K2L_ASSIGN_OR_RETURN(x, b.Conv({"conv1"}, "_conv1", x, infilters, kernel,
                                 stride, infilters, false));
  K2L_ASSIGN_OR_RETURN(x, b.BatchNorm("batch_normalization1", "_bn1", x));
  K2L_ASSIGN_OR_RETURN(x, b.Run("ReLU", ReluConfig(), {"activation1"}, "", x));
  if (ratio != 0.0) {
    K2L_ASSIGN_OR_RETURN(
        x, b.SqueezeExcite("se_layer", "_squeeze_excite", x, infilters, ratio));
  }
  K2L_ASSIGN_OR_RETURN(
      x, b.Conv({"conv2"}, "_conv2", x, filters, 1, 1, 1, false));
  K2L_ASSIGN_OR_RETURN(x, b.BatchNorm("batch_normalization2", "_bn2", x));
  if (residual) {
    if (ctx.shape(x) != ctx.shape(in)) {
      return ctx.Invalid(
          "residual is true, but the block maps " +
              ir::ShapeToString(ctx.shape(in)) + " to " +
              ir::ShapeToString(ctx.shape(x)),
          "A residual block needs stride 1 and filters equal to its input "
          "channels; the config is corrupt, re-save the model");
    }
    K2L_ASSIGN_OR_RETURN(x, b.Add(x, in));
  }
  return std::vector<ValueId>{x};
}

Result<std::vector<ValueId>> ConvertInvertedResidualBlock(LayerContext& ctx) {
  K2L_ASSIGN_OR_RETURN(ValueId in, BlockInput(ctx));
  K2L_ASSIGN_OR_RETURN(int64_t expansion, ctx.Int("expansion"));
  K2L_ASSIGN_OR_RETURN(int64_t infilters, ctx.Int("infilters"));
  K2L_ASSIGN_OR_RETURN(int64_t filters, ctx.Int("filters"));
  K2L_ASSIGN_OR_RETURN(double ratio, SeRatio(ctx));
  for (const char* key : {"kernel_size", "stride", "padding", "activation"}) {
    if (!ctx.Has(key)) {
      return ctx.Invalid(std::string("its config has no ") + key,
                         "The config is corrupt; re-save the model");
    }
  }
  const json& kernel = ctx.config()["kernel_size"];
  const json& stride = ctx.config()["stride"];
  const json& padding = ctx.config()["padding"];
  const json& activation = ctx.config()["activation"];
  const int64_t expanded = MobileNetChannels(static_cast<double>(expansion));
  Block b(ctx);
  K2L_ASSIGN_OR_RETURN(ValueId x, b.Conv({"conv1"}, "_conv1", in, expanded, 1,
                                         1, 1, false));
  K2L_ASSIGN_OR_RETURN(x, b.BatchNorm("batch_normalization1", "_bn1", x));
  K2L_ASSIGN_OR_RETURN(x, b.Activation({"activation1"}, activation, x));
  K2L_ASSIGN_OR_RETURN(x, b.Pad("_pad", padding, x));
  K2L_ASSIGN_OR_RETURN(x, b.Conv({"conv2"}, "_conv2", x, expanded, kernel,
                                 stride, expanded, false));
  K2L_ASSIGN_OR_RETURN(x, b.BatchNorm("batch_normalization2", "_bn2", x));
  K2L_ASSIGN_OR_RETURN(x, b.Activation({"activation2"}, activation, x));
  if (ratio != 0.0) {
    K2L_ASSIGN_OR_RETURN(
        x, b.SqueezeExcite("squeeze_excite", "_se", x, expanded, ratio));
  }
  K2L_ASSIGN_OR_RETURN(
      x, b.Conv({"conv3"}, "_conv3", x, filters, 1, 1, 1, false));
  K2L_ASSIGN_OR_RETURN(x, b.BatchNorm("batch_normalization3", "_bn3", x));
  // keras-hub adds the input back when `stride == 1` (an int stride of 1;
  // a list never equals 1) and infilters == filters.
  if (stride.is_number_integer() && stride.get<int64_t>() == 1 &&
      infilters == filters) {
    K2L_ASSIGN_OR_RETURN(x, b.Add(in, x));
  }
  return std::vector<ValueId>{x};
}

Result<std::vector<ValueId>> ConvertConvBnActBlock(LayerContext& ctx) {
  K2L_ASSIGN_OR_RETURN(ValueId in, BlockInput(ctx));
  K2L_ASSIGN_OR_RETURN(int64_t filters, ctx.Int("filter"));
  if (!ctx.Has("activation")) {
    return ctx.Invalid("its config has no activation",
                       "The config is corrupt; re-save the model");
  }
  Block b(ctx);
  K2L_ASSIGN_OR_RETURN(ValueId x,
                       b.Conv({"conv"}, "_conv", in, filters, 1, 1, 1, false));
  K2L_ASSIGN_OR_RETURN(x, b.BatchNorm("batch_normalization", "_bn", x));
  K2L_ASSIGN_OR_RETURN(
      x, b.Activation({"activation_layer"}, ctx.config()["activation"], x));
  return std::vector<ValueId>{x};
}

}  // namespace

Status RegisterHubMobileNetLayers(Registry& r) {
  // keras-hub does not register these classes with Keras, which saves
  // their registered_name as the bare class name; they are looked up by
  // their keras_hub module under the keras_hub> key, so a user's own class
  // of the same name is not taken for them.
  const char* ops =
      "PAD, CONV_2D, DEPTHWISE_CONV_2D, ADD, and the activations' ops (RELU, "
      "HARD_SWISH, ...); MEAN, RELU6, DIV and MUL for squeeze-and-excite; "
      "batch norms fold into the convolutions";
  K2L_RETURN_IF_ERROR(r.Register("keras_hub>DepthwiseConvBlock",
                                 ConvertDepthwiseConvBlock, ops));
  K2L_RETURN_IF_ERROR(r.Register("keras_hub>InvertedResidualBlock",
                                 ConvertInvertedResidualBlock, ops));
  K2L_RETURN_IF_ERROR(
      r.Register("keras_hub>ConvBnActBlock", ConvertConvBnActBlock,
                 "CONV_2D and the activation's ops; the batch norm folds "
                 "into the convolution"));
  return Status::Ok();
}

}  // namespace k2l::keras
