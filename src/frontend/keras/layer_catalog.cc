#include "frontend/keras/layer_catalog.h"

#include <algorithm>
#include <map>

namespace k2l::keras {

namespace {

constexpr const char* kAugmentation =
    "a training-time augmentation layer; export the model without it (build "
    "keras.Model from the layers after it)";
constexpr const char* kCode =
    "it wraps code of another framework or a Python function, which the "
    "file does not describe and which is untrusted input";
constexpr const char* kStrings =
    "string and hashing preprocessing has no LiteRT builtin lowering; run it "
    "in your input pipeline";

// Classes of keras.layers (Keras 3.15) that the registry does not convert,
// with the reason. Cells and base classes are listed for completeness.
const std::map<std::string, std::pair<std::string, std::string>>& Known() {
  static const auto* kKnown =
      new std::map<std::string, std::pair<std::string, std::string>>{
          {"AdaptiveAveragePooling1D", {"unsupported", "not yet lowered"}},
          {"AdaptiveAveragePooling2D", {"unsupported", "not yet lowered"}},
          {"AdaptiveAveragePooling3D", {"unsupported", "not yet lowered"}},
          {"AdaptiveMaxPooling1D", {"unsupported", "not yet lowered"}},
          {"AdaptiveMaxPooling2D", {"unsupported", "not yet lowered"}},
          {"AdaptiveMaxPooling3D", {"unsupported", "not yet lowered"}},
          {"AugMix", {"unsupported", kAugmentation}},
          {"AutoContrast", {"unsupported", "not yet lowered"}},
          {"CategoryEncoding", {"unsupported", "not yet lowered"}},
          {"ContrastLimitedAdaptiveHistogramEqualization",
           {"unsupported", "not yet lowered"}},
          {"ConvLSTM1D",
           {"unsupported", "not yet lowered (a convolutional recurrent cell)"}},
          {"ConvLSTM2D",
           {"unsupported", "not yet lowered (a convolutional recurrent cell)"}},
          {"ConvLSTM3D",
           {"unsupported", "not yet lowered (a convolutional recurrent cell)"}},
          {"CutMix", {"unsupported", kAugmentation}},
          {"Discretization", {"unsupported", "not yet lowered"}},
          {"Equalization", {"unsupported", "not yet lowered"}},
          {"FlaxLayer", {"unsupported", kCode}},
          {"GRUCell",
           {"partial", "converts as the cell of an RNN layer, not alone"}},
          {"GroupedQueryAttention", {"unsupported", "not yet lowered"}},
          {"HashedCrossing", {"unsupported", kStrings}},
          {"Hashing", {"unsupported", kStrings}},
          {"InputLayer",
           {"supported", "becomes a signature input named after the layer"}},
          {"IntegerLookup", {"unsupported", kStrings}},
          {"JaxLayer", {"unsupported", kCode}},
          {"LSTMCell",
           {"partial", "converts as the cell of an RNN layer, not alone"}},
          {"Lambda", {"unsupported", kCode}},
          {"Layer",
           {"unsupported",
            "the base class: a subclass with its own call() is Python code "
            "the file does not hold"}},
          {"MaxNumBoundingBoxes", {"unsupported", "not yet lowered"}},
          {"MelSpectrogram", {"unsupported", "not yet lowered"}},
          {"MixUp", {"unsupported", kAugmentation}},
          {"Pipeline", {"unsupported", "not yet lowered"}},
          {"RandAugment", {"unsupported", kAugmentation}},
          {"RandomBrightness", {"unsupported", kAugmentation}},
          {"RandomColorDegeneration", {"unsupported", kAugmentation}},
          {"RandomColorJitter", {"unsupported", kAugmentation}},
          {"RandomContrast", {"unsupported", kAugmentation}},
          {"RandomCrop", {"unsupported", kAugmentation}},
          {"RandomElasticTransform", {"unsupported", kAugmentation}},
          {"RandomErasing", {"unsupported", kAugmentation}},
          {"RandomFlip", {"unsupported", kAugmentation}},
          {"RandomGaussianBlur", {"unsupported", kAugmentation}},
          {"RandomGrayscale", {"unsupported", kAugmentation}},
          {"RandomHue", {"unsupported", kAugmentation}},
          {"RandomInvert", {"unsupported", kAugmentation}},
          {"RandomPerspective", {"unsupported", kAugmentation}},
          {"RandomPosterization", {"unsupported", kAugmentation}},
          {"RandomRotation", {"unsupported", kAugmentation}},
          {"RandomSaturation", {"unsupported", kAugmentation}},
          {"RandomSharpness", {"unsupported", kAugmentation}},
          {"RandomShear", {"unsupported", kAugmentation}},
          {"RandomTranslation", {"unsupported", kAugmentation}},
          {"RandomZoom", {"unsupported", kAugmentation}},
          {"STFTSpectrogram", {"unsupported", "not yet lowered"}},
          {"SimpleRNNCell",
           {"partial", "converts as the cell of an RNN layer, not alone"}},
          {"Solarization", {"unsupported", "not yet lowered"}},
          {"SpectralNormalization", {"unsupported", "not yet lowered"}},
          {"StackedRNNCells",
           {"unsupported",
            "not yet lowered; stack the cells as separate RNN layers"}},
          {"StringLookup", {"unsupported", kStrings}},
          {"TFSMLayer", {"unsupported", kCode}},
          {"TextVectorization", {"unsupported", kStrings}},
          {"TorchModuleWrapper", {"unsupported", kCode}},
          {"Wrapper",
           {"unsupported",
            "the base class of wrappers; Bidirectional and TimeDistributed "
            "convert"}},
      };
  return *kKnown;
}

}  // namespace

std::vector<CatalogEntry> LayerCatalog(const Registry& registry) {
  std::vector<CatalogEntry> out;
  for (const auto& name : registry.ClassNames()) {
    if (name.rfind("ops.", 0) == 0) continue;  // keras.ops calls, not layers
    const LayerInfo* info = registry.Find(name);
    out.push_back({name, info->limits.empty() ? "supported" : "partial",
                   info->ops, info->limits});
  }
  for (const auto& [name, entry] : Known()) {
    if (registry.Find(name) != nullptr) continue;
    out.push_back({name, entry.first, "", entry.second});
  }
  std::sort(out.begin(), out.end(),
            [](const CatalogEntry& a, const CatalogEntry& b) {
              return a.class_name < b.class_name;
            });
  return out;
}

std::string WhyUnsupported(const std::string& class_name) {
  auto it = Known().find(class_name);
  if (it == Known().end() || it->second.first == "supported") return "";
  return it->second.second;
}

}  // namespace k2l::keras
