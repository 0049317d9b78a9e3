// Keras-Hub's Llama and Mistral layers (keras_hub.src.models.llama and
// .mistral): their RMS norms and their decoder blocks, which are the same
// pre-norm block: RMS norm, grouped-query self-attention with rotary
// embeddings under the causal mask merged with the padding mask (Mistral:
// and a sliding window), a residual, RMS norm, a SwiGLU feedforward
// (output(intermediate(x) * silu(gate(x)))), a residual; no biases.
//
// LlamaTransformerDecoder's get_config is broken in keras-hub 0.32 (it
// reads an attribute that does not exist), so its config here is the one
// the Llama builder writes: the constructor's arguments.
#include <cmath>

#include "frontend/keras/activations.h"
#include "frontend/keras/decoder_blocks.h"
#include "frontend/keras/einsum_lowering.h"
#include "frontend/keras/registry.h"

namespace k2l::keras {

using ir::OpKind;
using ir::ValueId;

namespace {

Result<std::vector<ValueId>> ConvertHubRmsNorm(LayerContext& ctx) {
  K2L_ASSIGN_OR_RETURN(double eps, ctx.FloatOr("epsilon", 1e-6));
  K2L_ASSIGN_OR_RETURN(auto w, ctx.Weights({"scale"}));
  K2L_ASSIGN_OR_RETURN(ValueId y,
                       RmsNormLastAxis(ctx, ctx.input(), w[0], eps, "norm"));
  return std::vector<ValueId>{y};
}

// What differs between the Llama and Mistral blocks.
struct DecoderSpec {
  int64_t heads = 0, kv_heads = 0, head_dim = 0, intermediate = 0;
  double epsilon = 1e-5;
  int64_t sliding_window = 0;  // 0: none
  std::vector<float> inv_freq;
};

Result<ir::TensorData> Scaled(const ir::TensorData& t, float s) {
  std::vector<float> v(t.as<float>().begin(), t.as<float>().end());
  for (float& x : v) x *= s;
  return ir::TensorData::FromVector(ir::DType::kFloat32, t.shape(), v);
}

Status RequireSilu(LayerContext& ctx) {
  if (!ctx.Has("activation")) return Status::Ok();
  const nlohmann::json& a = ctx.config()["activation"];
  std::string name;
  if (a.is_string()) name = a.get<std::string>();
  if (a.is_object() && a.value("config", nlohmann::json()).is_string()) {
    name = a["config"].get<std::string>();
  }
  if (name == "silu" || name == "swish") return Status::Ok();
  return ctx.Invalid("its activation " + a.dump() +
                         " is not supported; keras-hub builds this block "
                         "with silu (SwiGLU)",
                     "Use activation 'silu'");
}

Result<std::vector<ValueId>> ConvertDecoderBlock(LayerContext& ctx,
                                                 const DecoderSpec& d) {
  for (const char* k : {"decoder_attention_mask", "self_attention_cache",
                        "self_attention_cache_update_index"}) {
    if (ctx.KwargInputs(k)) {
      return {ctx.Invalid(std::string("it is called with ") + k +
                              ", which is not supported",
                          "Export the model without a cache or custom "
                          "attention mask (the padding mask is supported)")};
    }
  }
  K2L_ASSIGN_OR_RETURN(ValueId pad, ctx.KwargInput("decoder_padding_mask"));
  ValueId x = ctx.input();
  if (ctx.rank(x) != 3) {
    return {ctx.Invalid("its input has shape " +
                            ir::ShapeToString(ctx.shape(x)),
                        "Pass a [batch, sequence, hidden] input")};
  }
  const int64_t hidden = ctx.shape(x)[2];
  if (hidden == ir::kDynamic) {
    return {ctx.Invalid("its hidden size is not fixed",
                        "Give the input a fixed last dim")};
  }
  const std::vector<std::string> attn = {"_self_attention_layer"};
  auto sub = [&](const std::string& s) {
    std::vector<std::string> p = attn;
    p.push_back(s);
    return p;
  };
  size_t off = 0;
  K2L_ASSIGN_OR_RETURN(auto wq, ctx.SubWeights(sub("_query_dense"), {"kernel"},
                                               off++));
  K2L_ASSIGN_OR_RETURN(auto wk,
                       ctx.SubWeights(sub("_key_dense"), {"kernel"}, off++));
  K2L_ASSIGN_OR_RETURN(auto wv,
                       ctx.SubWeights(sub("_value_dense"), {"kernel"}, off++));
  K2L_ASSIGN_OR_RETURN(auto wo, ctx.SubWeights(sub("_output_dense"),
                                               {"kernel"}, off++));
  K2L_ASSIGN_OR_RETURN(auto n1, ctx.SubWeights({"_self_attention_layernorm"},
                                               {"scale"}, off++));
  K2L_ASSIGN_OR_RETURN(auto wi,
                       ctx.SubWeights({"_feedforward_intermediate_dense"},
                                      {"kernel"}, off++));
  K2L_ASSIGN_OR_RETURN(auto wg, ctx.SubWeights({"_feedforward_gate_dense"},
                                               {"kernel"}, off++));
  K2L_ASSIGN_OR_RETURN(auto wout, ctx.SubWeights({"_feedforward_output_dense"},
                                                 {"kernel"}, off++));
  K2L_ASSIGN_OR_RETURN(auto n2, ctx.SubWeights({"_feedforward_layernorm"},
                                               {"scale"}, off++));
  const int64_t H = d.heads, KV = d.kv_heads, D = d.head_dim;
  K2L_RETURN_IF_ERROR(ctx.ExpectWeightShape(wq[0], "query kernel",
                                            {hidden, H, D}));
  K2L_RETURN_IF_ERROR(ctx.ExpectWeightShape(wk[0], "key kernel",
                                            {hidden, KV, D}));
  K2L_RETURN_IF_ERROR(ctx.ExpectWeightShape(wv[0], "value kernel",
                                            {hidden, KV, D}));
  K2L_RETURN_IF_ERROR(ctx.ExpectWeightShape(wo[0], "attention output kernel",
                                            {H, D, hidden}));
  const int64_t I = d.intermediate;
  K2L_RETURN_IF_ERROR(ctx.ExpectWeightShape(wi[0], "feedforward intermediate "
                                            "kernel", {hidden, I}));
  K2L_RETURN_IF_ERROR(ctx.ExpectWeightShape(wg[0], "feedforward gate kernel",
                                            {hidden, I}));
  K2L_RETURN_IF_ERROR(ctx.ExpectWeightShape(wout[0], "feedforward output "
                                            "kernel", {I, hidden}));

  // Self-attention. The 1/sqrt(head_dim) score scale is folded into the
  // query kernel (rotation is linear, so it commutes).
  K2L_ASSIGN_OR_RETURN(ValueId mask,
                       DecoderSelfAttentionMask(ctx, x, pad, d.sliding_window));
  K2L_ASSIGN_OR_RETURN(ValueId h, RmsNormLastAxis(ctx, x, n1[0], d.epsilon,
                                                  "self_attention_layernorm"));
  K2L_ASSIGN_OR_RETURN(
      auto wq_scaled,
      Scaled(wq[0], static_cast<float>(1.0 / std::sqrt(static_cast<double>(D)))));
  K2L_ASSIGN_OR_RETURN(ValueId q, LowerEinsumDense(ctx, h, "bqm,muh->bquh",
                                                   wq_scaled, nullptr, "",
                                                   "query"));
  K2L_ASSIGN_OR_RETURN(ValueId k, LowerEinsumDense(ctx, h, "bkm,mvh->bkvh",
                                                   wk[0], nullptr, "", "key"));
  K2L_ASSIGN_OR_RETURN(ValueId v, LowerEinsumDense(ctx, h, "bkm,mvh->bkvh",
                                                   wv[0], nullptr, "",
                                                   "value"));
  K2L_ASSIGN_OR_RETURN(RotaryTables rope, RotaryCosSin(ctx, x, d.inv_freq));
  K2L_ASSIGN_OR_RETURN(q, ApplyRotary(ctx, q, rope));
  K2L_ASSIGN_OR_RETURN(k, ApplyRotary(ctx, k, rope));
  // keras-hub takes ops.dot_product_attention on JAX (the backend presets
  // are made with); it differs from the softmax path only on rows that
  // see no key at all.
  K2L_ASSIGN_OR_RETURN(ValueId a,
                       GroupedQueryAttention(ctx, q, k, v, mask, H, KV,
                                             SoftmaxPath::kDotProductAttention));
  K2L_ASSIGN_OR_RETURN(a, LowerEinsumDense(ctx, a, "bquh,uhm->bqm", wo[0],
                                           nullptr, "", "attention_output"));
  K2L_ASSIGN_OR_RETURN(x, ctx.Op(OpKind::kAdd, {a, x}, ir::BinaryAttrs{}));

  // SwiGLU feedforward.
  K2L_ASSIGN_OR_RETURN(h, RmsNormLastAxis(ctx, x, n2[0], d.epsilon,
                                          "feedforward_layernorm"));
  K2L_ASSIGN_OR_RETURN(ValueId gate,
                       LowerEinsumDense(ctx, h, "...b,bc->...c", wg[0],
                                        nullptr, "", "feedforward_gate_dense"));
  K2L_ASSIGN_OR_RETURN(gate, ApplyActivation(ctx, gate, nlohmann::json("silu")));
  K2L_ASSIGN_OR_RETURN(
      ValueId up, LowerEinsumDense(ctx, h, "...b,bc->...c", wi[0], nullptr, "",
                                   "feedforward_intermediate_dense"));
  K2L_ASSIGN_OR_RETURN(up, ctx.Op(OpKind::kMul, {up, gate}, ir::BinaryAttrs{}));
  K2L_ASSIGN_OR_RETURN(
      ValueId out, LowerEinsumDense(ctx, up, "...b,bc->...c", wout[0], nullptr,
                                    "", "feedforward_output_dense"));
  K2L_ASSIGN_OR_RETURN(out, ctx.Op(OpKind::kAdd, {out, x}, ir::BinaryAttrs{}));
  return std::vector<ValueId>{out};
}

// The heads, checked: num_query_heads a multiple of num_key_value_heads.
Status ReadHeads(LayerContext& ctx, DecoderSpec& d) {
  K2L_ASSIGN_OR_RETURN(d.heads, ctx.Int("num_query_heads"));
  K2L_ASSIGN_OR_RETURN(d.kv_heads, ctx.Int("num_key_value_heads"));
  K2L_ASSIGN_OR_RETURN(d.intermediate, ctx.Int("intermediate_dim"));
  K2L_ASSIGN_OR_RETURN(d.epsilon, ctx.FloatOr("layer_norm_epsilon", 1e-5));
  if (d.heads <= 0 || d.kv_heads <= 0 || d.heads % d.kv_heads != 0) {
    return ctx.Invalid("num_query_heads " + std::to_string(d.heads) +
                           " is not a positive multiple of "
                           "num_key_value_heads " +
                           std::to_string(d.kv_heads),
                       "Fix the model's config");
  }
  return RequireSilu(ctx);
}

Status CheckHeadDim(LayerContext& ctx, int64_t head_dim) {
  if (head_dim <= 0 || head_dim % 2 != 0) {
    return ctx.Invalid("its head dim " + std::to_string(head_dim) +
                           " is not a positive even number, which rotary "
                           "embeddings need",
                       "Fix the model's config");
  }
  return Status::Ok();
}

Result<std::vector<ValueId>> ConvertLlamaDecoder(LayerContext& ctx) {
  DecoderSpec d;
  K2L_RETURN_IF_ERROR(ReadHeads(ctx, d));
  const int64_t hidden = ctx.shape(ctx.input()).back();
  if (hidden % d.heads != 0) {
    return {ctx.Invalid("its hidden size " + std::to_string(hidden) +
                            " is not a multiple of num_query_heads " +
                            std::to_string(d.heads),
                        "Fix the model's config")};
  }
  d.head_dim = hidden / d.heads;
  K2L_RETURN_IF_ERROR(CheckHeadDim(ctx, d.head_dim));
  K2L_ASSIGN_OR_RETURN(double wl, ctx.FloatOr("rope_max_wavelength", 10000));
  // LlamaRotaryEmbedding overrides the inverse frequencies without the
  // position scaling factor, so keras-hub ignores
  // rope_position_scaling_factor; so does this converter.
  const char* llama31[] = {"rope_frequency_adjustment_factor",
                           "rope_low_freq_factor", "rope_high_freq_factor",
                           "rope_pretraining_sequence_length"};
  int set = 0;
  double v[4] = {0, 0, 0, 0};
  for (int i = 0; i < 4; ++i) {
    if (ctx.Has(llama31[i]) && !ctx.config()[llama31[i]].is_null()) {
      K2L_ASSIGN_OR_RETURN(v[i], ctx.Float(llama31[i]));
      ++set;
    }
  }
  if (set != 0 && set != 4) {
    return {ctx.Invalid(
        "only some of rope_frequency_adjustment_factor, rope_low_freq_factor, "
        "rope_high_freq_factor and rope_pretraining_sequence_length are set",
        "Set all four (Llama 3.1 rope scaling) or none")};
  }
  if (set == 4) {
    if (v[1] == v[2] || v[0] == 0) {
      return {ctx.Invalid("rope_low_freq_factor equals rope_high_freq_factor "
                          "or rope_frequency_adjustment_factor is 0",
                          "Fix the model's config")};
    }
    d.inv_freq = Llama3RopeInverseFrequencies(d.head_dim, wl, v[0], v[1], v[2],
                                              v[3]);
  } else {
    d.inv_freq = RopeInverseFrequencies(d.head_dim, wl, 1.0);
  }
  return ConvertDecoderBlock(ctx, d);
}

Result<std::vector<ValueId>> ConvertMistralDecoder(LayerContext& ctx) {
  DecoderSpec d;
  K2L_RETURN_IF_ERROR(ReadHeads(ctx, d));
  const int64_t hidden = ctx.shape(ctx.input()).back();
  if (ctx.Has("head_dim") && !ctx.config()["head_dim"].is_null()) {
    K2L_ASSIGN_OR_RETURN(d.head_dim, ctx.Int("head_dim"));
  } else {
    d.head_dim = hidden / d.heads;
  }
  K2L_RETURN_IF_ERROR(CheckHeadDim(ctx, d.head_dim));
  if (ctx.Has("sliding_window") && !ctx.config()["sliding_window"].is_null()) {
    K2L_ASSIGN_OR_RETURN(d.sliding_window, ctx.Int("sliding_window"));
    if (d.sliding_window <= 0) {
      return {ctx.Invalid("its sliding_window " +
                              std::to_string(d.sliding_window) +
                              " is not positive",
                          "Use a positive window, or null for none")};
    }
  }
  K2L_ASSIGN_OR_RETURN(double wl, ctx.FloatOr("rope_max_wavelength", 10000));
  K2L_ASSIGN_OR_RETURN(double sf, ctx.FloatOr("rope_scaling_factor", 1.0));
  if (sf <= 0) {
    return {ctx.Invalid("its rope_scaling_factor " + std::to_string(sf) +
                            " is not positive",
                        "Fix the model's config")};
  }
  d.inv_freq = RopeInverseFrequencies(d.head_dim, wl, sf);
  return ConvertDecoderBlock(ctx, d);
}

}  // namespace

Status RegisterHubLlamaLayers(Registry& r) {
  const std::string norm_ops = "SQUARE, MEAN, ADD, RSQRT, MUL";
  K2L_RETURN_IF_ERROR(r.Register("LlamaLayerNorm", ConvertHubRmsNorm, norm_ops));
  K2L_RETURN_IF_ERROR(
      r.Register("MistralLayerNormalization", ConvertHubRmsNorm, norm_ops));
  const std::string block_ops =
      "FULLY_CONNECTED, BATCH_MATMUL, SOFTMAX, GATHER, SHAPE, SLICE, RANGE, "
      "CAST, MUL, ADD, SUB, SQUARE, MEAN, RSQRT, SPLIT, NEG, CONCATENATION, "
      "SELECT_V2, GREATER_EQUAL, LESS, EXPAND_DIMS, RESHAPE, TRANSPOSE, "
      "LOGISTIC";
  const std::string limits =
      "no KV cache or decoder_attention_mask; activation must be silu";
  K2L_RETURN_IF_ERROR(r.Register("LlamaTransformerDecoder",
                                 ConvertLlamaDecoder, block_ops, limits));
  K2L_RETURN_IF_ERROR(r.Register("MistralTransformerDecoder",
                                 ConvertMistralDecoder, block_ops, limits));
  return Status::Ok();
}

}  // namespace k2l::keras
