#include "frontend/keras/layer_context.h"

namespace k2l::keras {

using nlohmann::json;

LayerContext::LayerContext(ir::Graph& graph, const json& config,
                           std::string class_name, std::string name,
                           std::vector<ir::ValueId> inputs, const json& args,
                           const json& kwargs, const WeightStore* weights,
                           WeightPath weight_path, KwargTensors kwarg_inputs)
    : graph_(graph),
      config_(config),
      class_name_(std::move(class_name)),
      name_(std::move(name)),
      inputs_(std::move(inputs)),
      args_(args),
      kwargs_(kwargs),
      weights_(weights),
      weight_path_(std::move(weight_path)),
      kwarg_inputs_(std::move(kwarg_inputs)) {}

std::optional<std::vector<ir::ValueId>> LayerContext::KwargInputs(
    const std::string& key) {
  auto it = kwarg_inputs_.find(key);
  if (it == kwarg_inputs_.end()) return std::nullopt;
  used_kwargs_.insert(key);
  if (key == "mask") mask_used_ = true;  // a recorded mask, read
  return it->second;
}

Result<ir::ValueId> LayerContext::KwargInput(const std::string& key) {
  auto v = KwargInputs(key);
  if (!v) return ir::kNoValue;
  if (v->size() != 1) {
    return Invalid("its '" + key + "' argument holds " +
                       std::to_string(v->size()) + " tensors, expected one",
                   "Pass a single tensor as " + key);
  }
  return v->front();
}

ir::ValueId LayerContext::InputMask(size_t i) {
  if (i == 0) {
    auto kw = KwargInputs("mask");
    if (kw && kw->size() == 1) return kw->front();
  }
  if (!apply_input_masks_) return ir::kNoValue;
  return i < input_masks_.size() ? input_masks_[i] : ir::kNoValue;
}

ir::ValueId LayerContext::ImplicitMaskOf(ir::ValueId v) const {
  if (mask_of_ == nullptr) return ir::kNoValue;
  auto it = mask_of_->find(v);
  return it == mask_of_->end() ? ir::kNoValue : it->second;
}

void LayerContext::SetOutputMask(size_t i, ir::ValueId mask) {
  if (output_masks_.size() <= i) output_masks_.resize(i + 1, ir::kNoValue);
  output_masks_[i] = mask;
}

Status LayerContext::RequireKwargInputsUsed() const {
  for (const auto& [key, vals] : kwarg_inputs_) {
    if (used_kwargs_.count(key) == 0) {
      return Invalid("it is called with a tensor as its '" + key +
                         "' argument, which its converter does not support",
                     "Remove that argument, or file an issue with the model "
                     "that needs it");
    }
  }
  return Status::Ok();
}

LayerContext LayerContext::ForGraph(ir::Graph& g) const {
  return LayerContext(g, config_, class_name_, name_, inputs_, args_, kwargs_,
                      weights_, weight_path_);
}

LayerContext LayerContext::Sublayer(
    const json& layer_config, std::string class_name, std::string name,
    std::vector<ir::ValueId> inputs,
    const std::vector<std::string>& attrs) const {
  static const json kNoArgs = json::array();
  static const json kNoKwargs = json::object();
  return Sublayer(layer_config, std::move(class_name), std::move(name),
                  std::move(inputs), attrs, kNoArgs, kNoKwargs, {});
}

LayerContext LayerContext::Sublayer(const json& layer_config,
                                    std::string class_name, std::string name,
                                    std::vector<ir::ValueId> inputs,
                                    const std::vector<std::string>& attrs,
                                    const json& args, const json& kwargs,
                                    KwargTensors kwarg_inputs,
                                    const std::string& saved_name) const {
  WeightPath path = weight_path_;
  for (const auto& a : attrs) path.push_back({a, ""});
  if (!attrs.empty()) path.back().layer_name = saved_name;
  return LayerContext(graph_, layer_config, std::move(class_name),
                      std::move(name), std::move(inputs), args, kwargs,
                      weights_, std::move(path), std::move(kwarg_inputs));
}

std::string LayerContext::Describe() const {
  return "layer '" + name_ + "' (" + class_name_ + ")";
}

Status LayerContext::Invalid(const std::string& what,
                             const std::string& fix) const {
  return Status::Invalid(Describe() + ": " + what + ". " + fix);
}

bool LayerContext::Has(const std::string& key) const {
  return config_.is_object() && config_.contains(key) &&
         !config_.at(key).is_null();
}

Result<const json*> LayerContext::Field(const std::string& key) const {
  if (!config_.is_object() || !config_.contains(key)) {
    return Invalid("its config has no '" + key + "' field",
                   "The model file may be corrupt or written by an "
                   "unsupported Keras version; re-save it with Keras 3");
  }
  return &config_.at(key);
}

namespace {
std::string TypeMismatch(const std::string& key, const char* expected,
                         const json& got) {
  return "config field '" + key + "' should be " + expected + " but is " +
         got.dump();
}
constexpr const char* kResave =
    "The model file may be corrupt; re-save it with Keras 3";
}  // namespace

Result<int64_t> LayerContext::Int(const std::string& key) const {
  K2L_ASSIGN_OR_RETURN(const json* v, Field(key));
  if (v->is_number_integer()) return v->get<int64_t>();
  if (v->is_number_float() &&
      v->get<double>() == static_cast<int64_t>(v->get<double>())) {
    return static_cast<int64_t>(v->get<double>());
  }
  return Invalid(TypeMismatch(key, "an integer", *v), kResave);
}

Result<int64_t> LayerContext::IntOr(const std::string& key,
                                    int64_t fallback) const {
  if (!Has(key)) return fallback;
  return Int(key);
}

Result<double> LayerContext::Float(const std::string& key) const {
  K2L_ASSIGN_OR_RETURN(const json* v, Field(key));
  if (v->is_number()) return v->get<double>();
  return Invalid(TypeMismatch(key, "a number", *v), kResave);
}

Result<double> LayerContext::FloatOr(const std::string& key,
                                     double fallback) const {
  if (!Has(key)) return fallback;
  return Float(key);
}

Result<bool> LayerContext::Bool(const std::string& key) const {
  K2L_ASSIGN_OR_RETURN(const json* v, Field(key));
  if (v->is_boolean()) return v->get<bool>();
  return Invalid(TypeMismatch(key, "a boolean", *v), kResave);
}

Result<bool> LayerContext::BoolOr(const std::string& key, bool fallback) const {
  if (!Has(key)) return fallback;
  return Bool(key);
}

Result<std::string> LayerContext::String(const std::string& key) const {
  K2L_ASSIGN_OR_RETURN(const json* v, Field(key));
  if (v->is_string()) return v->get<std::string>();
  return Invalid(TypeMismatch(key, "a string", *v), kResave);
}

Result<std::string> LayerContext::StringOr(const std::string& key,
                                           const std::string& fallback) const {
  if (!Has(key)) return fallback;
  return String(key);
}

Result<std::vector<int64_t>> LayerContext::IntList(
    const std::string& key) const {
  K2L_ASSIGN_OR_RETURN(const json* v, Field(key));
  if (!v->is_array()) {
    return Invalid(TypeMismatch(key, "a list of integers", *v), kResave);
  }
  std::vector<int64_t> out;
  for (const json& e : *v) {
    if (e.is_null()) {
      out.push_back(-1);
    } else if (e.is_number_integer()) {
      out.push_back(e.get<int64_t>());
    } else {
      return Invalid(TypeMismatch(key, "a list of integers", *v), kResave);
    }
  }
  return out;
}

Result<std::vector<int64_t>> LayerContext::Ints(const std::string& key,
                                                size_t n) const {
  K2L_ASSIGN_OR_RETURN(const json* v, Field(key));
  if (v->is_number_integer()) {
    return std::vector<int64_t>(n, v->get<int64_t>());
  }
  K2L_ASSIGN_OR_RETURN(auto list, IntList(key));
  if (list.size() != n) {
    return Invalid("config field '" + key + "' should have " +
                       std::to_string(n) + " values but has " + v->dump(),
                   kResave);
  }
  return list;
}

Result<std::string> LayerContext::Choice(
    const std::string& key, const std::vector<std::string>& allowed,
    const std::string& fallback) const {
  K2L_ASSIGN_OR_RETURN(std::string v, StringOr(key, fallback));
  for (const auto& a : allowed) {
    if (a == v) return v;
  }
  std::string list;
  for (const auto& a : allowed) list += (list.empty() ? "'" : ", '") + a + "'";
  return Invalid(key + "='" + v + "' is not supported",
                 "Supported values are " + list);
}

namespace {

bool IsKerasTensor(const json& j) {
  return j.is_object() && j.value("class_name", "") == "__keras_tensor__";
}

size_t CountTensors(const json& j) {
  if (IsKerasTensor(j)) return 1;
  size_t n = 0;
  if (j.is_array() || j.is_object()) {
    for (const auto& e : j) n += CountTensors(e);
  }
  return n;
}

// Flattens a number or nested list of numbers; false if anything else.
bool Numbers(const json& j, std::vector<double>& out, ir::Shape& shape,
             size_t depth, bool& all_ints) {
  if (j.is_number()) {
    all_ints &= j.is_number_integer();
    out.push_back(j.get<double>());
    return true;
  }
  if (!j.is_array()) return false;
  if (shape.size() <= depth) shape.push_back(static_cast<int64_t>(j.size()));
  if (shape[depth] != static_cast<int64_t>(j.size())) return false;
  for (const auto& e : j) {
    if (!Numbers(e, out, shape, depth + 1, all_ints)) return false;
  }
  return true;
}

}  // namespace

Result<ir::ValueId> LayerContext::Arg(size_t i, ir::ValueId like) {
  if (i >= num_args()) {
    return Invalid("it is called with " + std::to_string(num_args()) +
                       " positional arguments; argument " + std::to_string(i) +
                       " is missing",
                   "Re-save the model with Keras 3");
  }
  size_t before = 0;
  for (size_t k = 0; k < i; ++k) before += CountTensors(args_[k]);
  const json& raw = args_[i];
  if (IsKerasTensor(raw)) return inputs_.at(before);
  // numpy arrays serialise as {"class_name": "__numpy__", "config":
  // {"dtype": ..., "value": [...]}}.
  bool numpy = raw.is_object() && raw.value("class_name", "") == "__numpy__" &&
               raw.contains("config") && raw["config"].is_object() &&
               raw["config"].contains("value");
  const json& a = numpy ? raw["config"]["value"] : raw;
  std::vector<double> values;
  ir::Shape shape;
  bool all_ints = true;
  if (!Numbers(a, values, shape, 0, all_ints)) {
    return Invalid("argument " + std::to_string(i) + " (" + raw.dump() +
                       ") is neither a tensor nor numbers",
                   "Pass tensors or numeric constants");
  }
  bool int_like =
      like != ir::kNoValue && !ir::IsFloat(graph_.value(like).dtype);
  if (all_ints && int_like) {
    std::vector<int32_t> v(values.begin(), values.end());
    return graph_.AddConstant(
        ir::TensorData::FromVector(ir::DType::kInt32, shape, v),
        graph_.FreshName(name_ + "/arg"));
  }
  std::vector<float> v(values.begin(), values.end());
  return graph_.AddConstant(
      ir::TensorData::FromVector(ir::DType::kFloat32, shape, v),
      graph_.FreshName(name_ + "/arg"));
}

Status LayerContext::RequireChannelsLast(const std::string& ops) const {
  K2L_ASSIGN_OR_RETURN(std::string fmt,
                       StringOr("data_format", "channels_last"));
  if (fmt == "channels_last") return Status::Ok();
  return Invalid("data_format='" + fmt + "' has no lowering: LiteRT " + ops +
                     " are NHWC only",
                 "Build and save the model with data_format='channels_last' "
                 "(Keras' default), which computes the same function");
}

Result<std::vector<ir::TensorData>> LayerContext::Weights(
    const std::vector<std::string>& names) const {
  if (weights_ == nullptr) {
    return Status::Internal(Describe() + ": no weight store");
  }
  auto vars = weights_->Variables(weight_path_);
  if (!vars.ok()) return vars.status().WithContext(Describe());
  return CheckedWeights(std::move(vars).value(), names, "");
}

Result<std::vector<ir::TensorData>> LayerContext::SubWeights(
    const std::vector<std::string>& attrs,
    const std::vector<std::string>& names, size_t legacy_offset) const {
  if (weights_ == nullptr) {
    return Status::Internal(Describe() + ": no weight store");
  }
  auto vars = weights_->SublayerVariables(weight_path_, attrs, legacy_offset,
                                          names.size());
  if (!vars.ok()) return vars.status().WithContext(Describe());
  std::string sub;
  for (const auto& a : attrs) sub += (sub.empty() ? "" : ".") + a;
  return CheckedWeights(std::move(vars).value(), names, sub);
}

Result<std::vector<ir::TensorData>> LayerContext::CheckedWeights(
    std::vector<ir::TensorData> vars, const std::vector<std::string>& names,
    const std::string& sublayer) const {
  std::string expected;
  for (const auto& n : names) expected += (expected.empty() ? "" : ", ") + n;
  const std::string of = sublayer.empty() ? "it" : "its " + sublayer;
  if (vars.size() != names.size()) {
    return Invalid("the weights file holds " + std::to_string(vars.size()) +
                       " variables for " + of + " but its config implies " +
                       std::to_string(names.size()) + " (" + expected + ")",
                   "The weights in " + weights_->Describe() +
                       " do not match the config; re-save the model so "
                       "both come from the same model");
  }
  std::vector<ir::TensorData> out;
  for (size_t i = 0; i < vars.size(); ++i) {
    if (!ir::IsFloat(vars[i].dtype())) {
      out.push_back(vars[i]);  // counters and other integer state
      continue;
    }
    std::string label = sublayer.empty() ? names[i] : sublayer + "." + names[i];
    auto f = ToFloat32(vars[i], Describe() + " variable '" + label + "'");
    if (!f.ok()) return f.status();
    out.push_back(std::move(f).value());
  }
  return out;
}

Status LayerContext::ExpectWeightShape(const ir::TensorData& t,
                                       const std::string& what,
                                       const ir::Shape& expected) const {
  if (t.shape() == expected) return Status::Ok();
  return Invalid("its " + what + " has shape " + ir::ShapeToString(t.shape()) +
                     " but the config implies " + ir::ShapeToString(expected),
                 "The weights file does not match the config; re-save the "
                 "model so both come from the same model");
}

Result<ir::ValueId> LayerContext::Op(ir::OpKind kind,
                                     std::vector<ir::ValueId> inputs,
                                     ir::Attrs attrs,
                                     std::optional<ir::DType> out_dtype) {
  auto r =
      graph_.Add(kind, std::move(inputs), std::move(attrs), name_, out_dtype);
  if (!r.ok()) return r.status().WithContext(Describe());
  return r;
}

Result<std::vector<ir::ValueId>> LayerContext::MultiOp(
    ir::OpKind kind, std::vector<ir::ValueId> inputs, ir::Attrs attrs) {
  auto r = graph_.AddOp(kind, std::move(inputs), std::move(attrs), name_);
  if (!r.ok()) return r.status().WithContext(Describe());
  return r;
}

ir::ValueId LayerContext::Const(ir::TensorData data, const std::string& what) {
  return graph_.AddConstant(std::move(data), name_ + "/" + what);
}

ir::ValueId LayerContext::ConstInts(const std::vector<int32_t>& v) {
  return graph_.AddInt32Constant(v, graph_.FreshName(name_ + "/const"));
}

ir::ValueId LayerContext::ConstInts(const std::vector<int32_t>& v,
                                    ir::Shape shape) {
  return graph_.AddConstant(
      ir::TensorData::FromVector(ir::DType::kInt32, std::move(shape), v),
      graph_.FreshName(name_ + "/const"));
}

ir::ValueId LayerContext::ConstFloat(float v) {
  return graph_.AddScalarFloat(v, graph_.FreshName(name_ + "/const"));
}

ir::ValueId LayerContext::ConstFloats(const std::vector<float>& v,
                                      ir::Shape shape) {
  return graph_.AddFloatConstant(v, std::move(shape),
                                 graph_.FreshName(name_ + "/const"));
}

}  // namespace k2l::keras
