#include "frontend/keras/masking.h"

#include <map>

namespace k2l::keras {

MaskRule MaskRuleFor(const std::string& cls) {
  static const std::map<std::string, MaskRule> kRules = [] {
    std::map<std::string, MaskRule> m;
    // Masking and Embedding ignore an incoming mask and set their own, so
    // they keep the default rule. Layers with supports_masking and the default
    // compute_mask, and a call that does not read the mask (or, for
    // BatchNormalization, reads it only while training).
    for (const char* c : {"Dense",
                          "Activation",
                          "ReLU",
                          "LeakyReLU",
                          "PReLU",
                          "ELU",
                          "Dropout",
                          "SpatialDropout1D",
                          "SpatialDropout2D",
                          "SpatialDropout3D",
                          "GaussianDropout",
                          "GaussianNoise",
                          "AlphaDropout",
                          "ActivityRegularization",
                          "Identity",
                          "LayerNormalization",
                          "GroupNormalization",
                          "UnitNormalization",
                          "BatchNormalization",
                          "Rescaling",
                          "Normalization"}) {
      m[c] = MaskRule::kPass;
    }
    for (const char* c :
         {"LSTM", "GRU", "SimpleRNN", "RNN", "Bidirectional", "TimeDistributed",
          "Softmax", "Attention", "AdditiveAttention", "MultiHeadAttention",
          "GroupedQueryAttention", "GlobalAveragePooling1D", "ConvLSTM1D",
          "ConvLSTM2D", "ConvLSTM3D", "TransformerEncoder",
          "TransformerDecoder"}) {
      m[c] = MaskRule::kConsume;
    }
    for (const char* c : {"Add", "Subtract", "Multiply", "Average", "Maximum",
                          "Minimum", "Concatenate", "Dot"}) {
      m[c] = MaskRule::kCombine;
    }
    return m;
  }();
  auto it = kRules.find(cls);
  return it == kRules.end() ? MaskRule::kDrop : it->second;
}

bool TakesImplicitSequenceMasks(const std::string& cls) {
  return cls == "MultiHeadAttention" || cls == "GroupedQueryAttention";
}

}  // namespace k2l::keras
