// Gemma 3, text only (keras_hub.models.Gemma3Backbone with
// vision_encoder=None, and Gemma3CausalLM), as keras-hub 0.32 builds it:
// the token embedding scaled by sqrt(hidden_dim), Gemma3DecoderBlocks
// (query/key norms; five local layers with a sliding window and rope
// wavelength 10000 for each global one with 1000000; each with its rope
// scaling factor), a final RMSNormalization, and logits from the tied token
// embedding with the final soft cap.
#include "frontend/hub/builders/gemma_common.h"

namespace k2l::hub {

Result<TaskGraph> BuildGemma3CausalLM(const BuildInput& in) {
  const std::string owner = "Gemma3Backbone";
  Hyperparams hp(in.backbone, owner);
  const json& c = in.backbone;
  auto refuse = [&](const std::string& key, const std::string& what,
                    const std::string& fix) {
    return Status::Invalid(owner + ": the hyperparameter '" + key + "' is " +
                           c[key].dump() + ": " + what + ". " + fix);
  };
  if (c.contains("vision_encoder") && !c["vision_encoder"].is_null()) {
    return Status::Invalid(
        owner + ": the hyperparameter 'vision_encoder' is set: keras2litert "
        "exports Gemma 3 text only. Export a text-only preset "
        "(vision_encoder=None)");
  }
  K2L_ASSIGN_OR_RETURN(bool embedding_model,
                       hp.BoolOr("is_embedding_model", false));
  if (embedding_model) {
    return refuse("is_embedding_model",
                  "an embedding model's pooled outputs are not a CausalLM's "
                  "logits",
                  "Export a CausalLM preset with is_embedding_model=False");
  }
  K2L_ASSIGN_OR_RETURN(bool bidir,
                       hp.BoolOr("use_bidirectional_attention", false));
  if (bidir) {
    return refuse("use_bidirectional_attention",
                  "bidirectional attention is not supported, only the causal "
                  "attention of the decoder",
                  "Use use_bidirectional_attention=False");
  }
  gemma::FamilyGraph f;
  f.backbone_class = owner;
  f.block_class = "Gemma3DecoderBlock";
  f.default_name = "gemma3_backbone";
  K2L_ASSIGN_OR_RETURN(f.vocab, hp.Int("vocabulary_size"));
  K2L_ASSIGN_OR_RETURN(f.layers, hp.Int("num_layers"));
  K2L_ASSIGN_OR_RETURN(f.hidden, hp.Int("hidden_dim"));
  K2L_ASSIGN_OR_RETURN(int64_t heads, hp.Int("num_query_heads"));
  K2L_ASSIGN_OR_RETURN(int64_t kv_heads, hp.Int("num_key_value_heads"));
  K2L_ASSIGN_OR_RETURN(int64_t inter, hp.Int("intermediate_dim"));
  K2L_ASSIGN_OR_RETURN(int64_t head_dim, hp.Int("head_dim"));
  K2L_ASSIGN_OR_RETURN(f.epsilon, hp.FloatOr("layer_norm_epsilon", 1e-6));
  K2L_ASSIGN_OR_RETURN(double dropout, hp.FloatOr("dropout", 0.0));
  K2L_ASSIGN_OR_RETURN(int64_t window, hp.IntOr("sliding_window_size", 1024));
  K2L_ASSIGN_OR_RETURN(double local_scale,
                       hp.FloatOr("local_rope_scaling_factor", 1.0));
  K2L_ASSIGN_OR_RETURN(double global_scale,
                       hp.FloatOr("global_rope_scaling_factor", 1.0));
  K2L_ASSIGN_OR_RETURN(bool qnorm, hp.BoolOr("query_head_dim_normalize", true));
  K2L_ASSIGN_OR_RETURN(bool qk_norm, hp.BoolOr("use_query_key_norm", true));
  K2L_ASSIGN_OR_RETURN(bool post_ffw, hp.BoolOr("use_post_ffw_norm", false));
  K2L_ASSIGN_OR_RETURN(bool post_att, hp.BoolOr("use_post_attention_norm", false));
  K2L_ASSIGN_OR_RETURN(bool sliding, hp.BoolOr("use_sliding_window_attention", false));
  K2L_ASSIGN_OR_RETURN(auto att_cap, gemma::OptionalFloat(c, owner, "attention_logit_soft_cap"));
  K2L_ASSIGN_OR_RETURN(f.final_soft_cap, gemma::OptionalFloat(c, owner, "final_logit_soft_cap"));
  if (sliding && window < 1) {
    return refuse("sliding_window_size",
                  "a sliding window needs at least one token",
                  "Use a positive window");
  }
  if (!(local_scale > 0)) {
    return refuse("local_rope_scaling_factor", "it must be positive",
                  "Use a positive scaling factor");
  }
  if (!(global_scale > 0)) {
    return refuse("global_rope_scaling_factor", "it must be positive",
                  "Use a positive scaling factor");
  }
  f.block_config = [=](int64_t i) -> json {
    // Five local layers for each global one.
    const bool local = sliding && i % 6 < 5;
    return {{"hidden_dim", f.hidden},
            {"intermediate_dim", inter},
            {"head_dim", head_dim},
            {"num_query_heads", heads},
            {"num_key_value_heads", kv_heads},
            {"query_head_dim_normalize", qnorm},
            {"use_query_key_norm", qk_norm},
            {"use_post_ffw_norm", post_ffw},
            {"use_post_attention_norm", post_att},
            {"gate_dim_reduction", 1},
            {"logit_soft_cap", att_cap ? json(*att_cap) : json(nullptr)},
            {"use_sliding_window_attention", local},
            {"sliding_window_size", window},
            {"layer_norm_epsilon", f.epsilon},
            {"rope_wavelength", local ? 10000.0 : 1000000.0},
            {"rope_scaling_factor", local ? local_scale : global_scale},
            {"use_bidirectional_attention", false},
            {"dropout", dropout}};
  };
  return gemma::BuildCausalLM(f, in);
}

}  // namespace k2l::hub
