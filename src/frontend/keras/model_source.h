// Reading Keras model files: `.keras` zips, their unzipped folders and legacy
// `.h5` full-model files. The result is the model config plus a WeightStore.
//
// The format is detected from the bytes (zip or HDF5 magic), never from the
// extension. The weights HDF5 inside a zip is opened from memory; nothing is
// extracted to disk.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "ir/tensor_data.h"

namespace k2l::keras {

// One step on the way from the top model to a layer. Keras 3 addresses a
// layer's weights by its snake-cased class name plus a per-container counter
// (`layers/dense`, `layers/dense_1`, ...), and so do tf.keras 2.12-2.14
// `.keras` files (under `_layer_checkpoint_dependencies`); legacy `.h5` files
// address them by layer name. The frontend knows both and the store picks.
// Keras 3 files also record each layer's name; a store uses it to check the
// class path, and to find the layer when the counter disagrees with the
// file. An empty layer_name is not checked.
struct WeightPathStep {
  std::string class_path;  // e.g. "layers/dense_1"
  std::string layer_name;  // e.g. "my_dense"
};
using WeightPath = std::vector<WeightPathStep>;

class WeightStore {
 public:
  virtual ~WeightStore() = default;

  // The variables of the layer at `path`, in the layer's own order (Keras 3:
  // `vars/0..N` sorted numerically; legacy: the `weight_names` attribute).
  // A layer with no stored variables, or one absent from the file, yields an
  // empty vector; HasLayer tells the two apart. Values keep their stored
  // dtype (bfloat16 data is returned as DType::kBFloat16).
  virtual Result<std::vector<ir::TensorData>> Variables(
      const WeightPath& path) const = 0;

  // Whether the file has an entry for the layer at `path`. In a .keras file
  // every layer has one, even a layer without weights, so `false` means the
  // path does not match the file. Legacy .h5 files only record top-level
  // layers, so a layer inside a nested model is found if its model is.
  virtual bool HasLayer(const WeightPath& path) const = 0;

  // The variables of a sublayer of the layer at `path`, reached through the
  // attribute names Keras saves it under (e.g. {"cell"}, or
  // {"forward_layer", "cell"}). Keras 3 files nest a group per attribute.
  // Legacy .h5 files list a layer's variables flat, in creation order: there
  // the sublayer's are the `count` variables from `legacy_offset` on.
  virtual Result<std::vector<ir::TensorData>> SublayerVariables(
      const WeightPath& path, const std::vector<std::string>& attrs,
      size_t legacy_offset, size_t count) const = 0;

  // A short description for error messages, e.g. "model.weights.h5 in m.keras".
  virtual std::string Describe() const = 0;
};

enum class SourceFormat { kKerasZip, kKerasDir, kLegacyH5, kHubPreset };

std::string_view SourceFormatName(SourceFormat f);

struct ModelSource {
  SourceFormat format;
  // The serialized model: {"class_name": ..., "config": {...}, ...} as found
  // in config.json (or the legacy `model_config` attribute).
  nlohmann::json config;
  std::unique_ptr<WeightStore> weights;
};

// Opens `path`: a `.keras` zip, a folder holding config.json and
// model.weights.h5, or a legacy `.h5` full model.
Result<ModelSource> LoadModelSource(const std::string& path);

// The same, from bytes already in memory (zip or HDF5). `name` is used in
// error messages.
Result<ModelSource> LoadModelSourceFromBytes(std::span<const uint8_t> bytes,
                                             const std::string& name);

// A WeightStore over a Keras 3 `.weights.h5` file on disk (what
// model.save_weights and Keras-Hub presets write). `description` names it
// in messages.
Result<std::unique_ptr<WeightStore>> OpenKerasWeights(
    const std::string& path, const std::string& description);

// A WeightStore over sharded Keras 3 weights: `json_path` is the
// `*.weights.json` index (written by save_weights(max_shard_size=...)),
// whose weight_map lists the shard files beside it. A layer's variables
// may span shards; they are read in shard order.
Result<std::unique_ptr<WeightStore>> OpenShardedKerasWeights(
    const std::string& json_path, const std::string& description);

// Converts float16/bfloat16/float64 data to float32; float32 is returned as is.
// Other dtypes are an error naming `what`.
Result<ir::TensorData> ToFloat32(const ir::TensorData& t,
                                 const std::string& what);

}  // namespace k2l::keras
