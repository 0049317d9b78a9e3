// Keras-Hub preset folders, read from C++: config.json (the backbone),
// task.json, preprocessor.json, metadata.json, and the weights:
// model.weights.h5 (or the sharded model.weights.json with its shards) for
// the backbone, task.weights.h5 for the task's own layers.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "core/status.h"
#include "frontend/keras/model_source.h"

namespace k2l::hub {

struct Preset {
  std::string origin;  // the folder, for messages
  nlohmann::json backbone;  // config.json: {class_name, config, ...}
  std::optional<nlohmann::json> task;  // task.json
  std::optional<nlohmann::json> preprocessor;  // preprocessor.json
  std::string keras_hub_version;  // from metadata.json, or empty
  std::unique_ptr<keras::WeightStore> backbone_weights;
  std::unique_ptr<keras::WeightStore> task_weights;  // null without a file
};

// Whether `path` is a folder that looks like a Keras-Hub preset: its
// config.json names a keras_hub (or keras_nlp) class, or it has task.json.
bool IsPresetDir(const std::string& path);

Result<Preset> LoadPreset(const std::string& dir);

// "GPT2CausalLM" from {"class_name": "GPT2CausalLM", "registered_name":
// "keras_hub>GPT2CausalLM"}.
std::string ClassOf(const nlohmann::json& serialized);

}  // namespace k2l::hub
