#include "frontend/hub/graph_builder.h"

#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <stdexcept>
#include <utility>

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

void GraphBuilder::MarkAutoNamed(const std::string& name) {
  Layer(name)["auto_named"] = true;
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

namespace {

bool IsTensor(const json& j) {
  return j.is_object() && j.value("class_name", json()) == "__keras_tensor__";
}

// The tensors in `j`, flattened as keras' tree.flatten does: lists in
// order, dicts by sorted key (as nlohmann's objects iterate).
void FlattenTensors(const json& j, std::vector<json>& out) {
  if (IsTensor(j)) {
    out.push_back(j.at("config").at("keras_history"));
  } else if (j.is_array() || j.is_object()) {
    for (const json& e : j) FlattenTensors(e, out);
  }
}

// keras.src.ops.function.map_graph's order of a Functional's operations.
std::vector<std::string> KerasLayerOrder(const json& layers,
                                         const json& outputs) {
  using Node = std::pair<std::string, int>;
  std::map<Node, std::vector<Node>> parents;  // a node's input nodes
  std::vector<std::string> names;
  for (const json& l : layers) {
    const std::string name = l.at("name");
    names.push_back(name);
    const json& nodes = l.value("inbound_nodes", json::array());
    for (size_t k = 0; k < nodes.size(); ++k) {
      std::vector<json> refs;
      FlattenTensors(nodes[k].value("args", json::array()), refs);
      FlattenTensors(nodes[k].value("kwargs", json::object()), refs);
      auto& p = parents[{name, static_cast<int>(k)}];
      for (const json& r : refs) p.push_back({r[0], r[1].get<int>()});
    }
    if (nodes.empty()) parents[{name, 0}];  // an InputLayer
  }
  // _build_map: a depth-first walk from the outputs; nodes in post-order,
  // operations numbered at their first visit.
  std::vector<Node> order;
  std::set<Node> finished;
  std::map<std::string, int> first_visit;
  std::function<void(const Node&)> visit = [&](const Node& n) {
    if (finished.count(n)) return;
    first_visit.emplace(n.first, static_cast<int>(first_visit.size()));
    for (const Node& p : parents[n]) visit(p);
    finished.insert(n);
    order.push_back(n);
  };
  std::vector<json> outs;
  FlattenTensors(outputs, outs);
  for (const json& r : outs) visit({r[0], r[1].get<int>()});
  // Depths: outputs 0, each parent one deeper than its deepest child; an
  // operation takes the depth of its deepest node.
  std::map<Node, int> node_depth;
  std::map<std::string, int> op_depth;
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    int depth = node_depth.emplace(*it, 0).first->second;
    auto [op, fresh] = op_depth.emplace(it->first, depth);
    depth = std::max(depth, op->second);
    op->second = depth;
    node_depth[*it] = depth;
    for (const Node& p : parents[*it]) {
      auto [pd, added] = node_depth.emplace(p, depth + 1);
      if (!added) pd->second = std::max(pd->second, depth + 1);
    }
  }
  std::vector<std::string> sorted;
  for (const auto& [name, depth] : op_depth) sorted.push_back(name);
  std::stable_sort(sorted.begin(), sorted.end(),
                   [&](const std::string& a, const std::string& b) {
                     if (op_depth[a] != op_depth[b]) {
                       return op_depth[a] > op_depth[b];
                     }
                     return first_visit[a] < first_visit[b];
                   });
  // Layers no output reaches (unused inputs) keep their place at the end.
  for (const std::string& n : names) {
    if (!op_depth.count(n)) sorted.push_back(n);
  }
  return sorted;
}

}  // namespace

json GraphBuilder::Build(const json& inputs, const json& outputs) const {
  std::map<std::string, const json*> by_name;
  for (const json& l : layers_) by_name[l.at("name")] = &l;
  json ordered = json::array();
  for (const std::string& n : KerasLayerOrder(layers_, outputs)) {
    ordered.push_back(*by_name.at(n));
  }
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
            {"layers", std::move(ordered)},
            {"input_layers", in},
            {"output_layers", out}}}};
}

}  // namespace k2l::hub
