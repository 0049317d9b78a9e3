// Writes a Keras 3 Functional model config (layers, inbound nodes, input
// and output layers) the way Keras serializes one, so that an architecture
// builder can describe a Keras-Hub network as the graph its constructor
// builds, and the Keras frontend lowers it like any saved model: the same
// converters, the same masks, the same weight paths.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace k2l::hub {

using nlohmann::json;

class GraphBuilder {
 public:
  explicit GraphBuilder(std::string model_name)
      : name_(std::move(model_name)) {}

  // An InputLayer; returns its tensor. `shape` excludes the batch; -1 is
  // None.
  json Input(const std::string& name, const std::string& dtype,
             const std::vector<int64_t>& shape);

  // Adds a layer and calls it once on `args` (tensors or plain values) with
  // `kwargs`; returns the call's output tensor (its `index`-th for layers
  // returning several).
  json Call(const std::string& class_name, const std::string& name,
            json config, json args, json kwargs = json::object(),
            const std::string& registered_name = "");
  // A keras.ops call (e.g. "GetItem" of keras.src.ops.numpy), with the
  // op's own config (e.g. Pad's pad_width) and keyword arguments.
  json CallOp(const std::string& module, const std::string& class_name,
              const std::string& name, json args,
              json config = json::object(), json kwargs = json::object());
  // Marks layer `name` as named by Keras itself (a layer keras-hub creates
  // without a name): its name depends on the session that saved the
  // weights, so they are found by their class path alone.
  void MarkAutoNamed(const std::string& name);
  // Calls an added layer again (weights shared), as a new node.
  json CallAgain(const std::string& name, json args,
                 json kwargs = json::object());
  // Adds a nested model (a Functional built by another GraphBuilder) and
  // calls it on `args`.
  json CallModel(json model, json args);

  // x[:, index, :] as keras.ops GetItem (how keras-hub takes the first
  // token of a sequence).
  json TokenAt(const std::string& name, const json& x, int64_t index);

  // Output `index` of node `node` of layer `name`.
  static json Tensor(const std::string& name, int node = 0, int index = 0);
  // The [layer, node, index] reference a tensor holds.
  static json Ref(const json& tensor);

  // The model: {"class_name": "Functional", "config": {...}}. `inputs` is
  // a dict of name -> tensor; `outputs` a dict, or one tensor. Its layers
  // are listed in the order Keras gives a Functional's layers (by depth
  // from the inputs, ties by first visit of a depth-first walk from the
  // outputs), which is the order its weights file counts them in.
  json Build(const json& inputs, const json& outputs) const;

 private:
  json& Layer(const std::string& name);
  std::string name_;
  json layers_ = json::array();
};

// The "name" of a backbone's or task's config, or `fallback`.
std::string NameOr(const json& config, const std::string& fallback);

// keras-hub's activation "keras_hub>gelu_approximate" as serialized.
json GeluApproximate();

// The configs of layers every text backbone uses:
// keras.layers.ReversibleEmbedding (a null `soft_cap` for none), and
// keras.layers.LayerNormalization over the last axis.
json ReversibleEmbeddingConfig(int64_t vocab, int64_t dim, bool tie = true,
                               json soft_cap = nullptr);
json LayerNormConfig(double epsilon);

}  // namespace k2l::hub
