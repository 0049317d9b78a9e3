#include "frontend/hub/task_registry.h"

#include <algorithm>
#include <optional>
#include <utility>

namespace k2l::hub {

std::string_view TaskKindName(TaskKind k) {
  switch (k) {
    case TaskKind::kCausalLM:
      return "CausalLM";
    case TaskKind::kTextClassifier:
      return "TextClassifier";
    case TaskKind::kSeq2SeqLM:
      return "Seq2SeqLM";
    case TaskKind::kImageClassifier:
      return "ImageClassifier";
    case TaskKind::kObjectDetector:
      return "ObjectDetector";
    case TaskKind::kImageSegmenter:
      return "ImageSegmenter";
  }
  return "?";
}

bool IsVisionTask(TaskKind k) {
  return k == TaskKind::kImageClassifier || k == TaskKind::kObjectDetector ||
         k == TaskKind::kImageSegmenter;
}

int64_t DefaultImageSize(TaskKind k) {
  switch (k) {
    case TaskKind::kObjectDetector:
      return 512;
    case TaskKind::kImageSegmenter:
      return 256;
    default:
      return 224;
  }
}

const std::vector<Architecture>& Architectures() {
  static const std::vector<Architecture> all = {
      {TaskKind::kCausalLM, "GPT2Backbone", BuildGpt2CausalLM,
       /*dynamic_length=*/true, "max_sequence_length"},
      {TaskKind::kTextClassifier, "BertBackbone", BuildBertTextClassifier,
       /*dynamic_length=*/true, "max_sequence_length"},
      {TaskKind::kTextClassifier, "DistilBertBackbone",
       BuildDistilBertTextClassifier, /*dynamic_length=*/true,
       "max_sequence_length"},
      {TaskKind::kTextClassifier, "RobertaBackbone", BuildRobertaTextClassifier,
       /*dynamic_length=*/true, "max_sequence_length"},
      // Gemma 1 and 2 share GemmaBackbone. No maximum length: the rotary
      // embedding runs at any position (up to 131072).
      {TaskKind::kCausalLM, "GemmaBackbone", BuildGemmaCausalLM,
       /*dynamic_length=*/true, ""},
      {TaskKind::kCausalLM, "Gemma3Backbone", BuildGemma3CausalLM,
       /*dynamic_length=*/true, ""},
      // Rotary embeddings: no position table, so any length.
      {TaskKind::kCausalLM, "LlamaBackbone", BuildLlamaCausalLM,
       /*dynamic_length=*/true, ""},
      {TaskKind::kCausalLM, "Llama3Backbone", BuildLlamaCausalLM,
       /*dynamic_length=*/true, ""},
      {TaskKind::kCausalLM, "MistralBackbone", BuildMistralCausalLM,
       /*dynamic_length=*/true, ""},
      // Both stacks have learned position tables of max_sequence_length.
      {TaskKind::kSeq2SeqLM, "BartBackbone", BuildBartSeq2SeqLM,
       /*dynamic_length=*/true, "max_sequence_length"},
      // The relative position bias saturates at distance 128: any length.
      {TaskKind::kSeq2SeqLM, "T5Backbone", BuildT5Seq2SeqLM,
       /*dynamic_length=*/true, ""},
      // ResNet v1 and v2, basic and bottleneck blocks, and their _vd forms.
      {TaskKind::kImageClassifier, "ResNetBackbone", BuildResNetImageClassifier},
      // EfficientNet (v1 blocks) and EfficientNetV2 (MBConv, FusedMBConv and
      // CBA blocks).
      {TaskKind::kImageClassifier, "EfficientNetBackbone",
       BuildEfficientNetImageClassifier},
      // MobileNetV3 (keras-hub's one MobileNetBackbone), with
      // MobileNetImageClassifier's own conv head.
      {TaskKind::kImageClassifier, "MobileNetBackbone",
       BuildMobileNetImageClassifier},
      // The position table fixes the patch grid: the image_shape only.
      {TaskKind::kImageClassifier, "ViTBackbone", BuildViTImageClassifier},
      // DeepLabV3 on a ResNet image encoder.
      {TaskKind::kImageSegmenter, "DeepLabV3Backbone",
       BuildDeepLabV3ImageSegmenter},
      // RetinaNet: a ResNet image encoder, its FeaturePyramid and the box
      // and class heads, with keras-hub's decoding (anchors and NMS).
      {TaskKind::kObjectDetector, "RetinaNetBackbone",
       BuildRetinaNetObjectDetector},
  };
  return all;
}

namespace {

struct KindName {
  const char* base;  // the keras-hub base class
  std::optional<TaskKind> kind;  // nullopt: known, not exported yet
};

// Keras-Hub's task base classes. Every task class derives from one, and
// keras-hub names its classes after it (GPT2CausalLM, BertTextClassifier).
const KindName kBases[] = {
    {"CausalLM", TaskKind::kCausalLM},
    {"TextClassifier", TaskKind::kTextClassifier},
    {"Seq2SeqLM", TaskKind::kSeq2SeqLM},
    {"ImageClassifier", TaskKind::kImageClassifier},
    {"ObjectDetector", TaskKind::kObjectDetector},
    {"ImageSegmenter", TaskKind::kImageSegmenter},
    {"MaskedLM", std::nullopt},
    {"TextEmbedder", std::nullopt},
    {"AudioToText", std::nullopt},
    {"TextToImage", std::nullopt},
    {"ImageToImage", std::nullopt},
    {"Inpaint", std::nullopt},
    {"DepthEstimator", std::nullopt},
};

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The task kinds with at least one architecture, in registry order, as
// "A, B and C".
std::string SupportedTypes() {
  std::vector<TaskKind> kinds;
  for (const Architecture& a : Architectures()) {
    if (std::find(kinds.begin(), kinds.end(), a.kind) == kinds.end()) {
      kinds.push_back(a.kind);
    }
  }
  std::string out;
  for (size_t i = 0; i < kinds.size(); ++i) {
    if (i > 0) out += i + 1 == kinds.size() ? " and " : ", ";
    out += TaskKindName(kinds[i]);
  }
  return out;
}

bool HasArchitecture(TaskKind k) {
  for (const Architecture& a : Architectures()) {
    if (a.kind == k) return true;
  }
  return false;
}

}  // namespace

Result<TaskKind> ResolveTaskKind(const std::string& task_class,
                                 const std::vector<std::string>& ancestors) {
  const KindName* found = nullptr;
  // The live class hierarchy first (a user's subclass of GPT2CausalLM is a
  // CausalLM), then keras-hub's naming.
  for (const std::string& a : ancestors) {
    for (const KindName& b : kBases) {
      if (a == b.base) found = &b;
    }
    if (found) break;
  }
  if (!found) {
    for (const KindName& b : kBases) {
      if (EndsWith(task_class, b.base)) found = &b;
    }
  }
  if (found && found->kind && HasArchitecture(*found->kind)) {
    return *found->kind;
  }
  std::string what = found ? std::string("a ") + found->base + " task"
                           : "not a task type keras2litert knows";
  return Status::Invalid(
      "the Keras-Hub task '" + task_class + "' is " + what +
      ", which keras2litert does not export. Supported task types: " +
      SupportedTypes() +
      ". Export the backbone's network another way, or use a supported "
      "task");
}

Result<const Architecture*> FindArchitecture(TaskKind kind,
                                             const std::string& backbone_class,
                                             const std::string& task_class) {
  std::string supported;
  for (const Architecture& a : Architectures()) {
    if (a.kind != kind) continue;
    if (a.backbone_class == backbone_class) return &a;
    supported += (supported.empty() ? "" : ", ") + a.backbone_class;
  }
  return Status::Invalid(
      "the " + std::string(TaskKindName(kind)) + " task '" + task_class +
      "' has the backbone '" + backbone_class +
      "', for which keras2litert has no architecture builder. A preset "
      "stores hyperparameters, not a graph, so each backbone needs one. "
      "Supported backbones for " + std::string(TaskKindName(kind)) + ": " +
      (supported.empty() ? "none yet" : supported));
}

}  // namespace k2l::hub
