// The map from Keras layer class names to converters. Each layer family file
// registers its classes from one function; RegisterAll calls them all, in
// one explicit list. Registering a class twice is an error.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/status.h"
#include "frontend/keras/layer_context.h"

namespace k2l::keras {

struct LayerInfo {
  LayerConverter convert = nullptr;
  // The builtin ops the layer becomes, for docs and summaries.
  std::string ops;
  // What the converter refuses, for a layer only partly supported (the
  // docs mark it "partial"); empty when every configuration converts.
  std::string limits;
};

// The limit of converters that take channels_last data only.
inline constexpr const char* kRefusesChannelsFirst =
    "data_format='channels_first' is refused";

class Registry {
 public:
  Status Register(const std::string& class_name, LayerConverter convert,
                  std::string ops, std::string limits = "");
  const LayerInfo* Find(const std::string& class_name) const;
  std::vector<std::string> ClassNames() const;

 private:
  std::map<std::string, LayerInfo> entries_;
};

// The registry with every converter in the project, built once.
const Registry& DefaultRegistry();

// Explicit registration of all layer families.
Status RegisterAll(Registry& r);

// One per layer family file in layers/.
Status RegisterCoreLayers(Registry& r);
Status RegisterActivationLayers(Registry& r);
Status RegisterConvLayers(Registry& r);
Status RegisterPoolingLayers(Registry& r);
Status RegisterNormalizationLayers(Registry& r);
Status RegisterReshapingLayers(Registry& r);
Status RegisterMergeLayers(Registry& r);
Status RegisterImagePreprocessingLayers(Registry& r);
Status RegisterRecurrentLayers(Registry& r);
Status RegisterWrapperLayers(Registry& r);
Status RegisterAttentionLayers(Registry& r);
// Keras-Hub layers (and keras.layers.ReversibleEmbedding), registered by
// their registered names, "keras_hub>Class" (see model_lowering.cc).
Status RegisterHubEmbeddingLayers(Registry& r);
Status RegisterHubTransformerLayers(Registry& r);
// Keras-Hub's Llama and Mistral layers (layers/hub_llama.cc).
Status RegisterHubLlamaLayers(Registry& r);
// keras.ops calls, registered as "ops.<Class>".
Status RegisterKerasOps(Registry& r);
// Keras-Hub's Gemma layers (layers/hub_gemma.cc).
Status RegisterHubGemmaLayers(Registry& r);
// Keras-Hub's T5 layers (layers/hub_t5.cc).
Status RegisterHubT5Layers(Registry& r);
Status RegisterHubDeepLabLayers(Registry& r);
// Keras-Hub's ViT layers (layers/hub_vit.cc).
Status RegisterHubViTLayers(Registry& r);
// Keras-Hub's RetinaNet FeaturePyramid and PredictionHead
// (layers/hub_retinanet.cc).
Status RegisterHubRetinaNetLayers(Registry& r);
// RetinaNetObjectDetector's decode_predictions: anchor decoding and
// NonMaxSuppression (layers/hub_detection.cc).
Status RegisterHubDetectionLayers(Registry& r);
// Keras-Hub's EfficientNet blocks (layers/hub_efficientnet.cc).
Status RegisterHubEfficientNetLayers(Registry& r);
// Keras-Hub's MobileNet blocks (layers/hub_mobilenet.cc).
Status RegisterHubMobileNetLayers(Registry& r);

}  // namespace k2l::keras
