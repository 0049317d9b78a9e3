// The task registry: which Keras-Hub task classes keras2litert exports, how
// each one's export parameters resolve, and which architecture builder
// rebuilds its network.
//
// A task is matched through its ancestors: a live task's class hierarchy
// (given by the Python facade), or for a preset the naming keras-hub keeps
// (GPT2CausalLM is a CausalLM, BertTextClassifier a TextClassifier). The
// builder is then chosen by the task kind and the backbone class.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "frontend/hub/preset.h"

namespace k2l::hub {

enum class TaskKind {
  kCausalLM,
  kTextClassifier,
  kSeq2SeqLM,
  kImageClassifier,
  kObjectDetector,
  kImageSegmenter,
};

std::string_view TaskKindName(TaskKind k);
bool IsVisionTask(TaskKind k);
// The image size of a vision task when nothing else gives one: 224 for
// classifiers, 512 for detectors, 256 for segmenters.
int64_t DefaultImageSize(TaskKind k);

// The network a builder describes: a Keras Functional config over the
// task's inputs and named outputs. Its weights come from the backbone file,
// except the layers in `head_layers`, which are the task's own
// (task.weights.h5). A backbone nested as one layer is `backbone_layer`.
struct TaskGraph {
  nlohmann::json model;
  std::string backbone_layer;
  std::set<std::string> head_layers;
  // What the summary should say about choices the builder made (e.g. that
  // a detector's decoding is left out).
  std::vector<std::string> notes;
};

// What a builder is given: the hyperparameters of the backbone and task
// (their "config" objects) and the resolved sequence lengths (-1: dynamic).
// A Seq2SeqLM reads the encoder and decoder lengths; the other kinds read
// `sequence_length`.
struct BuildInput {
  const nlohmann::json& backbone;
  const nlohmann::json& task;
  int64_t sequence_length = -1;
  int64_t encoder_sequence_length = -1;
  int64_t decoder_sequence_length = -1;
  // A vision task's `images` input, float32 [batch, image_height,
  // image_width, channels], and the image converter's rescaling to put in
  // front of the network ({"scale": ..., "offset": ...}; null: none).
  int64_t image_height = -1;
  int64_t image_width = -1;
  int64_t channels = 3;
  nlohmann::json rescaling;
};

struct Architecture {
  TaskKind kind;
  std::string backbone_class;  // e.g. "GPT2Backbone"
  std::function<Result<TaskGraph>(const BuildInput&)> build;
  // Whether one file can run at any sequence length (up to the backbone's
  // `max_length_key`, when it has one).
  bool dynamic_length = false;
  std::string max_length_key;  // e.g. "max_sequence_length"
};

// Every architecture with a builder, registered explicitly.
const std::vector<Architecture>& Architectures();

// The task kind of `task_class` (with its ancestors' class names, nearest
// first, when known). An unsupported task is an error listing the
// supported types.
Result<TaskKind> ResolveTaskKind(const std::string& task_class,
                                 const std::vector<std::string>& ancestors);

// The builder for a kind and backbone class, or an error listing the
// backbones that kind supports.
Result<const Architecture*> FindArchitecture(TaskKind kind,
                                             const std::string& backbone_class,
                                             const std::string& task_class);

// Builders, one file each under builders/.
Result<TaskGraph> BuildGpt2CausalLM(const BuildInput& in);
Result<TaskGraph> BuildBertTextClassifier(const BuildInput& in);
Result<TaskGraph> BuildDistilBertTextClassifier(const BuildInput& in);
Result<TaskGraph> BuildRobertaTextClassifier(const BuildInput& in);
Result<TaskGraph> BuildGemmaCausalLM(const BuildInput& in);
Result<TaskGraph> BuildGemma3CausalLM(const BuildInput& in);
// LlamaBackbone and Llama3Backbone share one builder.
Result<TaskGraph> BuildLlamaCausalLM(const BuildInput& in);
Result<TaskGraph> BuildMistralCausalLM(const BuildInput& in);
Result<TaskGraph> BuildBartSeq2SeqLM(const BuildInput& in);
Result<TaskGraph> BuildT5Seq2SeqLM(const BuildInput& in);
Result<TaskGraph> BuildResNetImageClassifier(const BuildInput& in);
Result<TaskGraph> BuildDeepLabV3ImageSegmenter(const BuildInput& in);
Result<TaskGraph> BuildViTImageClassifier(const BuildInput& in);
Result<TaskGraph> BuildEfficientNetImageClassifier(const BuildInput& in);
Result<TaskGraph> BuildMobileNetImageClassifier(const BuildInput& in);
Result<TaskGraph> BuildRetinaNetObjectDetector(const BuildInput& in);

}  // namespace k2l::hub
