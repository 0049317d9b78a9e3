#include "frontend/hub/builders/decoder_lm.h"

namespace k2l::hub {

Status RequireKnownHyperparams(const json& config, const std::string& owner,
                               const std::set<std::string>& known) {
  if (!config.is_object()) {
    return Status::Invalid(owner + ": the backbone config is not an object");
  }
  std::string unknown;
  for (auto it = config.begin(); it != config.end(); ++it) {
    if (!known.count(it.key())) {
      unknown += (unknown.empty() ? "'" : ", '") + it.key() + "'";
    }
  }
  if (unknown.empty()) return Status::Ok();
  return Status::Invalid(
      owner + ": the hyperparameter(s) " + unknown +
      " are not supported by keras2litert's builder (it rebuilds the network "
      "keras-hub 0.32 builds, which has no such argument). Save the preset "
      "with keras-hub 0.32, or remove the hyperparameter if it keeps its "
      "default");
}

// The decoder and norm classes are not registered with Keras by keras-hub,
// so Keras saves their registered_name as the bare class name; so do we.
Result<json> DecoderLMGraph(const DecoderLM& m, int64_t sequence_length) {
  GraphBuilder g(m.name);
  json token_ids = g.Input("token_ids", "int32", {sequence_length});
  json padding_mask = g.Input("padding_mask", "int32", {sequence_length});
  json x = g.Call("ReversibleEmbedding", "token_embedding",
                  ReversibleEmbeddingConfig(m.vocab, m.hidden, m.tie_weights),
                  json::array({token_ids}));
  for (int64_t i = 0; i < m.layers; ++i) {
    x = g.Call(m.decoder_class, "transformer_layer_" + std::to_string(i),
               m.decoder_config, json::array({x}),
               {{"decoder_padding_mask", padding_mask}},
               m.decoder_class);
  }
  x = g.Call(m.norm_class, "sequence_output_layernorm",
             {{"epsilon", m.epsilon}}, json::array({x}), json::object(),
             m.norm_class);
  json logits = g.CallAgain("token_embedding", json::array({x}),
                            {{"reverse", true}});
  return g.Build({{"token_ids", token_ids}, {"padding_mask", padding_mask}},
                 {{"logits", logits}});
}

}  // namespace k2l::hub
