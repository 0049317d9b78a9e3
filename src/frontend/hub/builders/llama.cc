// Llama, Llama 3 and Mistral (keras_hub.models.LlamaBackbone,
// Llama3Backbone, MistralBackbone and their CausalLM tasks), as keras-hub
// 0.32 builds them: a token embedding, pre-norm decoder blocks (RMS norms,
// grouped-query attention with rotary embeddings, SwiGLU feedforward) over
// the padding mask, a final RMS norm, and logits from the token embedding
// reversed (its own reverse_embeddings unless tie_word_embeddings).
// There is no position table, so one file runs at any sequence length.
#include <set>

#include "frontend/hub/builders/decoder_lm.h"
#include "frontend/hub/graph_builder.h"
#include "frontend/hub/hyperparams.h"
#include "frontend/hub/task_registry.h"

namespace k2l::hub {

Result<TaskGraph> BuildLlamaCausalLM(const BuildInput& in) {
  const std::string owner = "LlamaBackbone";
  K2L_RETURN_IF_ERROR(RequireKnownHyperparams(
      in.backbone, owner,
      {"name", "trainable", "dtype", "vocabulary_size", "num_layers",
       "num_query_heads", "hidden_dim", "intermediate_dim",
       "num_key_value_heads", "rope_max_wavelength",
       "rope_position_scaling_factor", "rope_frequency_adjustment_factor",
       "rope_low_freq_factor", "rope_high_freq_factor",
       "rope_pretraining_sequence_length", "layer_norm_epsilon", "dropout",
       "tie_word_embeddings"}));
  Hyperparams hp(in.backbone, owner);
  DecoderLM m;
  K2L_ASSIGN_OR_RETURN(m.vocab, hp.Int("vocabulary_size"));
  K2L_ASSIGN_OR_RETURN(m.layers, hp.Int("num_layers"));
  K2L_ASSIGN_OR_RETURN(m.hidden, hp.Int("hidden_dim"));
  K2L_ASSIGN_OR_RETURN(int64_t heads, hp.Int("num_query_heads"));
  K2L_ASSIGN_OR_RETURN(int64_t kv_heads, hp.Int("num_key_value_heads"));
  K2L_ASSIGN_OR_RETURN(int64_t inter, hp.Int("intermediate_dim"));
  K2L_ASSIGN_OR_RETURN(m.epsilon, hp.FloatOr("layer_norm_epsilon", 1e-6));
  K2L_ASSIGN_OR_RETURN(double wavelength,
                       hp.FloatOr("rope_max_wavelength", 10000));
  K2L_ASSIGN_OR_RETURN(double dropout, hp.FloatOr("dropout", 0));
  K2L_ASSIGN_OR_RETURN(m.tie_weights, hp.BoolOr("tie_word_embeddings", false));
  if (heads == 0 || m.hidden % heads != 0) {
    return Status::Invalid(owner + ": hidden_dim " + std::to_string(m.hidden) +
                           " is not a multiple of num_query_heads " +
                           std::to_string(heads) +
                           ". The preset's config is inconsistent");
  }
  m.name = in.backbone.value("name", json("llama_backbone")).is_string()
               ? in.backbone.value("name", "llama_backbone")
               : "llama_backbone";
  m.decoder_class = "LlamaTransformerDecoder";
  m.norm_class = "LlamaLayerNorm";
  m.decoder_config = {{"intermediate_dim", inter},
                      {"num_query_heads", heads},
                      {"num_key_value_heads", kv_heads},
                      {"rope_max_wavelength", wavelength},
                      {"activation", "silu"},
                      {"layer_norm_epsilon", m.epsilon},
                      {"dropout", dropout}};
  for (const char* k : {"rope_position_scaling_factor",
                        "rope_frequency_adjustment_factor",
                        "rope_low_freq_factor", "rope_high_freq_factor",
                        "rope_pretraining_sequence_length"}) {
    const json& v = in.backbone.value(k, json());
    if (!v.is_null() && !v.is_number()) {
      return Status::Invalid(owner + ": the hyperparameter '" +
                             std::string(k) + "' is " + v.dump() +
                             ", not a number");
    }
    m.decoder_config[k] = v;
  }
  K2L_ASSIGN_OR_RETURN(json model, DecoderLMGraph(m, in.sequence_length));
  TaskGraph t;
  t.model = std::move(model);
  return t;
}

}  // namespace k2l::hub
