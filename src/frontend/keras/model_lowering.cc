// Walks Keras model configs. Two node formats exist:
//  - Keras 3: inbound_nodes = [{"args": [...], "kwargs": {...}}], tensors are
//    {"class_name": "__keras_tensor__", "config": {"keras_history":
//    [layer, node, tensor]}} anywhere inside args.
//  - Keras 2 (tf.keras): inbound_nodes = [[[layer, node, tensor, kwargs],
//    ...]].
// A history's node index counts the calls of that layer in this model. In
// Keras 3, `input_layers`/`output_layers` count a nested Functional's
// built-in node too, so their indices are one higher for such layers.
#include "frontend/keras/model_lowering.h"

#include <algorithm>
#include <map>
#include <regex>
#include <set>

#include "frontend/keras/layer_catalog.h"
#include "frontend/keras/masking.h"

namespace k2l::keras {

using nlohmann::json;

std::string ToSnakeCase(const std::string& class_name) {
  static const std::regex non_word(R"(\W+)");
  static const std::regex upper_word("(.)([A-Z][a-z]+)");
  static const std::regex lower_upper("([a-z])([A-Z])");
  std::string s = std::regex_replace(class_name, non_word, "");
  s = std::regex_replace(s, upper_word, "$1_$2");
  s = std::regex_replace(s, lower_upper, "$1_$2");
  for (char& c : s) c = static_cast<char>(std::tolower(c));
  return s;
}

std::string ContainerItemName(const std::string& class_name, size_t k) {
  const std::string snake = ToSnakeCase(class_name);
  return k == 0 ? snake : snake + "_" + std::to_string(k);
}

namespace {

bool IsModelClass(const std::string& cls) {
  return cls == "Functional" || cls == "Sequential" || cls == "Model";
}

// Executable configs: refused because a model file is untrusted input.
bool IsCodeLayer(const std::string& cls) {
  return cls == "Lambda" || cls == "TFOpLambda" || cls == "SlicingOpLambda";
}

std::string LayerName(const json& layer) {
  if (layer.contains("name") && layer["name"].is_string()) {
    return layer["name"].get<std::string>();
  }
  if (layer.contains("config") && layer["config"].is_object() &&
      layer["config"].contains("name") && layer["config"]["name"].is_string()) {
    return layer["config"]["name"].get<std::string>();
  }
  return "<unnamed>";
}

std::string ClassName(const json& layer) {
  if (layer.is_object() && layer.contains("class_name") &&
      layer["class_name"].is_string()) {
    return layer["class_name"].get<std::string>();
  }
  return "";
}

const json& LayerList(const json& model_config) {
  static const json empty = json::array();
  if (model_config.is_object() && model_config.contains("layers") &&
      model_config["layers"].is_array()) {
    return model_config["layers"];
  }
  return empty;
}

// keras.ops calls in a Functional model serialise as operations whose class
// names can equal layer names ("Add", "Reshape") with other semantics, so
// they live under their own registry keys: "ops.Add".
bool IsOpsOperation(const json& layer) {
  if (!layer.is_object() || !layer.contains("module") ||
      !layer["module"].is_string()) {
    return false;
  }
  const std::string m = layer["module"].get<std::string>();
  return m.rfind("keras.src.ops", 0) == 0 || m.rfind("keras.ops", 0) == 0;
}

// A class registered with keras.saving.register_keras_serializable (such
// as Keras-Hub's layers) is looked up by its registered name, "package>Class":
// a user's own class may share a built-in's or Keras-Hub's class name, so
// its class name alone would pick a converter for another layer.
// keras-hub classes that are not registered (Gemma's RMSNormalization) save
// their bare class name; their module tells them from a Keras layer of the
// same name with other semantics, and they are looked up as
// "keras_hub><Class>" when a converter is registered so.
std::string RegistryKey(const json& layer, const Registry& registry) {
  if (IsOpsOperation(layer)) return "ops." + ClassName(layer);
  if (layer.is_object() && layer.contains("registered_name") &&
      layer["registered_name"].is_string()) {
    const std::string reg = layer["registered_name"].get<std::string>();
    // Keras-Hub is KerasNLP renamed: files of the old name hold the same
    // layers.
    static const std::string kNlp = "keras_nlp>";
    if (reg.rfind(kNlp, 0) == 0) return "keras_hub>" + reg.substr(kNlp.size());
    if (reg.find('>') != std::string::npos) return reg;
  }
  if (layer.is_object() && layer.contains("module") &&
      layer["module"].is_string() &&
      layer["module"].get<std::string>().rfind("keras_hub", 0) == 0) {
    std::string hub = "keras_hub>" + ClassName(layer);
    if (registry.Find(hub) != nullptr) return hub;
  }
  return ClassName(layer);
}

struct Finding {
  std::string class_name;
  std::string name;
  // Why it is unsupported, when the catalog cannot say.
  std::string why;
};

// Why a class registered under a package ("package>Class") has no
// converter: it is not looked up by its class name alone.
std::string WhyRegisteredUnsupported(const std::string& key) {
  if (key.find('>') == std::string::npos) return "";
  if (key.rfind("keras_hub>", 0) == 0) {
    return "a Keras-Hub layer that has no converter yet";
  }
  return "a custom class registered as '" + key +
         "': its call() is Python code the file does not hold (a class of "
         "the same name in Keras or Keras-Hub is another layer)";
}

void CollectProblems(const json& layers, const Registry& reg,
                     std::vector<Finding>& unsupported,
                     std::vector<Finding>& code) {
  for (const json& layer : layers) {
    std::string cls = ClassName(layer);
    std::string name = LayerName(layer);
    if (cls == "InputLayer") continue;
    if (IsModelClass(cls)) {
      CollectProblems(LayerList(layer.value("config", json::object())), reg,
                      unsupported, code);
    } else if (IsCodeLayer(cls)) {
      code.push_back({cls, name, ""});
    } else if (reg.Find(RegistryKey(layer, reg)) == nullptr) {
      unsupported.push_back(
          {IsOpsOperation(layer) ? "keras.ops " + cls : cls, name,
           IsOpsOperation(layer) ? "" : WhyRegisteredUnsupported(
                                             RegistryKey(layer, reg))});
    }
  }
}

// Parses a dtype policy or dtype name from a layer config.
Result<ir::DType> ParseDType(const json& v, const std::string& where) {
  std::string name = "float32";
  if (v.is_string()) {
    name = v.get<std::string>();
  } else if (v.is_object() && v.contains("config") && v["config"].is_object() &&
             v["config"].contains("name")) {
    name = v["config"]["name"].get<std::string>();
  }
  static const std::map<std::string, ir::DType> kNames = {
      {"float32", ir::DType::kFloat32},
      {"float16", ir::DType::kFloat32},
      {"bfloat16", ir::DType::kFloat32},
      {"float64", ir::DType::kFloat32},
      {"mixed_float16", ir::DType::kFloat32},
      {"mixed_bfloat16", ir::DType::kFloat32},
      {"int32", ir::DType::kInt32},
      {"int64", ir::DType::kInt32},
      {"int8", ir::DType::kInt8},
      {"uint8", ir::DType::kUInt8},
      {"int16", ir::DType::kInt16},
      {"bool", ir::DType::kBool}};
  auto it = kNames.find(name);
  if (it == kNames.end()) {
    return Status::Invalid(where + ": dtype '" + name +
                           "' is not supported. Use a float32 or int32 input");
  }
  return it->second;
}

struct TensorRef {
  std::string layer;
  int node = 0;
  int tensor = 0;
};

Result<TensorRef> ParseRef(const json& j, const std::string& where) {
  if (!j.is_array() || j.size() < 3 || !j[0].is_string() ||
      !j[1].is_number_integer() || !j[2].is_number_integer()) {
    return Status::Invalid(where + ": malformed tensor reference " + j.dump() +
                           ". Re-save the model with Keras 3");
  }
  return TensorRef{j[0].get<std::string>(), j[1].get<int>(), j[2].get<int>()};
}

// Collects the Keras tensors referenced in a Keras 3 `args` structure, in
// order.
Status CollectTensorRefs(const json& j, std::vector<TensorRef>& out,
                         const std::string& where) {
  if (j.is_object()) {
    if (j.value("class_name", "") == "__keras_tensor__") {
      const json& cfg = j.value("config", json::object());
      if (!cfg.contains("keras_history")) {
        return Status::Invalid(where + ": a tensor has no keras_history");
      }
      K2L_ASSIGN_OR_RETURN(TensorRef r, ParseRef(cfg["keras_history"], where));
      out.push_back(r);
      return Status::Ok();
    }
    for (const auto& [k, v] : j.items()) {
      K2L_RETURN_IF_ERROR(CollectTensorRefs(v, out, where));
    }
  } else if (j.is_array()) {
    for (const json& e : j)
      K2L_RETURN_IF_ERROR(CollectTensorRefs(e, out, where));
  }
  return Status::Ok();
}

// A leaf of an input/output structure: the reference and its signature name.
struct NamedRef {
  std::string key;  // dict key, or empty
  TensorRef ref;
};

Status FlattenStructure(const json& j, const std::string& key,
                        std::vector<NamedRef>& out, const std::string& where) {
  if (j.is_array() && !j.empty() && j[0].is_string()) {
    K2L_ASSIGN_OR_RETURN(TensorRef r, ParseRef(j, where));
    out.push_back({key, r});
  } else if (j.is_array()) {
    for (const json& e : j)
      K2L_RETURN_IF_ERROR(FlattenStructure(e, "", out, where));
  } else if (j.is_object()) {
    for (const auto& [k, v] : j.items()) {
      K2L_RETURN_IF_ERROR(FlattenStructure(v, k, out, where));
    }
  } else {
    return Status::Invalid(where + ": malformed input/output structure " +
                           j.dump());
  }
  return Status::Ok();
}

class Lowerer {
 public:
  Lowerer(ir::Graph& g, const Registry& reg, const WeightStore* weights,
          const LoweringOptions& options, int total_layers)
      : g_(g),
        reg_(reg),
        weights_(weights),
        options_(options),
        total_layers_(total_layers) {}

  // After lowering: every override must have met its input.
  Status CheckOverridesUsed() const {
    const auto& ovs = options_.inputs;
    if (ovs.empty()) return Status::Ok();
    std::string names;
    for (const std::string& n : input_ports_)
      names += (names.empty() ? "'" : ", '") + n + "'";
    if (ovs[0].name.empty()) {
      if (ovs.size() != input_ports_.size()) {
        return Status::Invalid(
            "input_signature has " + std::to_string(ovs.size()) +
            " entr" + (ovs.size() == 1 ? "y" : "ies") + " but the model has " +
            std::to_string(input_ports_.size()) + " input" +
            (input_ports_.size() == 1 ? "" : "s") + " (" + names +
            "). Give one InputSpec per input, in the model's input order, or "
            "a dict keyed by input name");
      }
      return Status::Ok();
    }
    for (const InputOverride& o : ovs) {
      if (std::find(input_ports_.begin(), input_ports_.end(), o.name) ==
          input_ports_.end()) {
        return Status::Invalid("input_signature names '" + o.name +
                               "', which is not an input of the model. Its "
                               "inputs are " +
                               names + "; key the signature by these names");
      }
    }
    return Status::Ok();
  }

  // Lowers `model` (an entry with class_name and config). Without `inputs`,
  // the model's inputs become graph inputs (the top level).
  Result<std::vector<std::pair<std::string, ir::ValueId>>> Lower(
      const json& model, const WeightPath& path,
      const std::vector<ir::ValueId>* inputs) {
    std::string cls = ClassName(model);
    const json& cfg = model.value("config", json::object());
    if (cls == "Sequential") return LowerSequential(model, cfg, path, inputs);
    if (cfg.is_object() && cfg.contains("layers") &&
        cfg.contains("input_layers")) {
      return LowerFunctional(model, cfg, path, inputs);
    }
    return Status::Invalid(
        "model '" + LayerName(model) + "' (" + cls +
        ") has no layer graph in its config: it is a subclassed model whose "
        "call() is Python code, which a file does not contain. Rebuild it "
        "with the Functional or Sequential API and save it again");
  }

 private:
  Result<ir::ValueId> MakeInput(const json& layer, const std::string& port) {
    const json& c = layer.value("config", json::object());
    std::string where = "input '" + LayerName(layer) + "'";
    json shape = c.contains("batch_shape")         ? c["batch_shape"]
                 : c.contains("batch_input_shape") ? c["batch_input_shape"]
                                                   : json();
    if (!shape.is_array() || shape.empty()) {
      return Status::Invalid(where +
                             " has no batch_shape in its config. "
                             "Re-save the model with Keras 3");
    }
    ir::Shape s;
    for (const json& d : shape) {
      s.push_back(d.is_number_integer() ? d.get<int64_t>() : ir::kDynamic);
    }
    s[0] = ir::kDynamic;  // the batch is resizable unless the user fixes it
    if (c.value("sparse", false) || c.value("ragged", false)) {
      return Status::Invalid(where +
                             " is sparse or ragged, which LiteRT "
                             "builtins cannot take. Use a dense input");
    }
    K2L_ASSIGN_OR_RETURN(ir::DType dt,
                         ParseDType(c.value("dtype", json("float32")), where));
    size_t position = input_ports_.size();
    input_ports_.push_back(port);
    const InputOverride* ov = FindOverride(port, position);
    if (ov != nullptr) {
      std::string sig = "input_signature for input '" + port + "'";
      if (ov->shape) {
        const ir::Shape& o = *ov->shape;
        if (o.size() != s.size()) {
          return Status::Invalid(
              sig + " has rank " + std::to_string(o.size()) + " " +
              ir::ShapeToString(o) + " but the model's input has rank " +
              std::to_string(s.size()) + " " + ir::ShapeToString(s) +
              ". Give a shape of rank " + std::to_string(s.size()) +
              " with the batch first");
        }
        for (size_t i = 1; i < s.size(); ++i) {
          if (s[i] != ir::kDynamic && o[i] != s[i]) {
            return Status::Invalid(
                sig + " gives dimension " + std::to_string(i) + " as " +
                (o[i] == ir::kDynamic ? std::string("None")
                                      : std::to_string(o[i])) +
                " but the model fixes it to " + std::to_string(s[i]) +
                ": its weights are built for that size. Use " +
                std::to_string(s[i]) + " there");
          }
        }
        s = o;
      }
      if (!ov->dtype.empty()) {
        K2L_ASSIGN_OR_RETURN(ir::DType odt, ParseDType(json(ov->dtype), sig));
        if (odt != dt) {
          return Status::Invalid(
              sig + " gives dtype " + std::string(ir::DTypeName(odt)) +
              " but the model's Input is " + std::string(ir::DTypeName(dt)) +
              ". The converter inserts no casts; give " +
              std::string(ir::DTypeName(dt)) +
              " or change the Input's dtype in the model");
        }
      }
    }
    return g_.AddInput(port, dt, s);
  }

  Result<std::vector<ir::ValueId>> CallLayer(
      const json& layer, const WeightPath& path, std::vector<ir::ValueId> ins,
      KwargTensors kw_ins, const json& args, const json& kwargs) {
    LayerDone();
    std::string cls = ClassName(layer);
    std::string name = LayerName(layer);
    // Masks are tracked in every file: Keras 3 records a `mask` argument
    // but not the query/value/key masks attention layers take implicitly.
    std::vector<ir::ValueId> in_masks;
    bool masked = false;
    for (ir::ValueId v : ins) {
      auto it = mask_of_.find(v);
      in_masks.push_back(it == mask_of_.end() ? ir::kNoValue : it->second);
      masked |= it != mask_of_.end();
    }
    for (const auto& [key, vals] : kw_ins) {
      for (ir::ValueId v : vals) masked |= mask_of_.count(v) > 0;
    }
    if (IsModelClass(cls)) {
      if (masked) {
        return Status::Invalid(
            "model '" + name + "' (" + cls +
            ") receives a Keras mask (from "
            "a Masking layer or Embedding(mask_zero=True)) across its "
            "boundary, which this converter does not carry into a nested "
            "model. Flatten the nested model into the outer one");
      }
      if (!kw_ins.empty()) {
        return Status::Invalid(
            "model '" + name + "' (" + cls +
            ") is called with tensors as "
            "keyword arguments (" +
            kw_ins.begin()->first +
            "), which a "
            "nested model does not take. Pass its inputs positionally");
      }
      K2L_ASSIGN_OR_RETURN(auto outs, Lower(layer, path, &ins));
      std::vector<ir::ValueId> ids;
      for (auto& [n, id] : outs) ids.push_back(id);
      return ids;
    }
    const LayerInfo* info = reg_.Find(RegistryKey(layer, reg_));
    if (info == nullptr) {
      return Status::Internal("layer '" + name + "' (" + cls +
                              ") has no converter");
    }
    static const json kEmpty = json::object();
    const json& cfg = layer.contains("config") ? layer["config"] : kEmpty;
    LayerContext ctx(g_, cfg, cls, name, std::move(ins), args, kwargs, weights_,
                     path, std::move(kw_ins));
    ctx.SetInputMasks(in_masks, implicit_masks_, &mask_of_);
    K2L_ASSIGN_OR_RETURN(auto outs, info->convert(ctx));
    // A tensor argument the converter did not read would be silently lost.
    K2L_RETURN_IF_ERROR(ctx.RequireKwargInputsUsed());
    K2L_RETURN_IF_ERROR(PropagateMasks(ctx, outs, in_masks, masked));
    return outs;
  }

  // Applies Keras' mask rules after a layer call (see masking.h).
  Status PropagateMasks(const LayerContext& ctx,
                        const std::vector<ir::ValueId>& outs,
                        const std::vector<ir::ValueId>& in_masks, bool masked) {
    MaskRule rule = ctx.class_name().rfind("ops.", 0) == 0
                        ? MaskRule::kDrop
                        : MaskRuleFor(ctx.class_name());
    // Where the file records masks (Keras 3 Functional), a `mask` argument
    // is an explicit tensor and the checks below are the kwargs check's;
    // only the query/value/key masks of attention stay implicit.
    const bool check =
        implicit_masks_ || TakesImplicitSequenceMasks(ctx.class_name());
    if (masked && check) {
      const std::string from =
          " receives a Keras mask (made by a Masking layer or "
          "Embedding(mask_zero=True) upstream)";
      if (rule == MaskRule::kConsume && !ctx.mask_used()) {
        return ctx.Invalid(
            from.substr(1) +
                ", and its converter cannot apply it; ignoring "
                "it would change the results",
            "Remove the mask upstream (mask_zero=False, no Masking layer), "
            "or pass an explicit mask argument the layer supports");
      }
      if (rule == MaskRule::kCombine) {
        return ctx.Invalid(
            from.substr(1) + ", and merging masks is not supported",
            "Remove the mask upstream (mask_zero=False, no Masking layer) "
            "or merge after the layers that consume it");
      }
    }
    for (size_t i = 0; i < outs.size(); ++i) {
      ir::ValueId m = ir::kNoValue;
      if (ctx.output_masks_set()) {
        if (i < ctx.output_masks().size()) m = ctx.output_masks()[i];
      } else if (rule == MaskRule::kPass && !in_masks.empty()) {
        m = in_masks[0];
      }
      if (m == ir::kNoValue) {
        mask_of_.erase(outs[i]);
      } else {
        mask_of_[outs[i]] = m;
      }
    }
    return Status::Ok();
  }

  // Assigns each layer its weight-group path, as Keras' saving walk does.
  std::vector<WeightPath> WeightPaths(const json& layers,
                                      const WeightPath& prefix,
                                      bool skip_inputs) {
    std::map<std::string, int> used;
    std::vector<WeightPath> paths;
    for (const json& layer : layers) {
      std::string cls = ClassName(layer);
      WeightPath p = prefix;
      // keras.ops operations are not in model.layers, which names weights.
      if (!(skip_inputs && cls == "InputLayer") && !IsOpsOperation(layer)) {
        std::string snake = ToSnakeCase(cls);
        auto it = used.find(snake);
        std::string seg = snake;
        if (it == used.end()) {
          used[snake] = 0;
        } else {
          seg += "_" + std::to_string(++it->second);
        }
        // A layer Keras names itself inside a constructor (keras-hub's
        // keras.Model(...) of a backbone's feature pyramid) has a name
        // that depends on the session that saved it; an architecture
        // builder marks it "auto_named", and its weights are found by
        // their class path alone.
        const bool auto_named = layer.value("auto_named", false);
        p.push_back({"layers/" + seg, auto_named ? "" : LayerName(layer)});
      }
      paths.push_back(std::move(p));
    }
    return paths;
  }

  Result<std::vector<std::pair<std::string, ir::ValueId>>> LowerSequential(
      const json& model, const json& cfg, const WeightPath& prefix,
      const std::vector<ir::ValueId>* inputs) {
    const json& layers = LayerList(cfg);
    auto paths = WeightPaths(layers, prefix, /*skip_inputs=*/true);
    ir::ValueId x = ir::kNoValue;
    size_t start = 0;
    if (!layers.empty() && ClassName(layers[0]) == "InputLayer") {
      start = 1;
      if (inputs == nullptr) {
        K2L_ASSIGN_OR_RETURN(x, MakeInput(layers[0], LayerName(layers[0])));
      }
    } else if (inputs == nullptr) {
      json fake = {{"name", "input_layer"}, {"config", json::object()}};
      if (cfg.contains("build_input_shape")) {
        fake["config"]["batch_shape"] = cfg["build_input_shape"];
      } else if (!layers.empty() && layers[0].contains("config") &&
                 layers[0]["config"].contains("batch_input_shape")) {
        fake["config"]["batch_shape"] =
            layers[0]["config"]["batch_input_shape"];
      }
      if (!fake["config"].contains("batch_shape")) {
        return Status::Invalid(
            "Sequential model '" + LayerName(model) +
            "' was never built, so its input shape is unknown. Call "
            "model.build(input_shape) or start it with keras.Input(...) "
            "before saving");
      }
      K2L_ASSIGN_OR_RETURN(x, MakeInput(fake, "input_layer"));
    }
    if (inputs != nullptr) {
      if (inputs->size() != 1) {
        return Status::Invalid(
            "Sequential model '" + LayerName(model) + "' is called with " +
            std::to_string(inputs->size()) + " inputs but takes one");
      }
      x = (*inputs)[0];
    }
    std::string last = LayerName(model);
    MaskMode mode(implicit_masks_, true);  // a Sequential records no masks
    for (size_t i = start; i < layers.size(); ++i) {
      K2L_ASSIGN_OR_RETURN(auto outs, CallLayer(layers[i], paths[i], {x}, {},
                                                json::array(), json::object()));
      if (outs.size() != 1) {
        return Status::Invalid("layer '" + LayerName(layers[i]) +
                               "' returns several tensors, which a Sequential "
                               "model cannot pass on. Use the Functional API");
      }
      x = outs[0];
      last = LayerName(layers[i]);
    }
    return std::vector<std::pair<std::string, ir::ValueId>>{{last, x}};
  }

  Result<std::vector<std::pair<std::string, ir::ValueId>>> LowerFunctional(
      const json& model, const json& cfg, const WeightPath& prefix,
      const std::vector<ir::ValueId>* inputs) {
    const std::string where = "model '" + LayerName(model) + "'";
    const json& layers = LayerList(cfg);
    auto paths = WeightPaths(layers, prefix, /*skip_inputs=*/false);
    std::map<std::string, size_t> index_of;
    for (size_t i = 0; i < layers.size(); ++i)
      index_of[LayerName(layers[i])] = i;

    // Outputs of each (layer, call).
    std::map<std::pair<std::string, int>, std::vector<ir::ValueId>> produced;

    std::vector<NamedRef> in_refs, out_refs;
    K2L_RETURN_IF_ERROR(
        FlattenStructure(cfg["input_layers"], "", in_refs, where));
    K2L_RETURN_IF_ERROR(FlattenStructure(
        cfg.value("output_layers", json::array()), "", out_refs, where));
    if (inputs != nullptr && inputs->size() != in_refs.size()) {
      return Status::Invalid(
          where + " is called with " + std::to_string(inputs->size()) +
          " inputs but takes " + std::to_string(in_refs.size()));
    }
    for (size_t k = 0; k < in_refs.size(); ++k) {
      const std::string& lname = in_refs[k].ref.layer;
      auto it = index_of.find(lname);
      if (it == index_of.end()) {
        return Status::Invalid(where + ": input layer '" + lname +
                               "' is not in its layer list");
      }
      ir::ValueId v;
      if (inputs != nullptr) {
        v = (*inputs)[k];
      } else {
        std::string port = in_refs[k].key.empty() ? lname : in_refs[k].key;
        K2L_ASSIGN_OR_RETURN(v, MakeInput(layers[it->second], port));
      }
      produced[{lname, 0}] = {v};
    }

    // Pending calls: (layer index, call index, node json).
    struct Call {
      size_t layer;
      int node;
      std::vector<TensorRef> refs;  // positional tensors, then keyword ones
      json args;
      json kwargs;
      // Keyword arguments holding tensors, with how many each holds.
      std::vector<std::pair<std::string, size_t>> kw_tensors;
    };
    std::vector<Call> pending;
    bool keras2_nodes = false;  // tf.keras list-form inbound nodes
    for (size_t i = 0; i < layers.size(); ++i) {
      const json& layer = layers[i];
      if (ClassName(layer) == "InputLayer") continue;
      const json& nodes = layer.value("inbound_nodes", json::array());
      int n = 0;
      for (const json& node : nodes) {
        Call c{i, n++, {}, json::array(), json::object(), {}};
        std::string lw = "layer '" + LayerName(layer) + "'";
        if (node.is_object()) {
          K2L_RETURN_IF_ERROR(
              CollectTensorRefs(node.value("args", json::array()), c.refs, lw));
          const json& kw = node.value("kwargs", json::object());
          for (const auto& [key, v] : kw.items()) {
            size_t before = c.refs.size();
            K2L_RETURN_IF_ERROR(CollectTensorRefs(v, c.refs, lw));
            if (c.refs.size() > before) {
              c.kw_tensors.push_back({key, c.refs.size() - before});
            }
          }
          c.args = node.value("args", json::array());
          c.kwargs = kw;
        } else if (node.is_array()) {
          keras2_nodes = true;
          for (const json& e : node) {
            K2L_ASSIGN_OR_RETURN(TensorRef r, ParseRef(e, lw));
            // tf.keras counts a nested model's construction as its node 0,
            // so its first call in this graph is node 1.
            auto li = index_of.find(r.layer);
            if (li != index_of.end() &&
                IsModelClass(ClassName(layers[li->second])) && r.node > 0) {
              --r.node;
            }
            c.refs.push_back(r);
          }
        }
        pending.push_back(std::move(c));
      }
    }

    // Keras 3 records masks as `mask` keyword tensors; tf.keras does not.
    MaskMode mode(implicit_masks_, keras2_nodes);
    while (!pending.empty()) {
      bool progress = false;
      for (size_t p = 0; p < pending.size();) {
        Call& c = pending[p];
        std::vector<ir::ValueId> ins;
        bool ready = true;
        for (const TensorRef& r : c.refs) {
          auto it = produced.find({r.layer, r.node});
          if (it == produced.end()) {
            ready = false;
            break;
          }
          if (r.tensor < 0 ||
              static_cast<size_t>(r.tensor) >= it->second.size()) {
            return Status::Invalid(
                where + ": layer '" + LayerName(layers[c.layer]) +
                "' reads output " + std::to_string(r.tensor) + " of '" +
                r.layer + "', which has only " +
                std::to_string(it->second.size()));
          }
          ins.push_back(it->second[r.tensor]);
        }
        if (!ready) {
          ++p;
          continue;
        }
        std::map<std::string, std::vector<ir::ValueId>> kw_ins;
        for (auto it = c.kw_tensors.rbegin(); it != c.kw_tensors.rend(); ++it) {
          auto first = ins.end() - static_cast<long>(it->second);
          kw_ins[it->first].assign(first, ins.end());
          ins.erase(first, ins.end());
        }
        K2L_ASSIGN_OR_RETURN(auto outs,
                             CallLayer(layers[c.layer], paths[c.layer], ins,
                                       std::move(kw_ins), c.args, c.kwargs));
        produced[{LayerName(layers[c.layer]), c.node}] = std::move(outs);
        pending.erase(pending.begin() + static_cast<long>(p));
        progress = true;
      }
      if (!progress) {
        std::string names;
        for (const Call& c : pending) {
          names +=
              (names.empty() ? "'" : ", '") + LayerName(layers[c.layer]) + "'";
        }
        return Status::Invalid(where + ": layers " + names +
                               " read tensors that no layer produces. The "
                               "config's graph is broken; re-save the model");
      }
    }

    std::vector<std::pair<std::string, ir::ValueId>> result;
    for (const NamedRef& o : out_refs) {
      int node = o.ref.node;
      auto li = index_of.find(o.ref.layer);
      // The built-in node of a nested Functional (Keras 3), or of any nested
      // model (tf.keras), shifts output indices by one.
      if (li != index_of.end() && node > 0 &&
          (keras2_nodes ? IsModelClass(ClassName(layers[li->second]))
                        : ClassName(layers[li->second]) == "Functional")) {
        --node;
      }
      auto it = produced.find({o.ref.layer, node});
      if (it == produced.end() ||
          o.ref.tensor >= static_cast<int>(it->second.size())) {
        return Status::Invalid(where + ": output '" + o.ref.layer +
                               "' is never produced by its layer graph. "
                               "Re-save the model");
      }
      std::string name = o.key.empty() ? o.ref.layer : o.key;
      if (o.key.empty() && it->second.size() > 1 && o.ref.tensor > 0) {
        name += "_" + std::to_string(o.ref.tensor);
      }
      result.push_back({name, it->second[o.ref.tensor]});
    }
    return result;
  }

  const InputOverride* FindOverride(const std::string& port,
                                    size_t position) const {
    const auto& ovs = options_.inputs;
    if (ovs.empty()) return nullptr;
    if (ovs[0].name.empty()) {
      return position < ovs.size() ? &ovs[position] : nullptr;
    }
    for (const InputOverride& o : ovs) {
      if (o.name == port) return &o;
    }
    return nullptr;
  }

  void LayerDone() {
    if (!options_.on_layer) return;
    layers_done_ = std::min(layers_done_ + 1, total_layers_);
    options_.on_layer(layers_done_, total_layers_);
  }

  ir::Graph& g_;
  const Registry& reg_;
  const WeightStore* weights_;
  const LoweringOptions& options_;
  int total_layers_ = 0;
  int layers_done_ = 0;
  // Top-level input ports in the order they were made.
  std::vector<std::string> input_ports_;
  // The Keras mask riding beside each masked value, where the file leaves
  // masks implicit (Sequential models, tf.keras files).
  std::map<ir::ValueId, ir::ValueId> mask_of_;
  bool implicit_masks_ = false;
  // Sets implicit_masks_ for one model's walk, restoring it after.
  struct MaskMode {
    MaskMode(bool& flag, bool value) : flag_(flag), saved_(flag) {
      flag = value;
    }
    ~MaskMode() { flag_ = saved_; }
    bool& flag_;
    bool saved_;
  };
};

}  // namespace

namespace {
// Layers in a config, nested models' layers included.
int CountLayers(const json& layers) {
  int n = 0;
  if (!layers.is_array()) return 0;
  for (const json& l : layers) {
    if (ClassName(l) != "InputLayer") ++n;
    if (l.is_object() && l.contains("config") && l["config"].is_object()) {
      n += CountLayers(LayerList(l["config"]));
    }
  }
  return n;
}
}  // namespace

Result<ir::Graph> LowerKerasModel(const ModelSource& source,
                                  const Registry& registry,
                                  const LoweringOptions& options) {
  const json& model = source.config;
  if (!model.is_object() || !model.contains("class_name")) {
    return Status::Invalid(
        "the model config has no 'class_name'. The file is not a Keras model "
        "saved by model.save(); re-save it with Keras 3");
  }
  std::vector<Finding> unsupported, code;
  const json& top_cfg = model.value("config", json::object());
  if (IsCodeLayer(ClassName(model)))
    code.push_back({ClassName(model), LayerName(model), ""});
  CollectProblems(LayerList(top_cfg), registry, unsupported, code);
  if (!code.empty()) {
    std::string list;
    for (const auto& f : code) {
      list += (list.empty() ? "" : ", ") +
              ("'" + f.name + "' (" + f.class_name + ")");
    }
    return Status::Invalid(
        "the model contains executable layers: " + list +
        ". A Lambda layer stores Python code, and a model file is untrusted "
        "input, so it is never run or translated. Replace the Lambda with "
        "built-in layers (or keras.ops calls) and save the model again");
  }
  if (!unsupported.empty()) {
    std::string list;
    for (const auto& f : unsupported) {
      list += "\n  - '" + f.name + "' (" + f.class_name + ")";
      std::string why =
          f.why.empty() ? WhyUnsupported(f.class_name) : f.why;
      if (!why.empty()) list += ": " + why;
    }
    return Status::Invalid(
        std::to_string(unsupported.size()) +
        " layer(s) cannot be converted to LiteRT builtin ops:" + list +
        "\nReplace them with supported layers (see docs/supported_layers.md)");
  }

  const auto& ovs = options.inputs;
  for (const InputOverride& o : ovs) {
    if (o.name.empty() != ovs[0].name.empty()) {
      return Status::Invalid(
          "input_signature mixes named and positional entries. Give either a "
          "list (one InputSpec per input, in order) or a dict keyed by input "
          "name");
    }
  }

  ir::Graph g;
  Lowerer lowerer(g, registry, source.weights.get(), options,
                  std::max(1, CountLayers(LayerList(top_cfg))));
  K2L_ASSIGN_OR_RETURN(auto outs, lowerer.Lower(model, {}, nullptr));
  K2L_RETURN_IF_ERROR(lowerer.CheckOverridesUsed());
  std::set<std::string> used;
  for (auto& [name, id] : outs) {
    std::string n = name;
    for (int k = 1; used.count(n); ++k) n = name + "_" + std::to_string(k);
    used.insert(n);
    g.outputs().push_back({n, id});
  }
  return g;
}

}  // namespace k2l::keras
