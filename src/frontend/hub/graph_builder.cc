#include "frontend/hub/graph_builder.h"

#include <stdexcept>

namespace k2l::hub {

json GraphBuilder::Tensor(const std::string& name, int node, int index) {
  return {{"class_name", "__keras_tensor__"},
          {"config", {{"keras_history", {name, node, index}}}}};
}

json GraphBuilder::Ref(const json& tensor) {
  return tensor.at("config").at("keras_history");
}

json GraphBuilder::Input(const std::string& name, const std::string& dtype,
                         const std::vector<int64_t>& shape) {
  json batch_shape = json::array({nullptr});
  for (int64_t d : shape) {
    batch_shape.push_back(d < 0 ? json(nullptr) : json(d));
  }
  layers_.push_back({{"class_name", "InputLayer"},
                     {"name", name},
                     {"config",
                      {{"name", name},
                       {"batch_shape", batch_shape},
                       {"dtype", dtype},
                       {"sparse", false},
                       {"ragged", false}}},
                     {"inbound_nodes", json::array()}});
  return Tensor(name);
}

json& GraphBuilder::Layer(const std::string& name) {
  for (json& l : layers_) {
    if (l["name"] == name) return l;
  }
  // Builders are code, not input: a missing layer is a bug in a builder.
  throw std::logic_error("graph builder: no layer named " + name);
}

json GraphBuilder::Call(const std::string& class_name, const std::string& name,
                        json config, json args, json kwargs,
                        const std::string& registered_name) {
  config["name"] = name;
  json layer = {{"class_name", class_name},
                {"name", name},
                {"config", std::move(config)},
                {"inbound_nodes",
                 json::array({{{"args", std::move(args)},
                               {"kwargs", std::move(kwargs)}}})}};
  if (!registered_name.empty()) layer["registered_name"] = registered_name;
  layers_.push_back(std::move(layer));
  return Tensor(name);
}

json GraphBuilder::CallOp(const std::string& module,
                          const std::string& class_name,
                          const std::string& name, json args, json config,
                          json kwargs) {
  config["name"] = name;
  layers_.push_back({{"module", module},
                     {"class_name", class_name},
                     {"registered_name", class_name},
                     {"name", name},
                     {"config", std::move(config)},
                     {"inbound_nodes",
                      json::array({{{"args", std::move(args)},
                                    {"kwargs", std::move(kwargs)}}})}});
  return Tensor(name);
}

json GraphBuilder::TokenAt(const std::string& name, const json& x,
                           int64_t index) {
  const json all = {
      {"class_name", "__slice__"},
      {"config", {{"start", nullptr}, {"stop", nullptr}, {"step", nullptr}}}};
  return CallOp("keras.src.ops.numpy", "GetItem", name,
                json::array({x, json::array({all, index, all})}));
}

std::string NameOr(const json& config, const std::string& fallback) {
  return config.is_object() && config.value("name", json()).is_string()
             ? config["name"].get<std::string>()
             : fallback;
}

json GeluApproximate() {
  return {{"module", "builtins"},
          {"class_name", "function"},
          {"config", "keras_hub>gelu_approximate"},
          {"registered_name", "function"}};
}

json ReversibleEmbeddingConfig(int64_t vocab, int64_t dim, bool tie,
                               json soft_cap) {
  return {{"input_dim", vocab},
          {"output_dim", dim},
          {"tie_weights", tie},
          {"mask_zero", false},
          {"reverse_dtype", nullptr},
          {"logit_soft_cap", std::move(soft_cap)}};
}

json LayerNormConfig(double epsilon) {
  return {{"axis", {-1}},
          {"epsilon", epsilon},
          {"center", true},
          {"scale", true},
          {"rms_scaling", false}};
}

json GraphBuilder::CallAgain(const std::string& name, json args, json kwargs) {
  json& nodes = Layer(name)["inbound_nodes"];
  nodes.push_back({{"args", std::move(args)}, {"kwargs", std::move(kwargs)}});
  return Tensor(name, int(nodes.size()) - 1);
}

json GraphBuilder::CallModel(json model, json args) {
  std::string name = model["config"]["name"];
  model["name"] = name;
  model["inbound_nodes"] =
      json::array({{{"args", std::move(args)}, {"kwargs", json::object()}}});
  layers_.push_back(std::move(model));
  return Tensor(name);
}

json GraphBuilder::Build(const json& inputs, const json& outputs) const {
  json in = json::object(), out = json::object();
  for (const auto& [k, t] : inputs.items()) in[k] = Ref(t);
  if (outputs.value("class_name", json()) == "__keras_tensor__") {
    out = Ref(outputs);  // a single, unnamed output
  } else {
    for (const auto& [k, t] : outputs.items()) out[k] = Ref(t);
  }
  return {{"class_name", "Functional"},
          {"config",
           {{"name", name_},
            {"layers", layers_},
            {"input_layers", in},
            {"output_layers", out}}}};
}

}  // namespace k2l::hub
