// What the Gemma builders (gemma.cc: Gemma 1 and 2; gemma3.cc: Gemma 3,
// text only) share: the backbone graph keras-hub builds around its decoder
// blocks, and the CausalLM head.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "frontend/hub/graph_builder.h"
#include "frontend/hub/hyperparams.h"
#include "frontend/hub/task_registry.h"

namespace k2l::hub::gemma {

// A float hyperparameter that may be null (nullopt when absent or null).
Result<std::optional<double>> OptionalFloat(const json& config,
                                            const std::string& owner,
                                            const std::string& key);

struct FamilyGraph {
  std::string backbone_class;  // "GemmaBackbone"
  std::string block_class;     // "GemmaDecoderBlock"
  std::string default_name;    // "gemma_backbone"
  int64_t vocab = 0, layers = 0, hidden = 0;
  double epsilon = 1e-6;
  std::optional<double> final_soft_cap;
  // The config of decoder block i (without its name).
  std::function<json(int64_t)> block_config;
};

// token_ids -> ReversibleEmbedding * sqrt(hidden_dim) -> decoder blocks
// (called with padding_mask) -> final RMSNormalization -> the token
// embedding reversed (with the final soft cap) as logits.
TaskGraph BuildCausalLM(const FamilyGraph& f, const BuildInput& in);

}  // namespace k2l::hub::gemma
