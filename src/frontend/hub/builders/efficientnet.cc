// EfficientNet and EfficientNetV2 (keras_hub.models.EfficientNetBackbone and
// EfficientNetImageClassifier), as keras-hub 0.32 builds them, channels
// last:
//  - the stem: an optional (1, 1) zero padding, a 3x3 stride-2 Conv2D of
//    round_filters(stackwise_input_filters[0]) filters, BatchNormalization
//    and the activation;
//  - per stack, round_repeats(num_repeats) blocks named block{i+1}{a,b,...}_
//    (the first takes the stack's stride and input filters, the others
//    stride 1 and the output filters; a positive force_input_filters
//    overrides the input filters of every block), of the stack's type:
//    "v1", the original EfficientNet block written out as plain layers in
//    the Functional graph, or "unfused" (MBConvBlock), "fused"
//    (FusedMBConvBlock) or "cba" (CBABlock), each one keras-hub layer
//    (layers/hub_efficientnet.cc lowers them);
//  - the top: a 1x1 Conv2D of round_filters(num_features), BatchNormalization
//    and the activation;
// then keras-hub's ImageClassifier head (EfficientNetImageClassifier adds
// nothing to it). Filter counts follow keras-hub's round_filters (width
// coefficient, depth_divisor, min_depth or the divisor as minimum, and the
// optional cap on rounding down), block counts its round_repeats
// (ceil(depth coefficient * repeats)). Convolutions take any image size.
#include <cmath>
#include <map>

#include "frontend/hub/builders/vision.h"
#include "frontend/hub/hyperparams.h"
#include "frontend/keras/layer_configs.h"

namespace k2l::hub {

namespace {

const char* kOwner = "EfficientNetBackbone";
const char* kFix =
    ". The preset's config.json is inconsistent; save it again with "
    "save_to_preset()";

Status Bad(const std::string& key, const std::string& why) {
  return Status::Invalid(std::string(kOwner) + ": the hyperparameter '" + key +
                         "' " + why + kFix);
}

// A list of `n` numbers (a single number is repeated, as keras-hub's
// width_coefficient / depth_coefficient arguments are).
Result<std::vector<double>> Floats(const json& c, const std::string& key,
                                   size_t n) {
  const json& v = c.value(key, json());
  if (v.is_number()) return std::vector<double>(n, v.get<double>());
  if (!v.is_array() || v.size() < n) {
    return Bad(key, "is " + v.dump() + ", not a list of " + std::to_string(n) +
                        " numbers (one per stack)");
  }
  std::vector<double> out;
  for (size_t i = 0; i < n; ++i) {
    if (!v[i].is_number()) return Bad(key, "has a non-number " + v[i].dump());
    out.push_back(v[i].get<double>());
  }
  return out;
}

Result<std::vector<int64_t>> Ints(const json& c, const std::string& key,
                                  size_t n, bool optional) {
  if (optional && (!c.contains(key) || c[key].is_null())) {
    return std::vector<int64_t>(n, 0);
  }
  const json& v = c.value(key, json());
  if (!v.is_array() || v.size() < n) {
    return Bad(key, "is " + v.dump() + ", not a list of " + std::to_string(n) +
                        " ints (one per stack)");
  }
  std::vector<int64_t> out;
  for (size_t i = 0; i < n; ++i) {
    if (!v[i].is_number_integer() &&
        !(v[i].is_number() &&
          v[i].get<double>() == std::floor(v[i].get<double>()))) {
      return Bad(key, "has a non-integer " + v[i].dump());
    }
    out.push_back(static_cast<int64_t>(v[i].get<double>()));
  }
  return out;
}

Result<std::vector<bool>> Bools(const json& c, const std::string& key,
                                size_t n) {
  if (!c.contains(key) || c[key].is_null()) return std::vector<bool>(n, false);
  const json& v = c[key];
  if (!v.is_array() || v.size() < n) {
    return Bad(key, "is " + v.dump() + ", not a list of " + std::to_string(n) +
                        " booleans (one per stack)");
  }
  std::vector<bool> out;
  for (size_t i = 0; i < n; ++i) {
    if (!v[i].is_boolean()) return Bad(key, "has a non-boolean " + v[i].dump());
    out.push_back(v[i].get<bool>());
  }
  return out;
}

// Python's chr(97 + j), UTF-8 encoded: keras-hub's block letter.
std::string Letter(int64_t j) {
  const auto cp = static_cast<uint32_t>(97 + j);
  std::string out;
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return out;
}

struct Rounding {
  int64_t depth_divisor = 8;
  int64_t min_depth = 8;
  bool divisor_as_min = false;
  bool cap = false;

  // keras-hub's round_filters.
  int64_t Filters(double filters, double width) const {
    filters *= width;
    const int64_t min = divisor_as_min ? depth_divisor : min_depth;
    const auto d = static_cast<double>(depth_divisor);
    int64_t n =
        static_cast<int64_t>(filters + d / 2) / depth_divisor * depth_divisor;
    n = std::max(min, n);
    if (cap && static_cast<double>(n) < 0.9 * filters) n += depth_divisor;
    return n;
  }
};

class EfficientNetGraph {
 public:
  EfficientNetGraph(GraphBuilder& g, json activation, double momentum,
                    double epsilon)
      : g_(g),
        act_(std::move(activation)),
        momentum_(momentum),
        eps_(epsilon) {}

  json Conv(const std::string& name, const json& x, int64_t filters,
            int64_t kernel, int64_t stride, const std::string& padding,
            bool use_bias = false, const json& activation = "linear") {
    return g_.Call("Conv2D", name,
                   keras::Conv2DConfig(filters, kernel, stride, padding,
                                       use_bias, activation),
                   json::array({x}));
  }
  // The stem's and top's norms take the backbone's momentum; the v1
  // blocks' keep keras' default (axis 3), as keras-hub builds them.
  json BatchNorm(const std::string& name, const json& x, bool block = false) {
    return g_.Call("BatchNormalization", name,
                   keras::BatchNormConfig(eps_, block ? 0.99 : momentum_,
                                          block ? 3 : -1),
                   json::array({x}));
  }
  json Act(const std::string& name, const json& x, const json& activation) {
    return g_.Call("Activation", name, {{"activation", activation}},
                   json::array({x}));
  }
  json Act(const std::string& name, const json& x) {
    return Act(name, x, act_);
  }
  json ZeroPad(const std::string& name, const json& x, int64_t p) {
    return g_.Call(
        "ZeroPadding2D", name,
        {{"padding", {{p, p}, {p, p}}}, {"data_format", "channels_last"}},
        json::array({x}));
  }

  // EfficientNetBackbone._apply_efficientnet_block.
  json V1Block(const json& in, int64_t filters_in, int64_t filters_out,
               int64_t kernel, int64_t stride, int64_t expand, double se_ratio,
               const json& projection_activation, double dropout,
               const std::string& name) {
    const int64_t filters = filters_in * expand;
    json x = in;
    if (expand != 1) {
      x = Conv(name + "expand_conv", x, filters, 1, 1, "same");
      x = BatchNorm(name + "expand_bn", x, true);
      x = Act(name + "expand_activation", x);
    }
    x = ZeroPad(name + "dwconv_pad", x, kernel / 2);
    x = g_.Call("DepthwiseConv2D", name + "dwconv",
                keras::DepthwiseConv2DConfig(kernel, stride, "valid"),
                json::array({x}));
    x = BatchNorm(name + "dwconv_bn", x, true);
    x = Act(name + "dwconv_activation", x);
    if (se_ratio > 0 && se_ratio <= 1) {
      const int64_t filters_se = std::max<int64_t>(
          1, static_cast<int64_t>(
                 std::trunc(static_cast<double>(filters_in) * se_ratio)));
      json se = g_.Call("GlobalAveragePooling2D", name + "se_squeeze",
                        {{"data_format", "channels_last"}, {"keepdims", false}},
                        json::array({x}));
      se = g_.Call("Reshape", name + "se_reshape",
                   {{"target_shape", {1, 1, filters}}}, json::array({se}));
      se = Conv(name + "se_reduce", se, filters_se, 1, 1, "same", true, act_);
      se = Conv(name + "se_expand", se, filters, 1, 1, "same", true, "sigmoid");
      x = g_.Call("Multiply", name + "se_excite", json::object(),
                  json::array({json::array({x, se})}));
    }
    x = Conv(name + "project", x, filters_out, 1, 1, "same");
    x = BatchNorm(name + "project_bn", x, true);
    if (IsSet(projection_activation)) {
      x = Act(name + "projection_activation", x, projection_activation);
    }
    if (stride == 1 && filters_in == filters_out) {
      if (dropout > 0) {
        x = g_.Call("Dropout", name + "drop",
                    {{"rate", dropout},
                     {"noise_shape", {nullptr, 1, 1, 1}},
                     {"seed", nullptr}},
                    json::array({x}));
      }
      x = g_.Call("Add", name + "add", json::object(),
                  json::array({json::array({x, in})}));
    }
    return x;
  }

  // One MBConvBlock, FusedMBConvBlock or CBABlock layer, serialized as
  // keras does a keras-hub class that is not registered.
  json HubBlock(const std::string& type, const std::string& name, const json& x,
                json config) {
    static const std::map<std::string, std::pair<const char*, const char*>>
        kClasses = {
            {"unfused",
             {"keras_hub.src.models.efficientnet.mbconv", "MBConvBlock"}},
            {"fused",
             {"keras_hub.src.models.efficientnet.fusedmbconv",
              "FusedMBConvBlock"}},
            {"cba", {"keras_hub.src.models.efficientnet.cba", "CBABlock"}},
        };
    const auto& [module, cls] = kClasses.at(type);
    config["trainable"] = true;
    return g_.CallOp(module, cls, name, json::array({x}), std::move(config));
  }

  // Python truthiness of an activation argument.
  static bool IsSet(const json& a) {
    return !a.is_null() && !(a.is_string() && a.get<std::string>().empty()) &&
           !(a.is_boolean() && !a.get<bool>());
  }

 private:
  GraphBuilder& g_;
  json act_;
  double momentum_, eps_;
};

}  // namespace

Result<TaskGraph> BuildEfficientNetImageClassifier(const BuildInput& in) {
  const json& c = in.backbone;
  Hyperparams hp(c, kOwner);
  K2L_ASSIGN_OR_RETURN(auto kernels, hp.IntList("stackwise_kernel_sizes"));
  const size_t n = kernels.size();
  K2L_ASSIGN_OR_RETURN(auto repeats,
                       Ints(c, "stackwise_num_repeats", n, false));
  K2L_ASSIGN_OR_RETURN(auto in_filters,
                       Ints(c, "stackwise_input_filters", n, false));
  K2L_ASSIGN_OR_RETURN(auto out_filters,
                       Ints(c, "stackwise_output_filters", n, false));
  K2L_ASSIGN_OR_RETURN(auto expansions,
                       Floats(c, "stackwise_expansion_ratios", n));
  K2L_ASSIGN_OR_RETURN(auto se_ratios,
                       Floats(c, "stackwise_squeeze_and_excite_ratios", n));
  K2L_ASSIGN_OR_RETURN(auto strides, Ints(c, "stackwise_strides", n, false));
  K2L_ASSIGN_OR_RETURN(auto force,
                       Ints(c, "stackwise_force_input_filters", n, true));
  K2L_ASSIGN_OR_RETURN(auto nores, Bools(c, "stackwise_nores_option", n));
  K2L_ASSIGN_OR_RETURN(auto widths,
                       Floats(c, "stackwise_width_coefficients", n));
  K2L_ASSIGN_OR_RETURN(auto depths,
                       Floats(c, "stackwise_depth_coefficients", n));
  const json& types = c.value("stackwise_block_types", json());
  if (!types.is_array() || types.size() < n) {
    return Bad("stackwise_block_types",
               "is " + types.dump() + ", not a list of " + std::to_string(n) +
                   " block types (one per stack)");
  }
  for (size_t i = 0; i < n; ++i) {
    const json& t = types[i];
    if (t != "v1" && t != "unfused" && t != "fused" && t != "cba") {
      return Status::Invalid(
          std::string(kOwner) + ": stack " + std::to_string(i) +
          " has the block type " + t.dump() +
          ", which keras-hub does not build; the block types are \"v1\", "
          "\"unfused\", \"fused\" and \"cba\"" +
          kFix);
    }
  }

  Rounding round;
  K2L_ASSIGN_OR_RETURN(round.depth_divisor, hp.IntOr("depth_divisor", 8));
  K2L_ASSIGN_OR_RETURN(round.divisor_as_min,
                       hp.BoolOr("use_depth_divisor_as_min_depth", false));
  K2L_ASSIGN_OR_RETURN(round.cap,
                       hp.BoolOr("cap_round_filter_decrease", false));
  if (round.depth_divisor < 1) {
    return Bad("depth_divisor", "is not a positive int");
  }
  if (c.contains("min_depth") && c["min_depth"].is_null()) {
    if (!round.divisor_as_min) {
      return Bad("min_depth",
                 "is null while use_depth_divisor_as_min_depth "
                 "is false, so keras-hub has no minimum depth");
    }
  } else {
    K2L_ASSIGN_OR_RETURN(round.min_depth, hp.IntOr("min_depth", 8));
  }
  K2L_ASSIGN_OR_RETURN(bool stem_pad, hp.BoolOr("include_stem_padding", true));
  const json& stem_padding = c.value("stem_conv_padding", json("valid"));
  if (stem_padding != "valid" && stem_padding != "same") {
    return Bad("stem_conv_padding",
               "is " + stem_padding.dump() + ", not \"valid\" or \"same\"");
  }
  K2L_ASSIGN_OR_RETURN(double momentum, hp.FloatOr("batch_norm_momentum", 0.9));
  K2L_ASSIGN_OR_RETURN(double epsilon, hp.FloatOr("batch_norm_epsilon", 1e-5));
  K2L_ASSIGN_OR_RETURN(double dropout, hp.FloatOr("dropout", 0.2));
  // get_config does not save num_features: a preset always has 1280.
  K2L_ASSIGN_OR_RETURN(int64_t num_features, hp.IntOr("num_features", 1280));
  json activation = c.value("activation", json("swish"));
  if (!activation.is_string()) {
    return Status::Invalid(
        std::string(kOwner) + ": the activation " + activation.dump() +
        " is not an activation's name; keras2litert lowers named Keras "
        "activations. Build the backbone with a name such as \"swish\"");
  }
  const json projection_activation =
      c.value("projection_activation", json(nullptr));
  if (!projection_activation.is_null() && !projection_activation.is_string()) {
    return Status::Invalid(
        std::string(kOwner) + ": the projection_activation " +
        projection_activation.dump() +
        " is not an activation's name; keras2litert lowers named Keras "
        "activations. Build the backbone with a name such as \"relu\"");
  }
  const json& fmt = c.value("data_format", json("channels_last"));
  if (!fmt.is_null() && fmt != "channels_last") {
    return Status::Invalid(std::string(kOwner) + ": data_format " + fmt.dump() +
                           " is not converted; keras2litert builds "
                           "channels_last (NHWC) networks. Build the "
                           "backbone with data_format=\"channels_last\"");
  }
  for (size_t i = 0; i < n; ++i) {
    if (kernels[i] < 1 || strides[i] < 1 || in_filters[i] < 1 ||
        out_filters[i] < 1 || repeats[i] < 0) {
      return Status::Invalid(std::string(kOwner) + ": stack " +
                             std::to_string(i) +
                             " has a non-positive kernel size, stride or "
                             "filter count, or negative repeats" +
                             kFix);
    }
    if (types[i] == "v1" && expansions[i] != std::floor(expansions[i])) {
      return Status::Invalid(
          std::string(kOwner) + ": stack " + std::to_string(i) +
          " (a \"v1\" stack) has the expansion ratio " +
          std::to_string(expansions[i]) +
          ", which would give a fractional number of filters. Use an integer "
          "expansion ratio");
    }
  }

  const std::string name = NameOr(c, "efficient_net_backbone");
  GraphBuilder g(name);
  json image = g.Input("input_layer", "float32",
                       {in.image_height, in.image_width, in.channels});
  EfficientNetGraph e(g, activation, momentum, epsilon);
  json x = image;
  if (stem_pad) x = e.ZeroPad("stem_conv_pad", x, 1);
  x = e.Conv("stem_conv", x,
             round.Filters(static_cast<double>(in_filters[0]), widths[0]), 3, 2,
             stem_padding.get<std::string>());
  x = e.BatchNorm("stem_bn", x);
  x = e.Act("stem_activation", x);

  double blocks = 0;
  for (int64_t r : repeats) blocks += static_cast<double>(r);
  int64_t block_id = 0;
  for (size_t i = 0; i < n; ++i) {
    int64_t filters_in =
        round.Filters(static_cast<double>(in_filters[i]), widths[i]);
    const int64_t filters_out =
        round.Filters(static_cast<double>(out_filters[i]), widths[i]);
    const auto reps = static_cast<int64_t>(
        std::ceil(depths[i] * static_cast<double>(repeats[i])));
    int64_t stride = strides[i];
    const std::string type = types[i].get<std::string>();
    for (int64_t j = 0; j < reps; ++j) {
      if (j > 0) {
        stride = 1;
        filters_in = filters_out;
      }
      if (force[i] > 0) {
        filters_in = round.Filters(static_cast<double>(force[i]), widths[i]);
      }
      const std::string block_name =
          "block" + std::to_string(i + 1) + Letter(j) + "_";
      const double drop = dropout * static_cast<double>(block_id) / blocks;
      if (type == "v1") {
        x = e.V1Block(x, filters_in, filters_out, kernels[i], stride,
                      static_cast<int64_t>(expansions[i]), se_ratios[i],
                      projection_activation, drop, block_name);
      } else {
        json cfg = {{"input_filters", filters_in},
                    {"output_filters", filters_out},
                    {"kernel_size", kernels[i]},
                    {"strides", stride},
                    {"data_format", "channels_last"},
                    {"batch_norm_momentum", momentum},
                    {"batch_norm_epsilon", epsilon},
                    {"activation", activation},
                    {"dropout", drop},
                    {"nores", static_cast<bool>(nores[i])}};
        if (type != "cba") {
          cfg["expand_ratio"] = expansions[i];
          cfg["se_ratio"] = se_ratios[i];
        }
        if (type == "fused") {
          cfg["projection_activation"] = projection_activation;
          cfg["projection_kernel_size"] = 1;
        }
        x = e.HubBlock(type, block_name, x, std::move(cfg));
      }
      ++block_id;
    }
  }
  x = e.Conv("top_conv", x,
             round.Filters(static_cast<double>(num_features), widths[n - 1]), 1,
             1, "same");
  x = e.BatchNorm("top_bn", x);
  x = e.Act("top_activation", x);
  json backbone = g.Build({{"input_layer", image}}, x);
  return ImageClassifierTask(in, std::move(backbone), name);
}

}  // namespace k2l::hub
