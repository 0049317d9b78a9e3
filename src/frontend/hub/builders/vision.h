// What the vision builders share: the `images` input with the image
// converter's rescaling in front of the network, a task graph around a
// backbone with any head, and keras-hub's ImageClassifier head.
#pragma once

#include <functional>
#include <set>
#include <string>

#include "frontend/hub/graph_builder.h"
#include "frontend/hub/task_registry.h"

namespace k2l::hub {

// The task's `images` input, float32 [batch, height, width, channels], and
// the tensor the network takes: the input itself, or, when `in.rescaling`
// is set, the image converter's x * scale + offset (a keras Rescaling
// layer, per channel where the converter's values are lists).
struct ImageInput {
  json images;
  json x;
};
ImageInput AddImageInput(GraphBuilder& g, const BuildInput& in);

// What a task's head adds after the backbone: its output tensor and the
// output's name, and the names of its layers (whose weights are the task's
// own, in task.weights.h5).
struct ImageHead {
  json output;
  std::string output_name;
  std::set<std::string> layers;
};
using ImageHeadFn =
    std::function<Result<ImageHead>(GraphBuilder& task, const json& features)>;

// A vision task's graph, named as the task config says (else
// `default_name`): the `images` input (AddImageInput), `backbone` (a
// Functional taking one image and giving one feature map, named
// `backbone_name`) called on it, and `head` on the feature map.
Result<TaskGraph> ImageTask(const BuildInput& in, json backbone,
                            const std::string& backbone_name,
                            const std::string& default_name,
                            const ImageHeadFn& head);

// A task head's last activation, as the task config gives it ("linear"
// for None), and the name of its output: "logits" without an activation,
// else "predictions".
struct HeadActivation {
  json activation;
  std::string output_name;
};
HeadActivation ReadHeadActivation(const json& task);

// keras_hub.models.ImageClassifier around `backbone` (a Functional taking
// one image and giving one feature map, named `backbone_name`): its pooler
// ("avg" or "max"), output_dropout and `predictions` Dense, as the task
// config says. The output is named "logits" when the Dense has no
// activation, else "predictions".
Result<TaskGraph> ImageClassifierTask(const BuildInput& in, json backbone,
                                      const std::string& backbone_name);

// The config of the `image_encoder` a feature-pyramid backbone (DeepLabV3,
// RetinaNet; hyperparameters `backbone`, named `owner` in errors) holds,
// which must be a ResNetBackbone: the one encoder keras2litert builds a
// pyramid for.
Result<json> ResNetImageEncoder(const json& backbone, const std::string& owner);

// The Functional graph of a ResNetBackbone with hyperparameters `config`,
// named `name`, on an image of `in`'s size: one feature map, or with
// `pyramid_outputs` its stacks' outputs {"P2": ..., "P3": ...} up to
// P<last_level> (what keras-hub's feature pyramid users, such as DeepLabV3
// and RetinaNet, take; a keras.Model over outputs up to P<last_level> holds
// no later stack).
Result<json> ResNetBackboneGraph(const json& config, const BuildInput& in,
                                 const std::string& name, bool pyramid_outputs,
                                 int last_level = 99);

}  // namespace k2l::hub
