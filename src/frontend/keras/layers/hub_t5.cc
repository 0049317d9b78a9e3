// Keras-Hub's T5 layers (keras_hub.src.models.t5): T5LayerNorm and
// T5TransformerLayer, as keras-hub 0.32 computes them.
//
// T5LayerNorm is an RMS norm: weight * x * rsqrt(mean(x^2) + epsilon), with
// no mean subtraction and no bias.
//
// T5TransformerLayer is one pre-norm block of the encoder or the decoder
// stack: self-attention, cross-attention over the encoder's output
// (decoder only), a feedforward (act(input(x)) * gate(x) when gated, else
// act(input(x)), then output), each with its residual. Its attention
// (T5MultiHeadAttention) has no 1/sqrt(d) score scale and no biases; it adds
// a "position bias" to the scores before the softmax. The layer returns
// (x, position_bias):
//  - the first layer of a stack (use_relative_attention_bias) computes
//    position_bias = relative bias + (1 - mask) * -1e9, where the relative
//    bias is its `relative_attention_bias` table [32 buckets, heads] looked
//    up by the bucket of key position - query position, and the mask is the
//    attention mask [B, 1, S] (in the decoder, ANDed with the causal mask);
//  - later layers get that tensor as their position_bias argument and use
//    it as is (their attention_mask is then ignored, as in keras-hub).
// Cross-attention adds (1 - encoder_attention_mask) * -1e9 only.
//
// The bucket of a relative position r depends on r alone and saturates for
// |r| >= 128 (max_distance), so the bias of every r in [-128, 128] is a
// constant table [heads, 257] (buckets computed in float32 as keras-hub
// does), gathered at clamp(r, -128, 128) + 128: one file runs at any
// length.
#include <cmath>

#include "frontend/keras/activations.h"
#include "frontend/keras/attention_lowering.h"
#include "frontend/keras/decoder_blocks.h"
#include "frontend/keras/einsum_lowering.h"
#include "frontend/keras/registry.h"
#include "frontend/keras/shared_lowering.h"

namespace k2l::keras {

using ir::OpKind;
using ir::ValueId;
using nlohmann::json;

namespace {

// T5MultiHeadAttention's bucket of relative position `r` (key position -
// query position), as its _relative_position_bucket computes it with
// num_buckets=32 and max_distance=128, in float32 like keras-hub.
int T5RelativePositionBucket(int64_t r, bool bidirectional) {
  int num_buckets = 32;
  int bucket = 0;
  int64_t n;
  if (bidirectional) {
    num_buckets /= 2;
    if (r > 0) bucket += num_buckets;
    n = r < 0 ? -r : r;
  } else {
    n = r < 0 ? -r : 0;
  }
  const int max_exact = num_buckets / 2;
  if (n < max_exact) return bucket + static_cast<int>(n);
  const float ratio = static_cast<float>(n) / static_cast<float>(max_exact);
  const float log_max =
      std::log(static_cast<float>(128.0 / static_cast<double>(max_exact)));
  const float scaled =
      std::log(ratio) / log_max * static_cast<float>(num_buckets - max_exact);
  int large = max_exact + static_cast<int>(scaled);
  if (large > num_buckets - 1) large = num_buckets - 1;
  return bucket + large;
}

constexpr int32_t kMaxDistance = 128;

Result<ValueId> Add(LayerContext& ctx, ValueId a, ValueId b) {
  return ctx.Op(OpKind::kAdd, {a, b}, ir::BinaryAttrs{});
}
Result<ValueId> Mul(LayerContext& ctx, ValueId a, ValueId b) {
  return ctx.Op(OpKind::kMul, {a, b}, ir::BinaryAttrs{});
}

Result<std::vector<ValueId>> ConvertT5LayerNorm(LayerContext& ctx) {
  K2L_ASSIGN_OR_RETURN(double eps, ctx.FloatOr("epsilon", 1e-6));
  K2L_ASSIGN_OR_RETURN(auto w, ctx.Weights({"weight"}));
  const ValueId x = ctx.input();
  if (ctx.rank(x) == 0 || ctx.shape(x).back() == ir::kDynamic) {
    return ctx.Invalid("its input has shape " + ir::ShapeToString(ctx.shape(x)),
                       "Feed it a tensor whose last dim is fixed");
  }
  K2L_ASSIGN_OR_RETURN(ValueId y, RmsNormLastAxis(ctx, x, w[0], eps, "norm"));
  return std::vector<ValueId>{y};
}

struct T5Block {
  bool is_decoder = false;
  bool gated = false;
  bool relative_bias = false;
  int64_t hidden = 0, heads = 0, head_dim = 0, intermediate = 0;
  double epsilon = 1e-6;
  json activation = "relu";
};

// call(hidden_states, attention_mask, position_bias, encoder_hidden_states,
//      encoder_attention_mask, use_causal_mask, self_attention_cache,
//      self_attention_cache_update_index, cross_attention_cache,
//      cross_attention_cache_update_index, training)
Result<bool> UseCausalMask(LayerContext& ctx) {
  const json& args = ctx.args();
  if (args.is_array() && args.size() > 5 && !args[5].is_null()) {
    if (!args[5].is_boolean()) {
      return ctx.Invalid("its use_causal_mask argument is " + args[5].dump(),
                         "Pass use_causal_mask=True or False");
    }
    return args[5].get<bool>();
  }
  return CallFlag(ctx, "use_causal_mask");
}

// (1 - float(mask)) * -1e9 for a [B, T, S] mask, as [B, 1, T, S]: the
// bias T5MultiHeadAttention adds for the masked positions.
Result<ValueId> MaskBias(LayerContext& ctx, ValueId mask) {
  K2L_ASSIGN_OR_RETURN(
      ValueId m, ctx.Op(OpKind::kExpandDims, {mask, ctx.ConstInts({1}, {})}));
  K2L_ASSIGN_OR_RETURN(
      m, ctx.Op(OpKind::kCast, {m}, ir::NoAttrs{}, ir::DType::kFloat32));
  K2L_ASSIGN_OR_RETURN(
      m, ctx.Op(OpKind::kSub, {ctx.ConstFloat(1.0f), m}, ir::BinaryAttrs{}));
  return Mul(ctx, m, ctx.ConstFloat(-1e9f));
}

Status CheckMask(LayerContext& ctx, ValueId mask, const std::string& what) {
  if (mask == ir::kNoValue || ctx.rank(mask) == 3) return Status::Ok();
  return ctx.Invalid("its " + what + " has shape " +
                         ir::ShapeToString(ctx.shape(mask)) +
                         "; T5 attention takes a [batch, 1 or target, source] "
                         "mask",
                     "Pass the padding mask as mask[:, None, :]");
}

// The relative position bias [1, heads, T, S] of queries `q` [B, T, ...]
// over keys `k` [B, S, ...], from the bucket table [32, heads].
Result<ValueId> RelativeBias(LayerContext& ctx, const T5Block& b,
                             const ir::TensorData& table, ValueId q,
                             ValueId k) {
  const int64_t span = 2 * kMaxDistance + 1;
  std::vector<float> v(static_cast<size_t>(b.heads * span));
  auto w = table.as<float>();
  for (int64_t r = -kMaxDistance; r <= kMaxDistance; ++r) {
    const int bucket = T5RelativePositionBucket(r, !b.is_decoder);
    for (int64_t h = 0; h < b.heads; ++h) {
      v[static_cast<size_t>(h * span + r + kMaxDistance)] =
          w[static_cast<size_t>(bucket * b.heads + h)];
    }
  }
  ValueId bias_by_distance = ctx.ConstFloats(v, {b.heads, span});
  auto positions = [&](ValueId t) -> Result<ValueId> {
    K2L_ASSIGN_OR_RETURN(ValueId n, RuntimeDim(ctx, t, 1));
    return ctx.Op(OpKind::kRange,
                  {ctx.ConstInts({0}, {}), n, ctx.ConstInts({1}, {})});
  };
  K2L_ASSIGN_OR_RETURN(ValueId qp, positions(q));
  K2L_ASSIGN_OR_RETURN(ValueId kp, positions(k));
  K2L_ASSIGN_OR_RETURN(qp,
                       ctx.Op(OpKind::kReshape, {qp, ctx.ConstInts({-1, 1})}));
  K2L_ASSIGN_OR_RETURN(kp,
                       ctx.Op(OpKind::kReshape, {kp, ctx.ConstInts({1, -1})}));
  // clamp(k - q, -128, 128) + 128 = clamp(k + 128 - q, 0, 256).
  K2L_ASSIGN_OR_RETURN(ValueId r,
                       Add(ctx, kp, ctx.ConstInts({kMaxDistance}, {})));
  K2L_ASSIGN_OR_RETURN(r, ctx.Op(OpKind::kSub, {r, qp}, ir::BinaryAttrs{}));
  K2L_ASSIGN_OR_RETURN(
      r, ctx.Op(OpKind::kMinimum,
                {r, ctx.ConstInts({static_cast<int32_t>(span - 1)}, {})}));
  K2L_ASSIGN_OR_RETURN(r,
                       ctx.Op(OpKind::kMaximum, {r, ctx.ConstInts({0}, {})}));
  K2L_ASSIGN_OR_RETURN(
      ValueId bias,
      ctx.Op(OpKind::kGather, {bias_by_distance, r}, ir::GatherAttrs{1, 0}));
  return ctx.Op(OpKind::kExpandDims, {bias, ctx.ConstInts({0}, {})});
}

// Zeros [1, heads, T, S] for queries `q` and keys `k`, as the position bias
// of an attention with neither a relative bias nor a mask.
Result<ValueId> ZeroBias(LayerContext& ctx, const T5Block& b, ValueId q,
                         ValueId k) {
  K2L_ASSIGN_OR_RETURN(ValueId t, RuntimeDims(ctx, q, 1, 1));
  K2L_ASSIGN_OR_RETURN(ValueId s, RuntimeDims(ctx, k, 1, 1));
  K2L_ASSIGN_OR_RETURN(
      ValueId shape,
      ctx.Op(OpKind::kConcatenation,
             {ctx.ConstInts({1, static_cast<int32_t>(b.heads)}), t, s},
             ir::ConcatAttrs{0, ir::Activation::kNone}));
  return ctx.Op(OpKind::kFill, {shape, ctx.ConstFloat(0.0f)});
}

// The weights of one T5MultiHeadAttention saved under `attr`.
struct AttentionWeights {
  ir::TensorData q, k, v, o;
};

// Loads the variables of the layer in creation order, which is also their
// order in a legacy .h5 file.
class WeightReader {
 public:
  explicit WeightReader(LayerContext& ctx) : ctx_(ctx) {}
  Result<ir::TensorData> Read(const std::vector<std::string>& attrs,
                              const std::string& name, const ir::Shape& shape) {
    K2L_ASSIGN_OR_RETURN(auto w, ctx_.SubWeights(attrs, {name}, offset_++));
    std::string what;
    for (const auto& a : attrs) what += a + "/";
    K2L_RETURN_IF_ERROR(ctx_.ExpectWeightShape(w[0], what + name, shape));
    return w[0];
  }
  Result<AttentionWeights> Attention(const std::string& attr,
                                     const T5Block& b) {
    const int64_t inner = b.heads * b.head_dim;
    AttentionWeights a;
    K2L_ASSIGN_OR_RETURN(
        a.q, Read({attr, "query_projector"}, "kernel", {b.hidden, inner}));
    K2L_ASSIGN_OR_RETURN(
        a.k, Read({attr, "key_projector"}, "kernel", {b.hidden, inner}));
    K2L_ASSIGN_OR_RETURN(
        a.v, Read({attr, "value_projector"}, "kernel", {b.hidden, inner}));
    K2L_ASSIGN_OR_RETURN(
        a.o, Read({attr, "output_projector"}, "kernel", {inner, b.hidden}));
    return a;
  }

 private:
  LayerContext& ctx_;
  size_t offset_ = 0;
};

Result<ValueId> Project(LayerContext& ctx, ValueId x, const ir::TensorData& w,
                        const std::string& name) {
  return LowerEinsumDense(ctx, x, "...b,bc->...c", w, nullptr, "", name);
}

// softmax(q k^T + bias) v over heads, projected back to the hidden size:
// T5MultiHeadAttention's call without a cache. `bias` broadcasts against
// the scores [B, heads, T, S] (kNoValue: none).
Result<ValueId> Attend(LayerContext& ctx, const T5Block& b,
                       const AttentionWeights& w, const std::string& name,
                       ValueId x, ValueId kv, ValueId bias) {
  const ir::Shape heads = {ir::kDynamic, ir::kDynamic, b.heads, b.head_dim};
  auto split = [&](ValueId v, const ir::TensorData& kernel,
                   const std::string& what) -> Result<ValueId> {
    K2L_ASSIGN_OR_RETURN(ValueId p, Project(ctx, v, kernel, name + "/" + what));
    ir::Shape dims = heads;
    const ir::Shape s = ctx.shape(p);
    dims[0] = s[0];
    dims[1] = s[1];
    return ReshapeTo(ctx, p, dims, name);
  };
  K2L_ASSIGN_OR_RETURN(ValueId q, split(x, w.q, "query_projector"));
  K2L_ASSIGN_OR_RETURN(ValueId k, split(kv, w.k, "key_projector"));
  K2L_ASSIGN_OR_RETURN(ValueId v, split(kv, w.v, "value_projector"));
  K2L_ASSIGN_OR_RETURN(q, TransposeBy(ctx, q, {0, 2, 1, 3}));
  K2L_ASSIGN_OR_RETURN(k, TransposeBy(ctx, k, {0, 2, 3, 1}));
  K2L_ASSIGN_OR_RETURN(v, TransposeBy(ctx, v, {0, 2, 1, 3}));
  K2L_ASSIGN_OR_RETURN(ValueId scores, ctx.Op(OpKind::kBatchMatMul, {q, k},
                                              ir::BatchMatMulAttrs{}));
  if (bias != ir::kNoValue) {
    K2L_ASSIGN_OR_RETURN(scores, Add(ctx, scores, bias));
  }
  K2L_ASSIGN_OR_RETURN(ValueId weights, LowerSoftmax(ctx, scores, -1, false));
  K2L_ASSIGN_OR_RETURN(ValueId o, ctx.Op(OpKind::kBatchMatMul, {weights, v},
                                         ir::BatchMatMulAttrs{}));
  K2L_ASSIGN_OR_RETURN(o, TransposeBy(ctx, o, {0, 2, 1, 3}));
  const ir::Shape os = ctx.shape(o);
  K2L_ASSIGN_OR_RETURN(
      o, ReshapeTo(ctx, o, {os[0], os[1], b.heads * b.head_dim}, name));
  return Project(ctx, o, w.o, name + "/output_projector");
}

Result<T5Block> ReadT5Block(LayerContext& ctx, ValueId x) {
  T5Block b;
  K2L_RETURN_IF_ERROR(RefuseQuantized(ctx));
  K2L_ASSIGN_OR_RETURN(b.is_decoder, ctx.Bool("is_decoder"));
  K2L_ASSIGN_OR_RETURN(b.hidden, ctx.Int("hidden_dim"));
  K2L_ASSIGN_OR_RETURN(b.intermediate, ctx.Int("intermediate_dim"));
  K2L_ASSIGN_OR_RETURN(b.head_dim, ctx.Int("key_value_dim"));
  K2L_ASSIGN_OR_RETURN(b.heads, ctx.Int("num_heads"));
  K2L_ASSIGN_OR_RETURN(b.epsilon, ctx.FloatOr("layer_norm_epsilon", 1e-6));
  K2L_ASSIGN_OR_RETURN(b.gated, ctx.BoolOr("use_gated_activation", false));
  K2L_ASSIGN_OR_RETURN(b.relative_bias,
                       ctx.BoolOr("use_relative_attention_bias", false));
  if (ctx.Has("activation")) b.activation = ctx.config()["activation"];
  for (auto [key, v] : {std::pair{"hidden_dim", b.hidden},
                        std::pair{"intermediate_dim", b.intermediate},
                        std::pair{"key_value_dim", b.head_dim},
                        std::pair{"num_heads", b.heads}}) {
    if (v <= 0) {
      return ctx.Invalid(std::string(key) + " is " + std::to_string(v) +
                             ", not a positive size",
                         "The config is corrupt; re-save the model");
    }
  }
  const ir::Shape s = ctx.shape(x);
  if (s.size() != 3 || s[2] != b.hidden) {
    return ctx.Invalid("its input has shape " + ir::ShapeToString(s) +
                           "; it takes [batch, sequence, " +
                           std::to_string(b.hidden) + "] (hidden_dim)",
                       "Feed it a rank-3 sequence of hidden_dim features");
  }
  if (ctx.value(x).dtype != ir::DType::kFloat32) {
    return ctx.Invalid(
        "its input is " + std::string(ir::DTypeName(ctx.value(x).dtype)),
        "Feed it float32 hidden states");
  }
  return b;
}

Result<std::vector<ValueId>> ConvertT5TransformerLayer(LayerContext& ctx) {
  ValueId x = ctx.input();
  K2L_ASSIGN_OR_RETURN(T5Block b, ReadT5Block(ctx, x));
  K2L_RETURN_IF_ERROR(RefuseCaches(ctx, 6));
  K2L_ASSIGN_OR_RETURN(ValueId attention_mask,
                       CallTensor(ctx, 1, "attention_mask"));
  K2L_ASSIGN_OR_RETURN(ValueId position_bias,
                       CallTensor(ctx, 2, "position_bias"));
  K2L_ASSIGN_OR_RETURN(ValueId encoder,
                       CallTensor(ctx, 3, "encoder_hidden_states"));
  K2L_ASSIGN_OR_RETURN(ValueId encoder_mask,
                       CallTensor(ctx, 4, "encoder_attention_mask"));
  K2L_ASSIGN_OR_RETURN(bool causal, UseCausalMask(ctx));
  K2L_RETURN_IF_ERROR(CheckMask(ctx, attention_mask, "attention_mask"));
  K2L_RETURN_IF_ERROR(CheckMask(ctx, encoder_mask, "encoder_attention_mask"));
  // An encoder layer (is_decoder=False) has no cross-attention: keras-hub
  // ignores encoder_hidden_states and encoder_attention_mask there.
  if (b.is_decoder && encoder != ir::kNoValue &&
      (ctx.rank(encoder) != 3 || ctx.shape(encoder)[2] != b.hidden)) {
    return ctx.Invalid("its encoder_hidden_states have shape " +
                           ir::ShapeToString(ctx.shape(encoder)),
                       "Pass [batch, source, hidden_dim] encoder states");
  }
  if (position_bias != ir::kNoValue && ctx.rank(position_bias) != 4) {
    return ctx.Invalid("its position_bias has shape " +
                           ir::ShapeToString(ctx.shape(position_bias)),
                       "Pass the [batch, heads, target, source] position "
                       "bias an earlier T5 layer returned");
  }

  // Variables, in creation order.
  WeightReader r(ctx);
  ir::TensorData relative_table;
  if (b.relative_bias) {
    K2L_ASSIGN_OR_RETURN(relative_table, r.Read({"self_attention"},
                                                "embeddings", {32, b.heads}));
  }
  K2L_ASSIGN_OR_RETURN(AttentionWeights self_w,
                       r.Attention("self_attention", b));
  K2L_ASSIGN_OR_RETURN(
      ir::TensorData self_norm,
      r.Read({"self_attention_layer_norm"}, "weight", {b.hidden}));
  AttentionWeights cross_w;
  ir::TensorData cross_norm;
  if (b.is_decoder) {
    K2L_ASSIGN_OR_RETURN(cross_w, r.Attention("cross_attention", b));
    K2L_ASSIGN_OR_RETURN(cross_norm, r.Read({"cross_attention_layer_norm"},
                                            "weight", {b.hidden}));
  }
  K2L_ASSIGN_OR_RETURN(
      ir::TensorData w_in,
      r.Read({"input_projector"}, "kernel", {b.hidden, b.intermediate}));
  ir::TensorData w_gate;
  if (b.gated) {
    K2L_ASSIGN_OR_RETURN(w_gate, r.Read({"gate_projector"}, "kernel",
                                        {b.hidden, b.intermediate}));
  }
  K2L_ASSIGN_OR_RETURN(
      ir::TensorData w_out,
      r.Read({"output_projector"}, "kernel", {b.intermediate, b.hidden}));
  K2L_ASSIGN_OR_RETURN(ir::TensorData ff_norm,
                       r.Read({"layer_norm"}, "weight", {b.hidden}));

  // Self-attention. Only a layer given no position_bias makes one (the
  // first of its stack); it folds the mask in, causal in the decoder.
  K2L_ASSIGN_OR_RETURN(ValueId h, RmsNormLastAxis(ctx, x, self_norm, b.epsilon,
                                                  "self_attention_layer_norm"));
  if (position_bias == ir::kNoValue) {
    ValueId mask = attention_mask;
    if (causal) {
      // compute_causal_mask & bool(attention_mask).
      K2L_ASSIGN_OR_RETURN(ValueId idx, RuntimeDim(ctx, x, 1));
      K2L_ASSIGN_OR_RETURN(
          idx, ctx.Op(OpKind::kRange,
                      {ctx.ConstInts({0}, {}), idx, ctx.ConstInts({1}, {})}));
      K2L_ASSIGN_OR_RETURN(
          ValueId rows,
          ctx.Op(OpKind::kReshape, {idx, ctx.ConstInts({1, -1, 1})}));
      K2L_ASSIGN_OR_RETURN(
          ValueId cols,
          ctx.Op(OpKind::kReshape, {idx, ctx.ConstInts({1, 1, -1})}));
      K2L_ASSIGN_OR_RETURN(ValueId cm,
                           ctx.Op(OpKind::kGreaterEqual, {rows, cols}));
      if (mask != ir::kNoValue) {
        K2L_ASSIGN_OR_RETURN(ValueId pm, AsBoolMask(ctx, mask));
        K2L_ASSIGN_OR_RETURN(cm, AndMasks(ctx, cm, pm));
      }
      mask = cm;
    }
    if (b.relative_bias) {
      K2L_ASSIGN_OR_RETURN(position_bias,
                           RelativeBias(ctx, b, relative_table, x, x));
    }
    if (mask != ir::kNoValue) {
      K2L_ASSIGN_OR_RETURN(ValueId mb, MaskBias(ctx, mask));
      if (position_bias == ir::kNoValue) {
        // zeros + mask bias, shaped [B, heads, T, S].
        K2L_ASSIGN_OR_RETURN(position_bias, ZeroBias(ctx, b, x, x));
      }
      K2L_ASSIGN_OR_RETURN(position_bias, Add(ctx, position_bias, mb));
    } else if (position_bias == ir::kNoValue) {
      K2L_ASSIGN_OR_RETURN(position_bias, ZeroBias(ctx, b, x, x));
    }
  }
  K2L_ASSIGN_OR_RETURN(
      ValueId a, Attend(ctx, b, self_w, "self_attention", h, h, position_bias));
  K2L_ASSIGN_OR_RETURN(x, Add(ctx, a, x));

  if (b.is_decoder) {
    K2L_ASSIGN_OR_RETURN(h, RmsNormLastAxis(ctx, x, cross_norm, b.epsilon,
                                            "cross_attention_layer_norm"));
    // Without encoder states, keras-hub's cross-attention attends over its
    // own input. Its bias is zeros plus the mask's: zeros add nothing.
    const ValueId kv = encoder != ir::kNoValue ? encoder : h;
    ValueId bias = ir::kNoValue;
    if (encoder_mask != ir::kNoValue) {
      K2L_ASSIGN_OR_RETURN(bias, MaskBias(ctx, encoder_mask));
    }
    K2L_ASSIGN_OR_RETURN(
        a, Attend(ctx, b, cross_w, "cross_attention", h, kv, bias));
    K2L_ASSIGN_OR_RETURN(x, Add(ctx, a, x));
  }

  // Feedforward.
  K2L_ASSIGN_OR_RETURN(
      h, RmsNormLastAxis(ctx, x, ff_norm, b.epsilon, "layer_norm"));
  K2L_ASSIGN_OR_RETURN(ValueId f, Project(ctx, h, w_in, "input_projector"));
  K2L_ASSIGN_OR_RETURN(f, ApplyActivation(ctx, f, b.activation));
  if (b.gated) {
    K2L_ASSIGN_OR_RETURN(ValueId g, Project(ctx, h, w_gate, "gate_projector"));
    K2L_ASSIGN_OR_RETURN(f, Mul(ctx, f, g));
  }
  K2L_ASSIGN_OR_RETURN(f, Project(ctx, f, w_out, "output_projector"));
  K2L_ASSIGN_OR_RETURN(x, Add(ctx, f, x));
  return std::vector<ValueId>{x, position_bias};
}

}  // namespace

Status RegisterHubT5Layers(Registry& r) {
  // keras-hub does not register these classes with Keras, which saves
  // their registered_name as the bare class name.
  K2L_RETURN_IF_ERROR(r.Register("T5LayerNorm", ConvertT5LayerNorm,
                                 "SQUARE, MEAN, ADD, RSQRT, MUL"));
  K2L_RETURN_IF_ERROR(r.Register(
      "T5TransformerLayer", ConvertT5TransformerLayer,
      "FULLY_CONNECTED, BATCH_MATMUL, SOFTMAX, RESHAPE, TRANSPOSE, SQUARE, "
      "MEAN, RSQRT, MUL, ADD, SUB, CAST, EXPAND_DIMS (+ SHAPE, GATHER, RANGE, "
      "MINIMUM, MAXIMUM for the relative position bias; GREATER_EQUAL, "
      "SELECT_V2 for the causal mask; CONCATENATION, FILL for a zero bias)",
      "key/value caches and quantized layers are refused"));
  return Status::Ok();
}

}  // namespace k2l::keras
