// Gemma 1 and Gemma 2 (keras_hub.models.GemmaBackbone and GemmaCausalLM),
// as keras-hub 0.32 builds them: the token embedding scaled by
// sqrt(hidden_dim), GemmaDecoderBlocks (Gemma 2: post-attention and
// post-feedforward norms, attention logit soft cap, a sliding window on the
// even layers), a final RMSNormalization, and logits from the tied token
// embedding with the final soft cap.
#include <cmath>

#include "frontend/hub/builders/gemma_common.h"

namespace k2l::hub {

namespace gemma {

Result<std::optional<double>> OptionalFloat(const json& config,
                                            const std::string& owner,
                                            const std::string& key) {
  if (!config.contains(key) || config[key].is_null()) {
    return std::optional<double>();
  }
  if (!config[key].is_number()) {
    return Status::Invalid(owner + ": the hyperparameter '" + key + "' is " +
                           config[key].dump() +
                           ", not a number or null. The preset's config.json "
                           "is malformed; fix or re-save the preset");
  }
  double v = config[key].get<double>();
  if (!(v > 0)) {
    return Status::Invalid(owner + ": the hyperparameter '" + key + "' is " +
                           config[key].dump() +
                           "; a soft cap must be positive. Use a positive "
                           "value or null");
  }
  return std::optional<double>(v);
}

TaskGraph BuildCausalLM(const FamilyGraph& f, const BuildInput& in) {
  const std::string name =
      in.backbone.contains("name") && in.backbone["name"].is_string()
          ? in.backbone["name"].get<std::string>()
          : f.default_name;
  GraphBuilder g(name);
  json token_ids = g.Input("token_ids", "int32", {in.sequence_length});
  json cap = f.final_soft_cap ? json(*f.final_soft_cap) : json(nullptr);
  json tokens = g.Call("ReversibleEmbedding", "token_embedding",
                       ReversibleEmbeddingConfig(f.vocab, f.hidden, true, cap),
                       json::array({token_ids}));
  // x * ops.cast(ops.sqrt(hidden_dim), x.dtype): sqrt in float32.
  const double scale =
      static_cast<double>(std::sqrt(static_cast<float>(f.hidden)));
  json x = g.CallOp("keras.src.ops.numpy", "Multiply", "multiply",
                    json::array({tokens, scale}));
  json padding_mask = g.Input("padding_mask", "int32", {in.sequence_length});
  for (int64_t i = 0; i < f.layers; ++i) {
    x = g.Call(f.block_class, "decoder_block_" + std::to_string(i),
               f.block_config(i), json::array({x}),
               {{"padding_mask", padding_mask}});
  }
  x = g.Call("RMSNormalization", "final_normalization",
             {{"epsilon", f.epsilon}}, json::array({x}), json::object(),
             "keras_hub>RMSNormalization");
  json logits = g.CallAgain("token_embedding", json::array({x}),
                            {{"reverse", true}});
  TaskGraph t;
  t.model = g.Build({{"token_ids", token_ids}, {"padding_mask", padding_mask}},
                    {{"logits", logits}});
  return t;
}

}  // namespace gemma

Result<TaskGraph> BuildGemmaCausalLM(const BuildInput& in) {
  const std::string owner = "GemmaBackbone";
  Hyperparams hp(in.backbone, owner);
  gemma::FamilyGraph f;
  f.backbone_class = owner;
  f.block_class = "GemmaDecoderBlock";
  f.default_name = "gemma_backbone";
  K2L_ASSIGN_OR_RETURN(f.vocab, hp.Int("vocabulary_size"));
  K2L_ASSIGN_OR_RETURN(f.layers, hp.Int("num_layers"));
  K2L_ASSIGN_OR_RETURN(f.hidden, hp.Int("hidden_dim"));
  K2L_ASSIGN_OR_RETURN(int64_t heads, hp.Int("num_query_heads"));
  K2L_ASSIGN_OR_RETURN(int64_t kv_heads, hp.Int("num_key_value_heads"));
  K2L_ASSIGN_OR_RETURN(int64_t inter, hp.Int("intermediate_dim"));
  K2L_ASSIGN_OR_RETURN(int64_t head_dim, hp.Int("head_dim"));
  K2L_ASSIGN_OR_RETURN(f.epsilon, hp.FloatOr("layer_norm_epsilon", 1e-6));
  K2L_ASSIGN_OR_RETURN(double dropout, hp.FloatOr("dropout", 0.0));
  K2L_ASSIGN_OR_RETURN(int64_t window, hp.IntOr("sliding_window_size", 4096));
  const json& c = in.backbone;
  K2L_ASSIGN_OR_RETURN(bool qnorm, hp.BoolOr("query_head_dim_normalize", true));
  K2L_ASSIGN_OR_RETURN(bool post_ffw, hp.BoolOr("use_post_ffw_norm", false));
  K2L_ASSIGN_OR_RETURN(bool post_att, hp.BoolOr("use_post_attention_norm", false));
  K2L_ASSIGN_OR_RETURN(bool sliding, hp.BoolOr("use_sliding_window_attention", false));
  K2L_ASSIGN_OR_RETURN(auto att_cap, gemma::OptionalFloat(c, owner, "attention_logit_soft_cap"));
  K2L_ASSIGN_OR_RETURN(f.final_soft_cap, gemma::OptionalFloat(c, owner, "final_logit_soft_cap"));
  if (sliding && window < 1) {
    return Status::Invalid(owner + ": the hyperparameter 'sliding_window_size' is " +
                           std::to_string(window) +
                           "; a sliding window needs at least one token. Use "
                           "a positive window");
  }
  f.block_config = [=](int64_t i) -> json {
    return {{"hidden_dim", f.hidden},
            {"intermediate_dim", inter},
            {"head_dim", head_dim},
            {"num_query_heads", heads},
            {"num_key_value_heads", kv_heads},
            {"layer_norm_epsilon", f.epsilon},
            {"dropout", dropout},
            {"use_post_ffw_norm", post_ffw},
            {"use_post_attention_norm", post_att},
            {"logit_soft_cap", att_cap ? json(*att_cap) : json(nullptr)},
            // Gemma 2 alternates: the even layers are local.
            {"use_sliding_window_attention", sliding && i % 2 == 0},
            {"sliding_window_size", window},
            {"query_head_dim_normalize", qnorm}};
  };
  return gemma::BuildCausalLM(f, in);
}

}  // namespace k2l::hub
