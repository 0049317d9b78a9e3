// Keras-Hub's TransformerEncoder (BERT-style) and TransformerDecoder, with
// or without cross-attention (BART-style or GPT-2-style), lowered through
// the converters of
// their sublayers: MultiHeadAttention (CachedMultiHeadAttention in the
// decoder, the same math without a cache), LayerNormalization and Dense,
// whose weights are saved under the block's attributes
// (_self_attention_layer/query_dense, _feedforward_layer_norm, ...).
//
// The masks follow keras-hub exactly:
//  - merge_padding_and_attention_mask takes the padding mask (or else the
//    input's Keras mask) as int32 [B, 1, S], and the attention mask as int32
//    [B, T, S], and takes their minimum;
//  - the encoder hands that to keras MultiHeadAttention, which casts it to
//    bool (!= 0) and ANDs the query's and value's Keras masks (a padded
//    query row is then fully masked);
//  - the decoder takes the minimum with the int causal mask and hands the
//    int mask to CachedMultiHeadAttention, which skips MultiHeadAttention's
//    mask handling: ops.dot_product_attention casts it to bool (!= 0), the
//    Softmax layer (taken with dropout > 0) keeps mask > 0;
//  - the decoder's cross-attention gets the merge of the encoder's padding
//    (else the encoder sequence's Keras mask) and attention masks, handed
//    to CachedMultiHeadAttention the same way.
// What a fully masked row gives then follows the path the attention takes,
// as ConvertMultiHeadAttention reproduces.
#include "frontend/keras/attention_lowering.h"
#include "frontend/keras/registry.h"
#include "frontend/keras/shared_lowering.h"

namespace k2l::keras {

namespace {

using ir::OpKind;
using ir::ValueId;
using nlohmann::json;

struct BlockConfig {
  int64_t heads = 0;
  int64_t intermediate = 0;
  int64_t hidden = 0;
  double dropout = 0.0;
  double epsilon = 1e-5;
  bool normalize_first = false;
  json activation = "relu";
};

Result<BlockConfig> ReadBlockConfig(LayerContext& ctx, ValueId x) {
  BlockConfig c;
  K2L_RETURN_IF_ERROR(RefuseQuantized(ctx));
  K2L_ASSIGN_OR_RETURN(c.heads, ctx.Int("num_heads"));
  K2L_ASSIGN_OR_RETURN(c.intermediate, ctx.Int("intermediate_dim"));
  K2L_ASSIGN_OR_RETURN(c.dropout, ctx.FloatOr("dropout", 0.0));
  K2L_ASSIGN_OR_RETURN(c.epsilon, ctx.FloatOr("layer_norm_epsilon", 1e-5));
  K2L_ASSIGN_OR_RETURN(c.normalize_first, ctx.BoolOr("normalize_first", false));
  if (ctx.Has("activation")) c.activation = ctx.config()["activation"];
  const ir::Shape s = ctx.shape(x);
  if (s.size() != 3 || s[2] == ir::kDynamic) {
    return ctx.Invalid("its input has shape " + ir::ShapeToString(s) +
                           "; it takes [batch, sequence, features] with the "
                           "features known",
                       "Feed it a rank-3 sequence with a fixed feature size");
  }
  if (ctx.value(x).dtype != ir::DType::kFloat32) {
    return ctx.Invalid(
        "its input is " + std::string(ir::DTypeName(ctx.value(x).dtype)),
        "Feed it float32 hidden states");
  }
  c.hidden = s[2];
  if (c.heads <= 0 || c.hidden / c.heads == 0) {
    return ctx.Invalid("num_heads=" + std::to_string(c.heads) +
                           " does not fit its " + std::to_string(c.hidden) +
                           " features (key_dim = features // num_heads must "
                           "be positive)",
                       "The config is corrupt; re-save the model");
  }
  return c;
}

// `m` as int32, as ops.cast(m, "int32") does (floats truncate).
Result<ValueId> AsInt32(LayerContext& ctx, ValueId m) {
  if (ctx.value(m).dtype == ir::DType::kInt32) return m;
  return ctx.Op(OpKind::kCast, {m}, ir::NoAttrs{}, ir::DType::kInt32);
}

// merge_padding_and_attention_mask: the padding mask (else the input's
// Keras mask) as int32 [B, 1, S], the attention mask as int32 [B, T, S],
// their minimum when both are given; kNoValue when neither is.
Result<ValueId> MergePaddingAndAttention(LayerContext& ctx, ValueId padding,
                                         ValueId implicit, ValueId attention) {
  ValueId mask = padding != ir::kNoValue ? padding : implicit;
  if (mask != ir::kNoValue) {
    if (ctx.rank(mask) != 2) {
      return ctx.Invalid(
          "its padding mask has shape " + ir::ShapeToString(ctx.shape(mask)),
          "Pass a [batch, sequence] padding mask");
    }
    K2L_ASSIGN_OR_RETURN(mask, AsInt32(ctx, mask));
    K2L_ASSIGN_OR_RETURN(
        mask, ctx.Op(OpKind::kExpandDims, {mask, ctx.ConstInts({1}, {})}));
  }
  if (attention == ir::kNoValue) return mask;
  if (ctx.rank(attention) != 3) {
    return ctx.Invalid("its attention mask has shape " +
                           ir::ShapeToString(ctx.shape(attention)),
                       "Pass a [batch, target, source] attention mask");
  }
  K2L_ASSIGN_OR_RETURN(attention, AsInt32(ctx, attention));
  if (mask == ir::kNoValue) return attention;
  return ctx.Op(OpKind::kMinimum, {mask, attention});
}

// compute_causal_mask: [1, T, T], j <= i, as bool or as int32.
Result<ValueId> CausalMask(LayerContext& ctx, ValueId x, bool as_int) {
  const int64_t t = ctx.shape(x)[1];
  if (t != ir::kDynamic) {
    if (!as_int) return ConstantMask(ctx, t, t, true, 0, {1, t, t});
    std::vector<int32_t> v(static_cast<size_t>(t * t));
    for (int64_t i = 0; i < t; ++i) {
      for (int64_t j = 0; j < t; ++j) v[i * t + j] = j <= i ? 1 : 0;
    }
    return ctx.ConstInts(v, {1, t, t});
  }
  K2L_ASSIGN_OR_RETURN(ValueId n, RuntimeDim(ctx, x, 1));
  K2L_ASSIGN_OR_RETURN(
      ValueId r, ctx.Op(OpKind::kRange,
                        {ctx.ConstInts({0}, {}), n, ctx.ConstInts({1}, {})}));
  K2L_ASSIGN_OR_RETURN(
      ValueId rows, ctx.Op(OpKind::kReshape, {r, ctx.ConstInts({1, -1, 1})}));
  K2L_ASSIGN_OR_RETURN(
      ValueId cols, ctx.Op(OpKind::kReshape, {r, ctx.ConstInts({1, 1, -1})}));
  K2L_ASSIGN_OR_RETURN(ValueId c, ctx.Op(OpKind::kGreaterEqual, {rows, cols}));
  if (!as_int) return c;
  return ctx.Op(OpKind::kCast, {c}, ir::NoAttrs{}, ir::DType::kInt32);
}

// The registered converter of `cls` on the sublayer saved under `attr`.
Result<ValueId> RunOne(LayerContext& ctx, const char* cls, const json& config,
                       const std::string& attr, const std::string& keras_name,
                       ValueId x) {
  return RunSublayer(ctx, cls, config, {attr}, keras_name, x);
}

json LayerNormConfig(const BlockConfig& c, const std::string& name) {
  return {{"name", name},   {"axis", -1},    {"epsilon", c.epsilon},
          {"center", true}, {"scale", true}, {"rms_scaling", false}};
}

// Runs the attention sublayer `mha` (class) saved under `attr` on `query`
// and `value`, with `mask` as its attention_mask (kNoValue for none).
Result<std::vector<ValueId>> Attend(LayerContext& ctx, const BlockConfig& c,
                                    const char* mha, const std::string& attr,
                                    const std::string& name, ValueId query,
                                    ValueId value, ValueId mask,
                                    bool want_scores) {
  const int64_t head = c.hidden / c.heads;
  const json cfg = {{"name", name},
                    {"num_heads", c.heads},
                    {"key_dim", head},
                    {"value_dim", nullptr},
                    {"dropout", c.dropout},
                    {"use_bias", true},
                    {"output_shape", nullptr},
                    {"attention_axes", nullptr}};
  static const json kNoArgs = json::array();
  const json kwargs =
      want_scores ? json{{"return_attention_scores", true}} : json::object();
  KwargTensors tensors;
  if (mask != ir::kNoValue) tensors["attention_mask"] = {mask};
  LayerContext attn =
      ctx.Sublayer(cfg, mha, ctx.name() + "/" + name, {query, value}, {attr},
                   kNoArgs, kwargs, std::move(tensors), name);
  auto out = ConvertMultiHeadAttention(attn);
  if (!out.ok()) return out.status().WithContext(ctx.Describe());
  K2L_RETURN_IF_ERROR(attn.RequireKwargInputsUsed());
  return out;
}

// The decoder's cross-attention: the encoder's output and the mask the
// attention gets (kNoValue for none).
struct CrossAttention {
  ValueId encoder = ir::kNoValue;
  ValueId mask = ir::kNoValue;
};

// The attention block, the cross-attention block (when `cross` is given)
// and the feedforward block, with their residuals and norms, as
// TransformerEncoder.call and TransformerDecoder.call share them. `mha`
// names the attention sublayers' class; `mask` is what self-attention gets
// as its attention_mask (kNoValue for none). Returns the output, and the
// attention scores when `want_scores`.
Result<std::vector<ValueId>> LowerBlock(LayerContext& ctx, const BlockConfig& c,
                                        ValueId x, const char* mha,
                                        const std::string& mha_name,
                                        ValueId mask, bool want_scores,
                                        const CrossAttention* cross = nullptr) {
  const json ln_attn = LayerNormConfig(c, "self_attention_layer_norm");
  const json ln_cross = LayerNormConfig(c, "cross_attention_layer_norm");
  const json ln_ff = LayerNormConfig(c, "feedforward_layer_norm");
  const json dense_in = {{"name", "feedforward_intermediate_dense"},
                         {"units", c.intermediate},
                         {"activation", c.activation},
                         {"use_bias", true}};
  const json dense_out = {{"name", "feedforward_output_dense"},
                          {"units", c.hidden},
                          {"activation", "linear"},
                          {"use_bias", true}};

  ValueId residual = x;
  if (c.normalize_first) {
    K2L_ASSIGN_OR_RETURN(x, RunOne(ctx, "LayerNormalization", ln_attn,
                                   "_self_attention_layer_norm",
                                   "self_attention_layer_norm", x));
  }
  K2L_ASSIGN_OR_RETURN(auto attn_out,
                       Attend(ctx, c, mha, "_self_attention_layer", mha_name,
                              x, x, mask, want_scores));
  K2L_ASSIGN_OR_RETURN(
      x, ctx.Op(OpKind::kAdd, {attn_out[0], residual}, ir::BinaryAttrs{}));
  if (!c.normalize_first) {
    K2L_ASSIGN_OR_RETURN(x, RunOne(ctx, "LayerNormalization", ln_attn,
                                   "_self_attention_layer_norm",
                                   "self_attention_layer_norm", x));
  }
  if (cross != nullptr) {
    residual = x;
    if (c.normalize_first) {
      K2L_ASSIGN_OR_RETURN(x, RunOne(ctx, "LayerNormalization", ln_cross,
                                     "_cross_attention_layer_norm",
                                     "cross_attention_layer_norm", x));
    }
    K2L_ASSIGN_OR_RETURN(
        auto cross_out,
        Attend(ctx, c, mha, "_cross_attention_layer", "cross_attention", x,
               cross->encoder, cross->mask, /*want_scores=*/false));
    K2L_ASSIGN_OR_RETURN(x, ctx.Op(OpKind::kAdd, {cross_out[0], residual},
                                   ir::BinaryAttrs{}));
    if (!c.normalize_first) {
      K2L_ASSIGN_OR_RETURN(x, RunOne(ctx, "LayerNormalization", ln_cross,
                                     "_cross_attention_layer_norm",
                                     "cross_attention_layer_norm", x));
    }
  }
  residual = x;
  if (c.normalize_first) {
    K2L_ASSIGN_OR_RETURN(
        x, RunOne(ctx, "LayerNormalization", ln_ff, "_feedforward_layer_norm",
                  "feedforward_layer_norm", x));
  }
  K2L_ASSIGN_OR_RETURN(
      x, RunOne(ctx, "Dense", dense_in, "_feedforward_intermediate_dense",
                "feedforward_intermediate_dense", x));
  K2L_ASSIGN_OR_RETURN(
      x, RunOne(ctx, "Dense", dense_out, "_feedforward_output_dense",
                "feedforward_output_dense", x));
  K2L_ASSIGN_OR_RETURN(x,
                       ctx.Op(OpKind::kAdd, {x, residual}, ir::BinaryAttrs{}));
  if (!c.normalize_first) {
    K2L_ASSIGN_OR_RETURN(
        x, RunOne(ctx, "LayerNormalization", ln_ff, "_feedforward_layer_norm",
                  "feedforward_layer_norm", x));
  }
  if (want_scores) return std::vector<ValueId>{x, attn_out.at(1)};
  return std::vector<ValueId>{x};
}

// An int mask as CachedMultiHeadAttention uses it: the Softmax layer
// (taken when the weights are dropped out) keeps mask > 0,
// ops.dot_product_attention keeps mask != 0. Bool masks pass as they are.
Result<ValueId> CachedAttentionMask(LayerContext& ctx, const BlockConfig& c,
                                    ValueId mask) {
  if (mask == ir::kNoValue || ctx.value(mask).dtype == ir::DType::kBool) {
    return mask;
  }
  if (c.dropout > 0) {
    return ctx.Op(OpKind::kGreater, {mask, ctx.ConstInts({0}, {})});
  }
  return AsBoolMask(ctx, mask);
}

Result<std::vector<ValueId>> ConvertTransformerEncoder(LayerContext& ctx) {
  const ValueId x = ctx.input();
  K2L_ASSIGN_OR_RETURN(BlockConfig c, ReadBlockConfig(ctx, x));
  // call(inputs, padding_mask, attention_mask, training,
  //      return_attention_scores)
  K2L_ASSIGN_OR_RETURN(ValueId padding, CallTensor(ctx, 1, "padding_mask"));
  K2L_ASSIGN_OR_RETURN(ValueId attention, CallTensor(ctx, 2, "attention_mask"));
  K2L_ASSIGN_OR_RETURN(bool want_scores,
                       CallFlag(ctx, "return_attention_scores"));
  const ValueId implicit = ctx.ImplicitMaskOf(x);
  ctx.MarkMaskUsed();
  K2L_ASSIGN_OR_RETURN(ValueId mask, MergePaddingAndAttention(
                                         ctx, padding, implicit, attention));
  if (mask != ir::kNoValue) {
    // MultiHeadAttention casts attention_mask to bool.
    K2L_ASSIGN_OR_RETURN(mask, AsBoolMask(ctx, mask));
  }
  if (implicit != ir::kNoValue) {
    // The query and the value carry the input's Keras mask into
    // MultiHeadAttention, which ANDs [B, T, 1] and [B, 1, S] masks in.
    K2L_ASSIGN_OR_RETURN(ValueId im, AsBoolMask(ctx, implicit));
    K2L_ASSIGN_OR_RETURN(
        ValueId q, ctx.Op(OpKind::kExpandDims, {im, ctx.ConstInts({2}, {})}));
    K2L_ASSIGN_OR_RETURN(
        ValueId v, ctx.Op(OpKind::kExpandDims, {im, ctx.ConstInts({1}, {})}));
    K2L_ASSIGN_OR_RETURN(ValueId qv, AndMasks(ctx, q, v));
    K2L_ASSIGN_OR_RETURN(mask, AndMasks(ctx, mask, qv));
  }
  K2L_ASSIGN_OR_RETURN(auto outs,
                       LowerBlock(ctx, c, x, "MultiHeadAttention",
                                  "self_attention_layer", mask, want_scores));
  if (implicit != ir::kNoValue) ctx.SetOutputMask(0, implicit);
  return outs;
}

Result<std::vector<ValueId>> ConvertTransformerDecoder(LayerContext& ctx) {
  const ValueId x = ctx.input();
  K2L_ASSIGN_OR_RETURN(BlockConfig c, ReadBlockConfig(ctx, x));
  // call(decoder_sequence, encoder_sequence, decoder_padding_mask,
  //      decoder_attention_mask, encoder_padding_mask,
  //      encoder_attention_mask, self_attention_cache,
  //      self_attention_cache_update_index, cross_attention_cache,
  //      cross_attention_cache_update_index, use_causal_mask, training)
  // The block has cross-attention when it was built with an encoder
  // sequence (encoder_sequence_shape), and must then be called with one.
  const bool has_cross = ctx.Has("encoder_sequence_shape") &&
                         !ctx.config()["encoder_sequence_shape"].is_null();
  K2L_ASSIGN_OR_RETURN(ValueId encoder, CallTensor(ctx, 1, "encoder_sequence"));
  if (has_cross && encoder == ir::kNoValue) {
    return ctx.Invalid(
        "it was built with cross-attention (encoder_sequence_shape is set) "
        "but is called without encoder_sequence",
        "Call it as layer(decoder_sequence, encoder_sequence), as it was "
        "built");
  }
  if (!has_cross && encoder != ir::kNoValue) {
    return ctx.Invalid(
        "it is called with encoder_sequence but was built without "
        "cross-attention (encoder_sequence_shape is not set), so it has no "
        "cross-attention weights",
        "Call it as layer(decoder_sequence), as it was built");
  }
  K2L_RETURN_IF_ERROR(RefuseCaches(ctx, 6));
  K2L_ASSIGN_OR_RETURN(ValueId padding,
                       CallTensor(ctx, 2, "decoder_padding_mask"));
  K2L_ASSIGN_OR_RETURN(ValueId attention,
                       CallTensor(ctx, 3, "decoder_attention_mask"));
  K2L_ASSIGN_OR_RETURN(ValueId enc_padding,
                       CallTensor(ctx, 4, "encoder_padding_mask"));
  K2L_ASSIGN_OR_RETURN(ValueId enc_attention,
                       CallTensor(ctx, 5, "encoder_attention_mask"));
  bool causal = true;
  const json& kw = ctx.kwargs();
  if (kw.is_object() && kw.contains("use_causal_mask") &&
      !kw["use_causal_mask"].is_null()) {
    K2L_ASSIGN_OR_RETURN(causal, CallFlag(ctx, "use_causal_mask"));
  }
  const ValueId implicit = ctx.ImplicitMaskOf(x);
  ctx.MarkMaskUsed();
  K2L_ASSIGN_OR_RETURN(ValueId mask, MergePaddingAndAttention(
                                         ctx, padding, implicit, attention));
  if (causal) {
    if (mask == ir::kNoValue) {
      K2L_ASSIGN_OR_RETURN(mask, CausalMask(ctx, x, /*as_int=*/false));
    } else {
      // ops.minimum(int mask, bool causal mask) is an int mask.
      K2L_ASSIGN_OR_RETURN(ValueId cm, CausalMask(ctx, x, /*as_int=*/true));
      K2L_ASSIGN_OR_RETURN(mask, ctx.Op(OpKind::kMinimum, {mask, cm}));
    }
  }
  K2L_ASSIGN_OR_RETURN(mask, CachedAttentionMask(ctx, c, mask));
  if (!has_cross) {
    // Without cross-attention, keras-hub never reads the encoder masks.
    K2L_ASSIGN_OR_RETURN(
        auto outs, LowerBlock(ctx, c, x, "CachedMultiHeadAttention",
                              "self_attention", mask, /*want_scores=*/false));
    if (implicit != ir::kNoValue) ctx.SetOutputMask(0, implicit);
    return outs;
  }
  const ir::Shape es = ctx.shape(encoder);
  if (es.size() != 3 || es[2] != c.hidden ||
      ctx.value(encoder).dtype != ir::DType::kFloat32) {
    return ctx.Invalid(
        "its encoder_sequence is " +
            std::string(ir::DTypeName(ctx.value(encoder).dtype)) +
            ir::ShapeToString(es) + "; cross-attention takes float32 [batch, "
            "source, " + std::to_string(c.hidden) + "]",
        "Pass the encoder's output sequence, of the decoder's width");
  }
  CrossAttention cross{encoder};
  K2L_ASSIGN_OR_RETURN(
      cross.mask, MergePaddingAndAttention(ctx, enc_padding,
                                           ctx.ImplicitMaskOf(encoder),
                                           enc_attention));
  K2L_ASSIGN_OR_RETURN(cross.mask, CachedAttentionMask(ctx, c, cross.mask));
  K2L_ASSIGN_OR_RETURN(
      auto outs,
      LowerBlock(ctx, c, x, "CachedMultiHeadAttention", "self_attention", mask,
                 /*want_scores=*/false, &cross));
  if (implicit != ir::kNoValue) ctx.SetOutputMask(0, implicit);
  return outs;
}

}  // namespace

Status RegisterHubTransformerLayers(Registry& r) {
  K2L_RETURN_IF_ERROR(
      r.Register("keras_hub>TransformerEncoder", ConvertTransformerEncoder,
                 "as MultiHeadAttention, LayerNormalization and Dense, ADD",
                 "quantized layers are refused"));
  K2L_RETURN_IF_ERROR(r.Register(
      "keras_hub>TransformerDecoder", ConvertTransformerDecoder,
      "as MultiHeadAttention (self- and cross-attention), "
      "LayerNormalization and Dense, ADD, MINIMUM (+ RANGE, GREATER_EQUAL "
      "for a causal mask at a dynamic length)",
      "key/value caches and quantized layers are refused"));
  return Status::Ok();
}

}  // namespace k2l::keras
