// The graph keras-hub's decoder-only language models share (Llama,
// Mistral): token embedding, decoder blocks over the padding mask, a final
// norm, and logits from the reversed token embedding. Each builder fills
// in its classes and the decoder's config.
#pragma once

#include <set>
#include <string>

#include "core/status.h"
#include "frontend/hub/graph_builder.h"

namespace k2l::hub {

struct DecoderLM {
  std::string name;           // the backbone's name
  std::string decoder_class;  // e.g. "LlamaTransformerDecoder"
  std::string norm_class;     // e.g. "LlamaLayerNorm"
  json decoder_config;
  int64_t vocab = 0, layers = 0, hidden = 0;
  double epsilon = 1e-6;
  bool tie_weights = false;
};

// The Functional config over inputs token_ids and padding_mask (length
// `sequence_length`, -1 for dynamic) with the output logits.
Result<json> DecoderLMGraph(const DecoderLM& m, int64_t sequence_length);

// An error naming every key of `config` not in `known`: a hyperparameter
// the builder does not know may change the network.
Status RequireKnownHyperparams(const json& config, const std::string& owner,
                               const std::set<std::string>& known);

}  // namespace k2l::hub
