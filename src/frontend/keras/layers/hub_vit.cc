// Keras-Hub's ViT layers (keras_hub.src.models.vit.vit_layers), as
// keras-hub 0.32 computes them, channels last:
//
//  - ViTPatchingAndEmbedding: a Conv2D of kernel = stride = patch_size
//    (`patch_embedding`), reshaped to [batch, patches, hidden], the learned
//    class token (the layer's own variable, [1, 1, hidden]) broadcast over
//    the batch and put first, plus the learned position table
//    (`position_embedding`, an Embedding of num_positions rows looked up at
//    0..num_positions-1, so the table itself). The table fixes the patch
//    grid, so the image size is the config's image_size.
//  - MLP: Dense(mlp_dim, gelu) then Dense(hidden_dim) (`dense_1`,
//    `dense_2`); its dropout is an identity at inference.
//  - ViTEncoderBlock: pre-norm x + mha(ln_1(x), ln_1(x)), then
//    x + mlp(ln_2(x)) (`layer_norm_1`, `mha`, `layer_norm_2`, `mlp`).
//  - ViTEncoder: num_layers blocks (saved in the list `encoder_layers`)
//    and a final LayerNormalization (`layer_norm`).
//
// keras-hub does not register these classes with Keras: files save their
// bare class name with a keras_hub module, and they are looked up as
// "keras_hub><Class>" (see model_lowering.cc).
#include "frontend/keras/attention_lowering.h"
#include "frontend/keras/model_lowering.h"
#include "frontend/keras/registry.h"
#include "frontend/keras/shared_lowering.h"
#include "frontend/keras/layer_configs.h"

namespace k2l::keras {

namespace {

using ir::OpKind;
using ir::ValueId;
using nlohmann::json;

// Runs the registered converter of `cls` on a sublayer named `keras_name`,
// saved under the attribute path `attrs`, on `x`.
Result<ValueId> RunSub(LayerContext& ctx, const char* cls, json config,
                       const std::vector<std::string>& attrs,
                       const std::string& keras_name, ValueId x,
                       LayerConverter convert = nullptr) {
  if (convert == nullptr) {
    const LayerInfo* info = DefaultRegistry().Find(cls);
    if (info == nullptr) {
      return Status::Internal(std::string("no converter for ") + cls);
    }
    convert = info->convert;
  }
  config["name"] = keras_name;
  static const json kNoArgs = json::array();
  static const json kNoKwargs = json::object();
  LayerContext sub = ctx.Sublayer(config, cls, ctx.name() + "/" + keras_name,
                                  {x}, attrs, kNoArgs, kNoKwargs, {},
                                  keras_name);
  auto outs = convert(sub);
  if (!outs.ok()) return outs.status().WithContext(ctx.Describe());
  return outs.value().at(0);
}

Result<ValueId> Add(LayerContext& ctx, ValueId a, ValueId b) {
  return ctx.Op(OpKind::kAdd, {a, b}, ir::BinaryAttrs{});
}

// A float32 [batch, sequence, hidden] input, with `hidden` features when
// given (> 0); returns its feature count.
Result<int64_t> RequireSequence(LayerContext& ctx, ValueId x, int64_t hidden) {
  const ir::Shape s = ctx.shape(x);
  if (s.size() != 3 || s[2] == ir::kDynamic ||
      ctx.value(x).dtype != ir::DType::kFloat32 ||
      (hidden > 0 && s[2] != hidden)) {
    return ctx.Invalid(
        "its input is " + std::string(ir::DTypeName(ctx.value(x).dtype)) +
            ir::ShapeToString(s) + "; it takes float32 [batch, sequence, " +
            (hidden > 0 ? std::to_string(hidden) : std::string("features")) +
            "]",
        "Feed it the patch embeddings of the ViT it belongs to");
  }
  return s[2];
}

Result<std::vector<ValueId>> ConvertViTPatchingAndEmbedding(LayerContext& ctx) {
  K2L_RETURN_IF_ERROR(RefuseQuantized(ctx));
  K2L_RETURN_IF_ERROR(ctx.RequireChannelsLast("patch embeddings"));
  K2L_ASSIGN_OR_RETURN(auto image, ctx.Ints("image_size", 2));
  K2L_ASSIGN_OR_RETURN(auto patch, ctx.Ints("patch_size", 2));
  K2L_ASSIGN_OR_RETURN(int64_t hidden, ctx.Int("hidden_dim"));
  K2L_ASSIGN_OR_RETURN(int64_t channels, ctx.IntOr("num_channels", 3));
  K2L_ASSIGN_OR_RETURN(bool class_token, ctx.BoolOr("use_class_token", true));
  if (patch[0] < 1 || patch[1] < 1 || hidden < 1 || image[0] < patch[0] ||
      image[1] < patch[1]) {
    return ctx.Invalid("its image_size " + std::to_string(image[0]) + "x" +
                           std::to_string(image[1]) + ", patch_size " +
                           std::to_string(patch[0]) + "x" +
                           std::to_string(patch[1]) + " and hidden_dim " +
                           std::to_string(hidden) + " make no patch grid",
                       "The config is corrupt; re-save the model");
  }
  const int64_t gh = image[0] / patch[0], gw = image[1] / patch[1];
  const int64_t patches = gh * gw;
  const int64_t positions = patches + (class_token ? 1 : 0);
  const ValueId x = ctx.input();
  const ir::Shape s = ctx.shape(x);
  if (s.size() != 4 || ctx.value(x).dtype != ir::DType::kFloat32 ||
      s[3] != channels) {
    return ctx.Invalid(
        "its input is " + std::string(ir::DTypeName(ctx.value(x).dtype)) +
            ir::ShapeToString(s) + "; it takes float32 images [batch, " +
            std::to_string(image[0]) + ", " + std::to_string(image[1]) +
            ", " + std::to_string(channels) + "]",
        "Feed it channels-last images of its image_size and num_channels");
  }
  if (s[1] == ir::kDynamic || s[2] == ir::kDynamic ||
      s[1] / patch[0] != gh || s[2] / patch[1] != gw) {
    return ctx.Invalid(
        "its input images are " + ir::ShapeToString(s) +
            ", which do not give the " + std::to_string(gh) + "x" +
            std::to_string(gw) + " patch grid (image_size " +
            std::to_string(image[0]) + "x" + std::to_string(image[1]) +
            ", patch_size " + std::to_string(patch[0]) + "x" +
            std::to_string(patch[1]) + ") its " + std::to_string(positions) +
            " position embeddings hold",
        "Feed it images of " + std::to_string(image[0]) + "x" +
            std::to_string(image[1]));
  }

  // The patch convolution: kernel and bias, or the kernel alone
  // (use_patch_bias=False, which the layer's config does not record).
  bool bias = true;
  if (ctx.Has("use_patch_bias")) {
    K2L_ASSIGN_OR_RETURN(bias, ctx.Bool("use_patch_bias"));
  } else {
    auto two = ctx.SubWeights({"patch_embedding"}, {"kernel", "bias"}, 0);
    bias = two.ok();
  }
  const json patch_hw = {patch[0], patch[1]};
  const json conv = Conv2DConfig(hidden, patch_hw, patch_hw, "valid", bias);
  K2L_ASSIGN_OR_RETURN(ValueId y, RunSub(ctx, "Conv2D", conv,
                                         {"patch_embedding"},
                                         "patch_embedding", x));
  K2L_ASSIGN_OR_RETURN(
      y, ctx.Op(OpKind::kReshape,
                {y, ctx.ConstInts({-1, static_cast<int32_t>(patches),
                                   static_cast<int32_t>(hidden)})}));
  if (class_token) {
    K2L_ASSIGN_OR_RETURN(auto w, ctx.Weights({"class_token"}));
    K2L_RETURN_IF_ERROR(
        ctx.ExpectWeightShape(w[0], "class token", {1, 1, hidden}));
    const ValueId token = ctx.Const(std::move(w[0]), "class_token");
    // ops.tile(class_token, (batch, 1, 1)): the batch is known at run time.
    K2L_ASSIGN_OR_RETURN(ValueId batch, RuntimeDims(ctx, y, 0, 1));
    K2L_ASSIGN_OR_RETURN(
        ValueId shape,
        ctx.Op(OpKind::kConcatenation,
               {batch, ctx.ConstInts({1, static_cast<int32_t>(hidden)})},
               ir::ConcatAttrs{0}));
    K2L_ASSIGN_OR_RETURN(ValueId tokens,
                         ctx.Op(OpKind::kBroadcastTo, {token, shape}));
    K2L_ASSIGN_OR_RETURN(y, ctx.Op(OpKind::kConcatenation, {tokens, y},
                                   ir::ConcatAttrs{1}));
  }
  K2L_ASSIGN_OR_RETURN(
      auto pos, ctx.SubWeights({"position_embedding"}, {"embeddings"}, 0));
  K2L_RETURN_IF_ERROR(
      ctx.ExpectWeightShape(pos[0], "position table", {positions, hidden}));
  // [positions, hidden] broadcasts over the batch.
  const ValueId table = ctx.Const(std::move(pos[0]), "position_embedding");
  K2L_ASSIGN_OR_RETURN(y, Add(ctx, y, table));
  return std::vector<ValueId>{y};
}

json LayerNorm(double epsilon) {
  return {{"axis", -1},     {"epsilon", epsilon}, {"center", true},
          {"scale", true},  {"rms_scaling", false}};
}

Result<ValueId> LowerMlp(LayerContext& ctx, ValueId x, int64_t hidden,
                         int64_t mlp_dim, bool bias) {
  const json d1 = {{"units", mlp_dim}, {"activation", "gelu"},
                   {"use_bias", bias}};
  const json d2 = {{"units", hidden}, {"activation", "linear"},
                   {"use_bias", bias}};
  K2L_ASSIGN_OR_RETURN(x, RunSub(ctx, "Dense", d1, {"dense_1"}, "dense_1", x));
  return RunSub(ctx, "Dense", d2, {"dense_2"}, "dense_2", x);
}

Result<std::vector<ValueId>> ConvertViTMlp(LayerContext& ctx) {
  K2L_RETURN_IF_ERROR(RefuseQuantized(ctx));
  K2L_ASSIGN_OR_RETURN(int64_t hidden, ctx.Int("hidden_dim"));
  K2L_ASSIGN_OR_RETURN(int64_t mlp_dim, ctx.Int("mlp_dim"));
  K2L_ASSIGN_OR_RETURN(bool bias, ctx.BoolOr("use_bias", true));
  const ValueId x = ctx.input();
  K2L_ASSIGN_OR_RETURN(ValueId y, LowerMlp(ctx, x, hidden, mlp_dim, bias));
  return std::vector<ValueId>{y};
}

struct BlockConfig {
  int64_t heads = 0, hidden = 0, mlp_dim = 0;
  bool mha_bias = true, mlp_bias = true;
  double attention_dropout = 0.0, epsilon = 1e-6;
};

Result<BlockConfig> ReadBlock(LayerContext& ctx) {
  BlockConfig c;
  K2L_RETURN_IF_ERROR(RefuseQuantized(ctx));
  K2L_ASSIGN_OR_RETURN(c.heads, ctx.Int("num_heads"));
  K2L_ASSIGN_OR_RETURN(c.hidden, ctx.Int("hidden_dim"));
  K2L_ASSIGN_OR_RETURN(c.mlp_dim, ctx.Int("mlp_dim"));
  K2L_ASSIGN_OR_RETURN(c.mha_bias, ctx.BoolOr("use_mha_bias", true));
  K2L_ASSIGN_OR_RETURN(c.mlp_bias, ctx.BoolOr("use_mlp_bias", true));
  K2L_ASSIGN_OR_RETURN(c.attention_dropout,
                       ctx.FloatOr("attention_dropout", 0.0));
  K2L_ASSIGN_OR_RETURN(c.epsilon, ctx.FloatOr("layer_norm_epsilon", 1e-6));
  if (c.heads < 1 || c.hidden / c.heads < 1) {
    return ctx.Invalid("num_heads=" + std::to_string(c.heads) +
                           " does not fit hidden_dim=" +
                           std::to_string(c.hidden) +
                           " (key_dim = hidden_dim // num_heads must be "
                           "positive)",
                       "The config is corrupt; re-save the model");
  }
  return c;
}

// One ViTEncoderBlock on `x`.
Result<ValueId> LowerBlock(LayerContext& ctx, const BlockConfig& c,
                           ValueId x) {
  K2L_ASSIGN_OR_RETURN(ValueId h, RunSub(ctx, "LayerNormalization",
                                         LayerNorm(c.epsilon), {"layer_norm_1"},
                                         "ln_1", x));
  const json mha = {{"name", "mha"},
                    {"num_heads", c.heads},
                    {"key_dim", c.hidden / c.heads},
                    {"value_dim", nullptr},
                    {"dropout", c.attention_dropout},
                    {"use_bias", c.mha_bias},
                    {"output_shape", nullptr},
                    {"attention_axes", nullptr}};
  static const json kNoArgs = json::array();
  static const json kNoKwargs = json::object();
  LayerContext attn = ctx.Sublayer(mha, "MultiHeadAttention",
                                   ctx.name() + "/mha", {h, h}, {"mha"},
                                   kNoArgs, kNoKwargs, {}, "mha");
  auto a = ConvertMultiHeadAttention(attn);
  if (!a.ok()) return a.status().WithContext(ctx.Describe());
  K2L_ASSIGN_OR_RETURN(x, Add(ctx, a.value().at(0), x));
  K2L_ASSIGN_OR_RETURN(h, RunSub(ctx, "LayerNormalization",
                                 LayerNorm(c.epsilon), {"layer_norm_2"},
                                 "ln_2", x));
  const json mlp = {{"hidden_dim", c.hidden},
                    {"mlp_dim", c.mlp_dim},
                    {"use_bias", c.mlp_bias}};
  K2L_ASSIGN_OR_RETURN(h, RunSub(ctx, "keras_hub>MLP", mlp, {"mlp"}, "mlp", h,
                                 ConvertViTMlp));
  return Add(ctx, x, h);
}

Result<std::vector<ValueId>> ConvertViTEncoderBlock(LayerContext& ctx) {
  K2L_ASSIGN_OR_RETURN(BlockConfig c, ReadBlock(ctx));
  const ValueId x = ctx.input();
  K2L_RETURN_IF_ERROR(RequireSequence(ctx, x, c.hidden).status());
  K2L_ASSIGN_OR_RETURN(ValueId y, LowerBlock(ctx, c, x));
  return std::vector<ValueId>{y};
}

Result<std::vector<ValueId>> ConvertViTEncoder(LayerContext& ctx) {
  K2L_ASSIGN_OR_RETURN(BlockConfig c, ReadBlock(ctx));
  K2L_ASSIGN_OR_RETURN(int64_t layers, ctx.Int("num_layers"));
  ValueId x = ctx.input();
  K2L_RETURN_IF_ERROR(RequireSequence(ctx, x, c.hidden).status());
  const json block = {{"num_heads", c.heads},
                      {"hidden_dim", c.hidden},
                      {"mlp_dim", c.mlp_dim},
                      {"use_mha_bias", c.mha_bias},
                      {"use_mlp_bias", c.mlp_bias},
                      {"attention_dropout", c.attention_dropout},
                      {"layer_norm_epsilon", c.epsilon}};
  // The blocks are saved in the list `encoder_layers`, each under its
  // snake-cased class name and a counter.
  for (int64_t i = 0; i < layers; ++i) {
    const std::string item =
        ContainerItemName("ViTEncoderBlock", static_cast<size_t>(i));
    K2L_ASSIGN_OR_RETURN(
        x, RunSub(ctx, "keras_hub>ViTEncoderBlock", block,
                  {"encoder_layers", item},
                  "transformer_block_" + std::to_string(i + 1), x,
                  ConvertViTEncoderBlock));
  }
  K2L_ASSIGN_OR_RETURN(x, RunSub(ctx, "LayerNormalization",
                                 LayerNorm(c.epsilon), {"layer_norm"}, "ln",
                                 x));
  return std::vector<ValueId>{x};
}

}  // namespace

Status RegisterHubViTLayers(Registry& r) {
  const char* block_ops =
      "MEAN, SQUARED_DIFFERENCE, RSQRT, SUB, MUL, ADD, FULLY_CONNECTED, "
      "BATCH_MATMUL, SOFTMAX, RESHAPE, TRANSPOSE, GELU";
  K2L_RETURN_IF_ERROR(r.Register(
      "keras_hub>ViTPatchingAndEmbedding", ConvertViTPatchingAndEmbedding,
      "CONV_2D, RESHAPE, SHAPE, SLICE, CONCATENATION, BROADCAST_TO, "
      "ADD",
      "data_format='channels_first' and images of another patch grid than "
      "image_size's are refused"));
  K2L_RETURN_IF_ERROR(r.Register("keras_hub>MLP", ConvertViTMlp,
                                 "FULLY_CONNECTED, GELU",
                                 "quantized layers are refused"));
  K2L_RETURN_IF_ERROR(r.Register("keras_hub>ViTEncoderBlock",
                                 ConvertViTEncoderBlock, block_ops,
                                 "quantized layers are refused"));
  K2L_RETURN_IF_ERROR(r.Register("keras_hub>ViTEncoder", ConvertViTEncoder,
                                 block_ops, "quantized layers are refused"));
  return Status::Ok();
}

}  // namespace k2l::keras
