// BART (keras_hub.models.BartBackbone and BartSeq2SeqLM), as keras-hub 0.32
// builds it: one token embedding shared by both stacks, learned position
// embeddings per stack, summed and normalized; post-norm encoder blocks over
// the encoder's padding mask; decoder blocks with causal self-attention over
// the decoder's padding mask and cross-attention over the encoder's output
// and padding mask; logits from the token embedding, reversed.
#include "frontend/hub/graph_builder.h"
#include "frontend/hub/hyperparams.h"
#include "frontend/hub/task_registry.h"

namespace k2l::hub {

namespace {

// Token and position embeddings summed, normalized and dropped out, as
// BartBackbone embeds each of its two sequences.
json Embed(GraphBuilder& g, const json& tokens, const std::string& stack,
           int64_t max_len, double dropout) {
  json positions = g.Call("PositionEmbedding", stack + "_position_embedding",
                          {{"sequence_length", max_len}},
                          json::array({tokens}), json::object(),
                          "keras_hub>PositionEmbedding");
  json x = g.Call("Add", stack + "_embeddings_add", json::object(),
                  json::array({json::array({tokens, positions})}));
  x = g.Call("LayerNormalization", stack + "_embeddings_layer_norm",
             LayerNormConfig(1e-5),
             json::array({x}));
  return g.Call("Dropout", stack + "_embeddings_dropout", {{"rate", dropout}},
                json::array({x}), {{"training", false}});
}

}  // namespace

Result<TaskGraph> BuildBartSeq2SeqLM(const BuildInput& in) {
  Hyperparams hp(in.backbone, "BartBackbone");
  K2L_ASSIGN_OR_RETURN(TransformerSizes sizes, ReadTransformerSizes(hp));
  const auto [vocab, layers, heads, hidden, inter] = sizes;
  K2L_ASSIGN_OR_RETURN(int64_t max_len, hp.IntOr("max_sequence_length", 1024));
  K2L_ASSIGN_OR_RETURN(double dropout, hp.FloatOr("dropout", 0.1));
  GraphBuilder g(NameOr(in.backbone, "bart_backbone"));
  json enc_ids =
      g.Input("encoder_token_ids", "int32", {in.encoder_sequence_length});
  json enc_pad =
      g.Input("encoder_padding_mask", "int32", {in.encoder_sequence_length});
  json dec_ids =
      g.Input("decoder_token_ids", "int32", {in.decoder_sequence_length});
  json dec_pad =
      g.Input("decoder_padding_mask", "int32", {in.decoder_sequence_length});
  // One token embedding, called on the encoder's ids, the decoder's, and
  // (reversed) for the logits.
  json enc_tokens = g.Call("ReversibleEmbedding", "token_embedding",
                           ReversibleEmbeddingConfig(vocab, hidden, true),
                           json::array({enc_ids}));
  json x = Embed(g, enc_tokens, "encoder", max_len, dropout);
  for (int64_t i = 0; i < layers; ++i) {
    x = g.Call("TransformerEncoder",
               "transformer_encoder_layer_" + std::to_string(i),
               {{"intermediate_dim", inter},
                {"num_heads", heads},
                {"dropout", dropout},
                {"activation", "gelu"},
                {"layer_norm_epsilon", 1e-5},
                {"normalize_first", false}},
               json::array({x}), {{"padding_mask", enc_pad}},
               "keras_hub>TransformerEncoder");
  }
  const json encoder_output = x;
  json dec_tokens = g.CallAgain("token_embedding", json::array({dec_ids}));
  x = Embed(g, dec_tokens, "decoder", max_len, dropout);
  for (int64_t i = 0; i < layers; ++i) {
    x = g.Call("TransformerDecoder",
               "transformer_decoder_layer_" + std::to_string(i),
               {{"intermediate_dim", inter},
                {"num_heads", heads},
                {"dropout", dropout},
                {"activation", "gelu"},
                {"layer_norm_epsilon", 1e-5},
                {"normalize_first", false},
                {"decoder_sequence_shape", {nullptr, nullptr, hidden}},
                {"encoder_sequence_shape", {nullptr, nullptr, hidden}}},
               json::array({x}),
               {{"encoder_sequence", encoder_output},
                {"decoder_padding_mask", dec_pad},
                {"encoder_padding_mask", enc_pad}},
               "keras_hub>TransformerDecoder");
  }
  // BartSeq2SeqLM: the logits come from the token embedding, reversed.
  json logits = g.CallAgain("token_embedding", json::array({x}),
                            {{"reverse", true}});
  TaskGraph t;
  t.model = g.Build({{"encoder_token_ids", enc_ids},
                     {"encoder_padding_mask", enc_pad},
                     {"decoder_token_ids", dec_ids},
                     {"decoder_padding_mask", dec_pad}},
                    {{"logits", logits}});
  return t;
}

}  // namespace k2l::hub
