// T5 (keras_hub.models.T5Backbone and T5Seq2SeqLM), as keras-hub 0.32
// builds them: one token embedding shared by the encoder and the decoder;
// an encoder stack of T5TransformerLayers over the padding mask
// (mask[:, None, :], a keras.ops GetItem as keras-hub writes it), the first
// of which computes the relative position bias the others reuse; a final
// T5LayerNorm; a decoder stack, causal, with cross-attention over the
// encoder's output; a final T5LayerNorm; and the logits of
// T5Seq2SeqLM._logits: the tied token embedding reversed after scaling by
// hidden_dim ** -0.5, or the untied reverse embedding.
// The relative bias runs at any length, so the lengths may stay dynamic.
#include <cmath>

#include "frontend/hub/builders/decoder_lm.h"
#include "frontend/hub/graph_builder.h"
#include "frontend/hub/hyperparams.h"
#include "frontend/hub/task_registry.h"

namespace k2l::hub {

Result<TaskGraph> BuildT5Seq2SeqLM(const BuildInput& in) {
  const std::string owner = "T5Backbone";
  K2L_RETURN_IF_ERROR(RequireKnownHyperparams(
      in.backbone, owner,
      {"name", "trainable", "dtype", "vocabulary_size", "num_layers",
       "num_heads", "hidden_dim", "intermediate_dim", "key_value_dim",
       "dropout", "activation", "use_gated_activation", "layer_norm_epsilon",
       "tie_embedding_weights"}));
  Hyperparams hp(in.backbone, owner);
  K2L_ASSIGN_OR_RETURN(int64_t vocab, hp.Int("vocabulary_size"));
  K2L_ASSIGN_OR_RETURN(int64_t layers, hp.Int("num_layers"));
  K2L_ASSIGN_OR_RETURN(int64_t heads, hp.Int("num_heads"));
  K2L_ASSIGN_OR_RETURN(int64_t hidden, hp.Int("hidden_dim"));
  K2L_ASSIGN_OR_RETURN(int64_t inter, hp.Int("intermediate_dim"));
  K2L_ASSIGN_OR_RETURN(double dropout, hp.FloatOr("dropout", 0.1));
  K2L_ASSIGN_OR_RETURN(double epsilon, hp.FloatOr("layer_norm_epsilon", 1e-6));
  K2L_ASSIGN_OR_RETURN(bool gated, hp.BoolOr("use_gated_activation", true));
  K2L_ASSIGN_OR_RETURN(bool tie, hp.BoolOr("tie_embedding_weights", true));
  // key_value_dim or hidden_dim // num_heads, as T5Backbone passes it.
  int64_t head_dim = 0;
  const json& kv = in.backbone.value("key_value_dim", json());
  if (kv.is_null()) {
    K2L_RETURN_IF_ERROR(
        hp.RequireMultiple("hidden_dim", hidden, "num_heads", heads));
    head_dim = hidden / heads;
  } else {
    K2L_ASSIGN_OR_RETURN(head_dim, hp.Int("key_value_dim"));
    if (head_dim <= 0 || heads <= 0) {
      return Status::Invalid(owner + ": key_value_dim " +
                             std::to_string(head_dim) + " and num_heads " +
                             std::to_string(heads) +
                             " must be positive. Fix the preset's config");
    }
  }
  const json activation = in.backbone.value("activation", json("relu"));

  GraphBuilder g(NameOr(in.backbone, "t5_backbone"));
  const int64_t enc_len = in.encoder_sequence_length;
  const int64_t dec_len = in.decoder_sequence_length;
  json enc_ids = g.Input("encoder_token_ids", "int32", {enc_len});
  json enc_pad = g.Input("encoder_padding_mask", "int32", {enc_len});
  json dec_ids = g.Input("decoder_token_ids", "int32", {dec_len});
  json dec_pad = g.Input("decoder_padding_mask", "int32", {dec_len});
  json x = g.Call("ReversibleEmbedding", "token_embedding",
                  {{"input_dim", vocab},
                   {"output_dim", hidden},
                   {"tie_weights", tie},
                   {"mask_zero", false},
                   {"reverse_dtype", nullptr},
                   {"logit_soft_cap", nullptr}},
                  json::array({enc_ids}));
  x = g.Call("Dropout", "encoder_embedding_dropout", {{"rate", dropout}},
             json::array({x}), {{"training", false}});
  // padding_mask[:, None, :]
  const json all = {
      {"class_name", "__slice__"},
      {"config", {{"start", nullptr}, {"stop", nullptr}, {"step", nullptr}}}};
  const json key = json::array({all, nullptr, all});
  json enc_mask = g.CallOp("keras.src.ops.numpy", "GetItem", "get_item",
                           json::array({enc_pad, key}));
  auto layer_config = [&](bool decoder, int64_t i) -> json {
    return {{"is_decoder", decoder},
            {"hidden_dim", hidden},
            {"intermediate_dim", inter},
            {"key_value_dim", head_dim},
            {"dropout", dropout},
            {"activation", activation},
            {"layer_norm_epsilon", epsilon},
            {"num_heads", heads},
            {"use_gated_activation", gated},
            {"use_relative_attention_bias", i == 0}};
  };
  json bias = nullptr;
  for (int64_t i = 0; i < layers; ++i) {
    const std::string name = "transformer_encoder_layer_" + std::to_string(i);
    g.Call("T5TransformerLayer", name, layer_config(false, i), json::array({x}),
           {{"attention_mask", enc_mask},
            {"position_bias", bias},
            {"use_causal_mask", false}},
           "T5TransformerLayer");
    x = GraphBuilder::Tensor(name, 0, 0);
    bias = GraphBuilder::Tensor(name, 0, 1);
  }
  x = g.Call("T5LayerNorm", "encoder_output_layer_norm", {{"epsilon", epsilon}},
             json::array({x}), json::object(), "T5LayerNorm");
  json encoder_output =
      g.Call("Dropout", "encoder_output_dropout", {{"rate", dropout}},
             json::array({x}), {{"training", false}});

  x = g.CallAgain("token_embedding", json::array({dec_ids}));
  x = g.Call("Dropout", "decoder_embedding_dropout", {{"rate", dropout}},
             json::array({x}), {{"training", false}});
  json dec_mask = g.CallOp("keras.src.ops.numpy", "GetItem", "get_item_1",
                           json::array({dec_pad, key}));
  bias = nullptr;
  for (int64_t i = 0; i < layers; ++i) {
    const std::string name = "transformer_decoder_layer_" + std::to_string(i);
    g.Call("T5TransformerLayer", name, layer_config(true, i), json::array({x}),
           {{"attention_mask", dec_mask},
            {"position_bias", bias},
            {"encoder_hidden_states", encoder_output},
            {"encoder_attention_mask", enc_mask},
            {"use_causal_mask", true}},
           "T5TransformerLayer");
    x = GraphBuilder::Tensor(name, 0, 0);
    bias = GraphBuilder::Tensor(name, 0, 1);
  }
  x = g.Call("T5LayerNorm", "decoder_output_layer_norm", {{"epsilon", epsilon}},
             json::array({x}), json::object(), "T5LayerNorm");
  x = g.Call("Dropout", "decoder_output_dropout", {{"rate", dropout}},
             json::array({x}), {{"training", false}});
  if (tie) {
    // ops.multiply(x, ops.cast(hidden_dim ** -0.5, x.dtype)).
    x = g.CallOp("keras.src.ops.numpy", "Multiply", "multiply",
                 json::array({x, std::pow(static_cast<double>(hidden), -0.5)}));
  }
  json logits =
      g.CallAgain("token_embedding", json::array({x}), {{"reverse", true}});
  TaskGraph t;
  t.model = g.Build({{"encoder_token_ids", enc_ids},
                     {"encoder_padding_mask", enc_pad},
                     {"decoder_token_ids", dec_ids},
                     {"decoder_padding_mask", dec_pad}},
                    {{"logits", logits}});
  return t;
}

}  // namespace k2l::hub
