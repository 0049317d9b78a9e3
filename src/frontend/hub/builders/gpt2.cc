// GPT-2 (keras_hub.models.GPT2Backbone and GPT2CausalLM), as keras-hub
// 0.32 builds it: token and position embeddings, pre-norm decoder blocks
// with causal self-attention over the padding mask, a final LayerNorm, and
// logits from the tied token embedding.
#include "frontend/hub/graph_builder.h"
#include "frontend/hub/hyperparams.h"
#include "frontend/hub/task_registry.h"

namespace k2l::hub {

Result<TaskGraph> BuildGpt2CausalLM(const BuildInput& in) {
  Hyperparams hp(in.backbone, "GPT2Backbone");
  K2L_ASSIGN_OR_RETURN(TransformerSizes sizes, ReadTransformerSizes(hp));
  const auto [vocab, layers, heads, hidden, inter] = sizes;
  K2L_ASSIGN_OR_RETURN(int64_t max_len, hp.IntOr("max_sequence_length", 1024));
  K2L_ASSIGN_OR_RETURN(double dropout, hp.FloatOr("dropout", 0.1));
  GraphBuilder g(NameOr(in.backbone, "gpt2_backbone"));
  json token_ids = g.Input("token_ids", "int32", {in.sequence_length});
  json tokens = g.Call("ReversibleEmbedding", "token_embedding",
                       ReversibleEmbeddingConfig(vocab, hidden, true),
                       json::array({token_ids}));
  json positions = g.Call("PositionEmbedding", "position_embedding",
                          {{"sequence_length", max_len}},
                          json::array({tokens}), json::object(),
                          "keras_hub>PositionEmbedding");
  json x = g.Call("Add", "embeddings_add", json::object(),
                  json::array({json::array({tokens, positions})}));
  x = g.Call("Dropout", "embeddings_dropout", {{"rate", dropout}},
             json::array({x}), {{"training", false}});
  json padding_mask = g.Input("padding_mask", "int32", {in.sequence_length});
  for (int64_t i = 0; i < layers; ++i) {
    x = g.Call("TransformerDecoder", "transformer_layer_" + std::to_string(i),
               {{"intermediate_dim", inter},
                {"num_heads", heads},
                {"dropout", dropout},
                {"activation", GeluApproximate()},
                {"layer_norm_epsilon", 1e-5},
                {"normalize_first", true},
                {"decoder_sequence_shape", {nullptr, nullptr, hidden}},
                {"encoder_sequence_shape", nullptr}},
               json::array({x}), {{"decoder_padding_mask", padding_mask}},
               "keras_hub>TransformerDecoder");
  }
  x = g.Call("LayerNormalization", "layer_norm",
             LayerNormConfig(1e-5),
             json::array({x}));
  // GPT2CausalLM: the logits come from the token embedding, reversed.
  json logits = g.CallAgain("token_embedding", json::array({x}),
                            {{"reverse", true}});
  TaskGraph t;
  t.model = g.Build({{"token_ids", token_ids}, {"padding_mask", padding_mask}},
                    {{"logits", logits}});
  return t;
}

}  // namespace k2l::hub
