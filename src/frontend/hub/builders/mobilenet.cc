// MobileNet (keras_hub.models.MobileNetBackbone and
// MobileNetImageClassifier), as keras-hub 0.32 builds it, channels last:
//  - the stem: pad 1, a 3x3 stride-2 conv to adjust_channels(
//    input_num_filters) channels, BatchNormalization, input_activation;
//  - block_0_0, a DepthwiseConvBlock (depthwise_filters, depthwise_stride,
//    squeeze_and_excite, depthwise_residual);
//  - block_{s+1}_{b}, an InvertedResidualBlock per entry of the stackwise_*
//    lists (expansion, filters, kernel size, stride, squeeze-and-excite
//    ratio, activation and padding of each block);
//  - block_{n+1}_0, a ConvBnActBlock to adjust_channels(last_layer_filter)
//    channels with hard_swish.
// The blocks are keras-hub's own layers, lowered by their converters
// (frontend/keras/layers/hub_mobilenet.cc). keras-hub's graph reads neither
// output_num_filters nor output_activation, and so neither does this one.
// The head is MobileNetImageClassifier's own: a global average pool kept
// 1x1, a 1x1 conv to num_features with hard_silu, Flatten, and the
// `predictions` Dense with no activation (so the output is `logits`).
// Convolutions take any image size, so the image size is free.
#include "frontend/hub/builders/vision.h"
#include "frontend/hub/hyperparams.h"
#include "frontend/keras/mobilenet_channels.h"
#include "frontend/keras/layer_configs.h"

namespace k2l::hub {

namespace {

const char kOwner[] = "MobileNetBackbone";
const char kResave[] =
    ". The preset's config.json is inconsistent; save it again with "
    "save_to_preset()";

// A stackwise_* hyperparameter: a list with a list per stack, each holding
// at least stackwise_num_blocks of that stack entries (keras-hub reads the
// first ones).
Result<std::vector<std::vector<json>>> Stackwise(
    const json& config, const std::string& key,
    const std::vector<int64_t>& blocks) {
  const json& v = config.value(key, json());
  if (!v.is_array() || v.size() < blocks.size()) {
    return Status::Invalid(
        std::string(kOwner) + ": the hyperparameter '" + key + "' is " +
        v.dump() + ", not a list of " + std::to_string(blocks.size()) +
        " lists (one per entry of stackwise_num_blocks)" + kResave);
  }
  std::vector<std::vector<json>> out;
  for (size_t s = 0; s < blocks.size(); ++s) {
    const json& stack = v[s];
    if (!stack.is_array() ||
        stack.size() < static_cast<size_t>(blocks[s])) {
      return Status::Invalid(
          std::string(kOwner) + ": " + key + "[" + std::to_string(s) +
          "] is " + stack.dump() + ", not a list of " +
          std::to_string(blocks[s]) + " entries (stackwise_num_blocks[" +
          std::to_string(s) + "])" + kResave);
    }
    out.emplace_back(stack.begin(), stack.begin() + blocks[s]);
  }
  return out;
}

// The int entries of a stackwise_* hyperparameter, each at least `min`.
// keras-hub documents them as ints; a tuple (a kernel size or stride per
// axis) is refused.
Result<std::vector<std::vector<int64_t>>> StackwiseInts(
    const json& config, const std::string& key,
    const std::vector<int64_t>& blocks, int64_t min) {
  K2L_ASSIGN_OR_RETURN(auto lists, Stackwise(config, key, blocks));
  std::vector<std::vector<int64_t>> out;
  for (size_t s = 0; s < lists.size(); ++s) {
    out.emplace_back();
    for (size_t b = 0; b < lists[s].size(); ++b) {
      const json& e = lists[s][b];
      if (!e.is_number_integer() || e.get<int64_t>() < min) {
        return Status::Invalid(
            std::string(kOwner) + ": " + key + "[" + std::to_string(s) +
            "][" + std::to_string(b) + "] is " + e.dump() +
            "; keras2litert converts one int of at least " +
            std::to_string(min) + " per block, as keras-hub documents (a "
            "per-axis pair is not converted). Give each block one int");
      }
      out.back().push_back(e.get<int64_t>());
    }
  }
  return out;
}

// A squeeze-and-excite ratio: None or a number.
Status CheckRatio(const json& r, const std::string& what) {
  if (r.is_null() || r.is_number()) return Status::Ok();
  return Status::Invalid(std::string(kOwner) + ": " + what + " is " +
                         r.dump() + ", not a number or None" + kResave);
}

}  // namespace

Result<TaskGraph> BuildMobileNetImageClassifier(const BuildInput& in) {
  const json& c = in.backbone;
  Hyperparams hp(c, kOwner);
  K2L_ASSIGN_OR_RETURN(auto blocks, hp.IntList("stackwise_num_blocks"));
  K2L_ASSIGN_OR_RETURN(auto expansion,
                       StackwiseInts(c, "stackwise_expansion", blocks, 1));
  K2L_ASSIGN_OR_RETURN(auto filters,
                       StackwiseInts(c, "stackwise_num_filters", blocks, 1));
  K2L_ASSIGN_OR_RETURN(auto kernels,
                       StackwiseInts(c, "stackwise_kernel_size", blocks, 1));
  K2L_ASSIGN_OR_RETURN(auto strides,
                       StackwiseInts(c, "stackwise_num_strides", blocks, 1));
  K2L_ASSIGN_OR_RETURN(auto paddings,
                       StackwiseInts(c, "stackwise_padding", blocks, 0));
  K2L_ASSIGN_OR_RETURN(auto ratios,
                       Stackwise(c, "stackwise_se_ratio", blocks));
  K2L_ASSIGN_OR_RETURN(auto activations,
                       Stackwise(c, "stackwise_activation", blocks));
  for (size_t s = 0; s < blocks.size(); ++s) {
    for (size_t b = 0; b < ratios[s].size(); ++b) {
      K2L_RETURN_IF_ERROR(CheckRatio(ratios[s][b],
                                     "stackwise_se_ratio[" +
                                         std::to_string(s) + "][" +
                                         std::to_string(b) + "]"));
    }
  }
  K2L_ASSIGN_OR_RETURN(int64_t stem_filters, hp.IntOr("input_num_filters", 16));
  K2L_ASSIGN_OR_RETURN(int64_t dw_filters, hp.Int("depthwise_filters"));
  K2L_ASSIGN_OR_RETURN(int64_t dw_stride, hp.Int("depthwise_stride"));
  K2L_ASSIGN_OR_RETURN(bool dw_residual, hp.BoolOr("depthwise_residual", false));
  K2L_ASSIGN_OR_RETURN(int64_t last_filters, hp.Int("last_layer_filter"));
  const json se = c.value("squeeze_and_excite", json());
  K2L_RETURN_IF_ERROR(CheckRatio(se, "squeeze_and_excite"));
  const json stem_activation = c.value("input_activation", json("hard_swish"));

  const std::string name = NameOr(c, "mobile_net_backbone");
  GraphBuilder g(name);
  json image = g.Input("input_layer", "float32",
                       {in.image_height, in.image_width, in.channels});
  json x = g.Call("ZeroPadding2D", "input_pad",
                  {{"padding", {{1, 1}, {1, 1}}},
                   {"data_format", "channels_last"}},
                  json::array({image}));
  const int64_t stem = MobileNetChannels(static_cast<double>(stem_filters));
  x = g.Call("Conv2D", "input_conv", keras::Conv2DConfig(stem, 3, 2, "valid", false),
             json::array({x}));
  x = g.Call("BatchNormalization", "input_batch_norm",
             keras::BatchNormConfig(1e-5, 0.9), json::array({x}));
  x = g.Call("Activation", "activation", {{"activation", stem_activation}},
             json::array({x}));
  x = g.Call("DepthwiseConvBlock", "block_0_0",
             {{"infilters", stem},
              {"filters", dw_filters},
              {"kernel_size", 3},
              {"stride", dw_stride},
              {"squeeze_excite_ratio", se},
              {"residual", dw_residual}},
             json::array({x}), json::object(), "keras_hub>DepthwiseConvBlock");
  int64_t channels = dw_filters;
  for (size_t s = 0; s < blocks.size(); ++s) {
    for (int64_t b = 0; b < blocks[s]; ++b) {
      const int64_t out = MobileNetChannels(static_cast<double>(filters[s][b]));
      x = g.Call("InvertedResidualBlock",
                 "block_" + std::to_string(s + 1) + "_" + std::to_string(b),
                 {{"expansion", expansion[s][b]},
                  {"infilters", channels},
                  {"filters", out},
                  {"kernel_size", kernels[s][b]},
                  {"stride", strides[s][b]},
                  {"squeeze_excite_ratio", ratios[s][b]},
                  {"activation", activations[s][b]},
                  {"padding", paddings[s][b]}},
                 json::array({x}), json::object(),
                 "keras_hub>InvertedResidualBlock");
      channels = out;
    }
  }
  x = g.Call("ConvBnActBlock",
             "block_" + std::to_string(blocks.size() + 1) + "_0",
             {{"filter", MobileNetChannels(static_cast<double>(last_filters))},
              {"activation", "hard_swish"}},
             json::array({x}), json::object(), "keras_hub>ConvBnActBlock");
  json backbone = g.Build({{"input_layer", image}}, x);

  Hyperparams task(in.task, "MobileNetImageClassifier");
  K2L_ASSIGN_OR_RETURN(int64_t classes, task.Int("num_classes"));
  K2L_ASSIGN_OR_RETURN(int64_t features, task.IntOr("num_features", 1024));
  auto head = [&](GraphBuilder& t, const json& map) -> Result<ImageHead> {
    json y = t.Call("GlobalAveragePooling2D", "pooler",
                    {{"data_format", "channels_last"}, {"keepdims", true}},
                    json::array({map}));
    y = t.Call("Conv2D", "classifier_conv",
               keras::Conv2DConfig(features, 1, 1, "valid", true,
                                   "hard_silu"),
               json::array({y}));
    y = t.Call("Flatten", "flatten", {{"data_format", "channels_last"}},
               json::array({y}));
    y = t.Call("Dense", "predictions",
               {{"units", classes}, {"activation", "linear"}, {"use_bias", true}},
               json::array({y}));
    return ImageHead{y, "logits",
                     {"pooler", "classifier_conv", "flatten", "predictions"}};
  };
  return ImageTask(in, std::move(backbone), name,
                   "mobile_net_image_classifier", head);
}

}  // namespace k2l::hub
