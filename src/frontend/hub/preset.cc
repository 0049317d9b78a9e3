#include "frontend/hub/preset.h"

#include <filesystem>

#include "core/file_io.h"

namespace k2l::hub {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

Result<json> ReadJson(const fs::path& p) {
  K2L_ASSIGN_OR_RETURN(auto bytes, ReadFileBytes(p.string()));
  json j = json::parse(bytes.begin(), bytes.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return Status::Invalid("'" + p.string() +
                           "' is not a JSON object. Re-save the preset with "
                           "task.save_to_preset(folder)");
  }
  return j;
}

bool IsHubName(const std::string& registered) {
  return registered.rfind("keras_hub>", 0) == 0 ||
         registered.rfind("keras_nlp>", 0) == 0;
}

}  // namespace

std::string ClassOf(const json& serialized) {
  if (!serialized.is_object()) return "";
  std::string reg = serialized.value("registered_name", json("")).is_string()
                        ? serialized.value("registered_name", "")
                        : "";
  if (IsHubName(reg)) return reg.substr(reg.find('>') + 1);
  return serialized.value("class_name", json("")).is_string()
             ? serialized.value("class_name", "")
             : "";
}

bool IsPresetDir(const std::string& path) {
  std::error_code ec;
  fs::path dir(path);
  if (!fs::is_directory(dir, ec)) return false;
  if (fs::is_regular_file(dir / "task.json", ec)) return true;
  if (fs::is_regular_file(dir / "metadata.json", ec)) {
    auto meta = ReadJson(dir / "metadata.json");
    if (meta.ok() && (meta->contains("keras_hub_version") ||
                      meta->contains("keras_nlp_version"))) {
      return true;
    }
  }
  if (fs::is_regular_file(dir / "config.json", ec)) {
    auto cfg = ReadJson(dir / "config.json");
    if (cfg.ok() && cfg->value("registered_name", json("")).is_string() &&
        IsHubName(cfg->value("registered_name", ""))) {
      return true;
    }
  }
  return false;
}

Result<Preset> LoadPreset(const std::string& path) {
  fs::path dir(path);
  std::error_code ec;
  Preset p;
  p.origin = path;
  if (!fs::is_regular_file(dir / "config.json", ec)) {
    return Status::Invalid(
        "the preset folder '" + path +
        "' has no config.json, which describes its backbone. Point at the "
        "folder task.save_to_preset() (or backbone.save_to_preset()) wrote, "
        "with every file it holds");
  }
  K2L_ASSIGN_OR_RETURN(p.backbone, ReadJson(dir / "config.json"));
  if (fs::is_regular_file(dir / "task.json", ec)) {
    K2L_ASSIGN_OR_RETURN(json t, ReadJson(dir / "task.json"));
    p.task = std::move(t);
  }
  if (fs::is_regular_file(dir / "preprocessor.json", ec)) {
    K2L_ASSIGN_OR_RETURN(json pre, ReadJson(dir / "preprocessor.json"));
    p.preprocessor = std::move(pre);
  }
  if (fs::is_regular_file(dir / "metadata.json", ec)) {
    K2L_ASSIGN_OR_RETURN(json meta, ReadJson(dir / "metadata.json"));
    for (const char* k : {"keras_hub_version", "keras_nlp_version"}) {
      if (meta.contains(k) && meta[k].is_string()) {
        p.keras_hub_version = meta[k].get<std::string>();
      }
    }
  }
  std::string version =
      p.keras_hub_version.empty() ? "" : " (keras-hub " + p.keras_hub_version + ")";
  if (fs::is_regular_file(dir / "model.weights.h5", ec)) {
    K2L_ASSIGN_OR_RETURN(
        p.backbone_weights,
        keras::OpenKerasWeights((dir / "model.weights.h5").string(),
                                "model.weights.h5 in '" + path + "'" + version));
  } else if (fs::is_regular_file(dir / "model.weights.json", ec)) {
    K2L_ASSIGN_OR_RETURN(
        p.backbone_weights,
        keras::OpenShardedKerasWeights(
            (dir / "model.weights.json").string(),
            "the sharded model.weights.json in '" + path + "'" + version));
  } else {
    return Status::Invalid(
        "the preset folder '" + path +
        "' has neither model.weights.h5 nor a sharded model.weights.json, so "
        "it holds no backbone weights. Save the preset again with "
        "task.save_to_preset(folder)");
  }
  if (fs::is_regular_file(dir / "task.weights.h5", ec)) {
    K2L_ASSIGN_OR_RETURN(
        p.task_weights,
        keras::OpenKerasWeights((dir / "task.weights.h5").string(),
                                "task.weights.h5 in '" + path + "'" + version));
  }
  return p;
}

}  // namespace k2l::hub
