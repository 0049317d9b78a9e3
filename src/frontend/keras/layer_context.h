// What a layer converter sees: the layer's config with checked accessors, its
// input values, its weights, and the graph to add ops to. Every error made
// through the context names the layer and its class.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/status.h"
#include "frontend/keras/model_source.h"
#include "ir/graph.h"

namespace k2l::keras {

// Tensors passed as keyword arguments of a call, by keyword, in order.
using KwargTensors = std::map<std::string, std::vector<ir::ValueId>>;

class LayerContext {
 public:
  LayerContext(ir::Graph& graph, const nlohmann::json& layer,
               std::string class_name, std::string name,
               std::vector<ir::ValueId> inputs, const nlohmann::json& args,
               const nlohmann::json& kwargs, const WeightStore* weights,
               WeightPath weight_path, KwargTensors kwarg_inputs = {});

  const std::string& name() const { return name_; }
  const std::string& class_name() const { return class_name_; }
  // The layer's own "config" object.
  const nlohmann::json& config() const { return config_; }
  // Keyword arguments of this call (e.g. `training`).
  const nlohmann::json& kwargs() const { return kwargs_; }
  // The call's positional arguments as serialised: Keras tensors (which are
  // inputs()) and plain values such as the 1.0 of keras.ops.add(x, 1.0).
  const nlohmann::json& args() const { return args_; }
  size_t num_args() const { return args_.is_array() ? args_.size() : 0; }
  // Positional argument `i` as a value: a tensor argument is its input; a
  // number or a nested list of numbers becomes a constant, int32 if all are
  // integers and `like` is an int tensor, else float32.
  Result<ir::ValueId> Arg(size_t i, ir::ValueId like = ir::kNoValue);
  ir::Graph& graph() { return graph_; }
  // The same layer adding its ops to another graph (a While's body).
  LayerContext ForGraph(ir::Graph& g) const;
  // A sublayer (e.g. TimeDistributed's `layer`) with its own config, whose
  // weights are saved under the attribute path `attrs` of this layer.
  LayerContext Sublayer(const nlohmann::json& layer_config,
                        std::string class_name, std::string name,
                        std::vector<ir::ValueId> inputs,
                        const std::vector<std::string>& attrs) const;
  // The same, called with positional `args`, keyword `kwargs` (both as a
  // Keras node serialises them; the caller keeps them alive while the
  // sublayer converts) and keyword tensors `kwarg_inputs`. `saved_name`,
  // the sublayer's own Keras name, is checked against .keras files and
  // finds its variables among its owner's in legacy .h5 files.
  LayerContext Sublayer(const nlohmann::json& layer_config,
                        std::string class_name, std::string name,
                        std::vector<ir::ValueId> inputs,
                        const std::vector<std::string>& attrs,
                        const nlohmann::json& args,
                        const nlohmann::json& kwargs, KwargTensors kwarg_inputs,
                        const std::string& saved_name = "") const;

  // Tensors passed as keyword argument `key` (e.g. attention_mask,
  // initial_state), or nullopt. Reading marks them used: a tensor argument
  // no converter reads is an error, not silently dropped.
  std::optional<std::vector<ir::ValueId>> KwargInputs(const std::string& key);
  // The single tensor of keyword argument `key`, or kNoValue when absent.
  Result<ir::ValueId> KwargInput(const std::string& key);
  Status RequireKwargInputsUsed() const;

  // Keras masks (from Masking, Embedding(mask_zero=True)) travel beside
  // tensors. InputMask is the [batch, time] mask of
  // positional input `i`, or kNoValue. A converter that applies it calls
  // MarkMaskUsed; one that makes a mask (or changes it) sets its outputs'.
  // Keras 3 Functional files record the mask as the call's `mask` keyword
  // tensor, which comes first; Sequential models and tf.keras files leave
  // it implicit, and the lowering replays it (see masking.h).
  ir::ValueId InputMask(size_t i);
  void MarkMaskUsed() { mask_used_ = true; }
  bool mask_used() const { return mask_used_; }
  void SetOutputMask(size_t i, ir::ValueId mask);
  const std::vector<ir::ValueId>& output_masks() const { return output_masks_; }
  bool output_masks_set() const { return !output_masks_.empty(); }
  // `apply`: whether InputMask returns these implicit masks (files that
  // record no masks), else only a recorded `mask` argument. `mask_of` maps
  // every masked value to its implicit mask (see ImplicitMaskOf).
  void SetInputMasks(std::vector<ir::ValueId> masks, bool apply,
                     const std::map<ir::ValueId, ir::ValueId>* mask_of) {
    input_masks_ = std::move(masks);
    apply_input_masks_ = apply;
    mask_of_ = mask_of;
  }
  // The implicit Keras mask riding with value `v` (any input of this call,
  // positional or keyword), or kNoValue. A converter that applies it calls
  // MarkMaskUsed.
  ir::ValueId ImplicitMaskOf(ir::ValueId v) const;

  size_t num_inputs() const { return inputs_.size(); }
  const std::vector<ir::ValueId>& inputs() const { return inputs_; }
  ir::ValueId input(size_t i = 0) const { return inputs_.at(i); }
  const ir::Value& value(ir::ValueId id) const { return graph_.value(id); }
  // By value: adding ops or constants may move the graph's values.
  ir::Shape shape(ir::ValueId id) const { return graph_.value(id).shape; }
  size_t rank(ir::ValueId id) const { return shape(id).size(); }

  // Checked config access. A missing key or a value of the wrong type is an
  // error naming the layer and the key.
  bool Has(const std::string& key) const;
  Result<int64_t> Int(const std::string& key) const;
  Result<int64_t> IntOr(const std::string& key, int64_t fallback) const;
  Result<double> Float(const std::string& key) const;
  Result<double> FloatOr(const std::string& key, double fallback) const;
  Result<bool> Bool(const std::string& key) const;
  Result<bool> BoolOr(const std::string& key, bool fallback) const;
  Result<std::string> String(const std::string& key) const;
  Result<std::string> StringOr(const std::string& key,
                               const std::string& fallback) const;
  // An int or a list of ints; a single int is repeated `n` times.
  Result<std::vector<int64_t>> Ints(const std::string& key, size_t n) const;
  // A list of ints of any length (null entries become -1).
  Result<std::vector<int64_t>> IntList(const std::string& key) const;
  // Requires a config value to be one of `allowed`.
  Result<std::string> Choice(const std::string& key,
                             const std::vector<std::string>& allowed,
                             const std::string& fallback) const;

  // Requires data_format to be channels_last (or absent); `ops` names what
  // LiteRT lacks, e.g. "convolutions".
  Status RequireChannelsLast(const std::string& ops) const;

  // Loads this layer's variables (floats as float32), requiring exactly
  // `names.size()` of them. `names` label the variables in errors (e.g.
  // {"kernel", "bias"}).
  Result<std::vector<ir::TensorData>> Weights(
      const std::vector<std::string>& names) const;
  // Loads the variables of a sublayer saved under the attribute path
  // `attrs` (e.g. {"cell"}, {"query_dense"}), as Weights does. In legacy .h5
  // files, which list a layer's variables flat in creation order, the
  // sublayer's are the names.size() variables from `legacy_offset` on.
  Result<std::vector<ir::TensorData>> SubWeights(
      const std::vector<std::string>& attrs,
      const std::vector<std::string>& names, size_t legacy_offset) const;
  // Requires `t` to have shape `expected`, else an error saying the weights
  // contradict the config.
  Status ExpectWeightShape(const ir::TensorData& t, const std::string& what,
                           const ir::Shape& expected) const;

  // Adds an op whose origin is this layer.
  Result<ir::ValueId> Op(ir::OpKind kind, std::vector<ir::ValueId> inputs,
                         ir::Attrs attrs = ir::NoAttrs{},
                         std::optional<ir::DType> out_dtype = {});
  Result<std::vector<ir::ValueId>> MultiOp(ir::OpKind kind,
                                           std::vector<ir::ValueId> inputs,
                                           ir::Attrs attrs);
  ir::ValueId Const(ir::TensorData data, const std::string& what);
  ir::ValueId ConstInts(const std::vector<int32_t>& v);
  ir::ValueId ConstInts(const std::vector<int32_t>& v, ir::Shape shape);
  ir::ValueId ConstFloat(float v);
  ir::ValueId ConstFloats(const std::vector<float>& v, ir::Shape shape);

  // "layer 'name' (Class): <what>. <fix>" as an invalid-input status.
  Status Invalid(const std::string& what, const std::string& fix) const;
  // Prefix used for errors and op origins: "layer 'name' (Class)".
  std::string Describe() const;

 private:
  Result<const nlohmann::json*> Field(const std::string& key) const;
  Result<std::vector<ir::TensorData>> CheckedWeights(
      std::vector<ir::TensorData> vars, const std::vector<std::string>& names,
      const std::string& sublayer) const;

  ir::Graph& graph_;
  const nlohmann::json& config_;
  std::string class_name_;
  std::string name_;
  std::vector<ir::ValueId> inputs_;
  const nlohmann::json& args_;
  const nlohmann::json& kwargs_;
  const WeightStore* weights_;
  WeightPath weight_path_;
  KwargTensors kwarg_inputs_;
  std::set<std::string> used_kwargs_;
  std::vector<ir::ValueId> input_masks_;
  std::vector<ir::ValueId> output_masks_;
  bool mask_used_ = false;
  bool apply_input_masks_ = false;
  const std::map<ir::ValueId, ir::ValueId>* mask_of_ = nullptr;
};

// Converts one layer call; returns its output values in Keras order.
using LayerConverter = Result<std::vector<ir::ValueId>> (*)(LayerContext&);

}  // namespace k2l::keras
