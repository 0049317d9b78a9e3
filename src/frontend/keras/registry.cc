#include "frontend/keras/registry.h"

#include <cstdio>
#include <cstdlib>

namespace k2l::keras {

Status Registry::Register(const std::string& class_name, LayerConverter convert,
                          std::string ops, std::string limits) {
  if (entries_.count(class_name)) {
    return Status::Internal("layer class '" + class_name +
                            "' is registered twice");
  }
  entries_[class_name] = LayerInfo{convert, std::move(ops), std::move(limits)};
  return Status::Ok();
}

const LayerInfo* Registry::Find(const std::string& class_name) const {
  auto it = entries_.find(class_name);
  return it == entries_.end() ? nullptr : &it->second;
}

std::vector<std::string> Registry::ClassNames() const {
  std::vector<std::string> names;
  for (const auto& [name, info] : entries_) names.push_back(name);
  return names;
}

Status RegisterAll(Registry& r) {
  K2L_RETURN_IF_ERROR(RegisterCoreLayers(r));
  K2L_RETURN_IF_ERROR(RegisterActivationLayers(r));
  K2L_RETURN_IF_ERROR(RegisterConvLayers(r));
  K2L_RETURN_IF_ERROR(RegisterPoolingLayers(r));
  K2L_RETURN_IF_ERROR(RegisterNormalizationLayers(r));
  K2L_RETURN_IF_ERROR(RegisterReshapingLayers(r));
  K2L_RETURN_IF_ERROR(RegisterMergeLayers(r));
  K2L_RETURN_IF_ERROR(RegisterImagePreprocessingLayers(r));
  K2L_RETURN_IF_ERROR(RegisterRecurrentLayers(r));
  K2L_RETURN_IF_ERROR(RegisterWrapperLayers(r));
  K2L_RETURN_IF_ERROR(RegisterAttentionLayers(r));
  K2L_RETURN_IF_ERROR(RegisterHubEmbeddingLayers(r));
  K2L_RETURN_IF_ERROR(RegisterHubTransformerLayers(r));
  K2L_RETURN_IF_ERROR(RegisterHubLlamaLayers(r));
  K2L_RETURN_IF_ERROR(RegisterKerasOps(r));
  K2L_RETURN_IF_ERROR(RegisterHubGemmaLayers(r));
  K2L_RETURN_IF_ERROR(RegisterHubT5Layers(r));
  K2L_RETURN_IF_ERROR(RegisterHubDeepLabLayers(r));
  K2L_RETURN_IF_ERROR(RegisterHubViTLayers(r));
  K2L_RETURN_IF_ERROR(RegisterHubEfficientNetLayers(r));
  K2L_RETURN_IF_ERROR(RegisterHubMobileNetLayers(r));
  K2L_RETURN_IF_ERROR(RegisterHubRetinaNetLayers(r));
  K2L_RETURN_IF_ERROR(RegisterHubDetectionLayers(r));
  return Status::Ok();
}

const Registry& DefaultRegistry() {
  static const Registry* registry = [] {
    auto* r = new Registry();
    Status s = RegisterAll(*r);
    if (!s.ok()) {
      // A duplicate registration is a programming error caught by every test.
      std::fprintf(stderr, "internal error: %s\n", s.message().c_str());
      std::abort();
    }
    return r;
  }();
  return *registry;
}

}  // namespace k2l::keras
