// Mistral (keras_hub.models.MistralBackbone and MistralCausalLM), as
// keras-hub 0.32 builds it: Llama's graph (see llama.cc) with Mistral's
// decoder blocks (sliding-window attention, an optional head_dim, linear
// rope scaling) and an untied output embedding.
#include "frontend/hub/builders/decoder_lm.h"
#include "frontend/hub/hyperparams.h"
#include "frontend/hub/task_registry.h"

namespace k2l::hub {

Result<TaskGraph> BuildMistralCausalLM(const BuildInput& in) {
  const std::string owner = "MistralBackbone";
  K2L_RETURN_IF_ERROR(RequireKnownHyperparams(
      in.backbone, owner,
      {"name", "trainable", "dtype", "vocabulary_size", "num_layers",
       "num_query_heads", "hidden_dim", "intermediate_dim",
       "num_key_value_heads", "rope_max_wavelength", "rope_scaling_factor",
       "layer_norm_epsilon", "sliding_window", "dropout", "head_dim"}));
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
  K2L_ASSIGN_OR_RETURN(double scaling, hp.FloatOr("rope_scaling_factor", 1.0));
  K2L_ASSIGN_OR_RETURN(double dropout, hp.FloatOr("dropout", 0));
  // sliding_window: absent means keras-hub's default 512; null means none.
  json window = in.backbone.contains("sliding_window")
                    ? in.backbone["sliding_window"]
                    : json(512);
  if (!window.is_null()) {
    K2L_ASSIGN_OR_RETURN(int64_t w, hp.IntOr("sliding_window", 512));
    window = w;
  }
  json head_dim = nullptr;
  if (in.backbone.contains("head_dim") && !in.backbone["head_dim"].is_null()) {
    K2L_ASSIGN_OR_RETURN(int64_t hd, hp.Int("head_dim"));
    head_dim = hd;
  } else if (heads == 0 || m.hidden % heads != 0) {
    return Status::Invalid(owner + ": hidden_dim " + std::to_string(m.hidden) +
                           " is not a multiple of num_query_heads " +
                           std::to_string(heads) +
                           ". The preset's config is inconsistent");
  }
  m.name = in.backbone.value("name", json("mistral_backbone")).is_string()
               ? in.backbone.value("name", "mistral_backbone")
               : "mistral_backbone";
  m.decoder_class = "MistralTransformerDecoder";
  m.norm_class = "MistralLayerNormalization";
  m.tie_weights = false;
  m.decoder_config = {{"intermediate_dim", inter},
                      {"num_query_heads", heads},
                      {"num_key_value_heads", kv_heads},
                      {"rope_max_wavelength", wavelength},
                      {"rope_scaling_factor", scaling},
                      {"activation", "silu"},
                      {"layer_norm_epsilon", m.epsilon},
                      {"sliding_window", window},
                      {"dropout", dropout},
                      {"head_dim", head_dim}};
  K2L_ASSIGN_OR_RETURN(json model, DecoderLMGraph(m, in.sequence_length));
  TaskGraph t;
  t.model = std::move(model);
  return t;
}

}  // namespace k2l::hub
