// DeepLabV3 (keras_hub.models.DeepLabV3Backbone and DeepLabV3ImageSegmenter),
// as keras-hub 0.32 builds it, channels last: the image encoder's feature
// pyramid (a keras.Model over the encoder's pyramid outputs, nested), atrous
// spatial pyramid pooling on one level, upsampled and (optionally) joined
// with a projected lower level, a 1x1 segmentation head, upsampling back to
// the image size, and the segmenter's 1x1 output convolution. The output is
// the per-pixel class logits (or predictions, with an activation).
#include <algorithm>
#include <cctype>
#include <optional>

#include "frontend/hub/builders/vision.h"
#include "frontend/hub/hyperparams.h"
#include "frontend/keras/layer_configs.h"

namespace k2l::hub {

namespace {

json Conv1x1(int64_t filters, const json& activation = "linear") {
  return keras::Conv2DConfig(filters, 1, 1, "same", false, activation);
}

json Upsampling(int64_t size) {
  return {{"size", {size, size}},
          {"interpolation", "bilinear"},
          {"data_format", "channels_last"}};
}

// The pyramid level of a key such as "P4" (1/2^4 of the image).
std::optional<int> Level(const json& key) {
  if (!key.is_string()) return std::nullopt;
  const std::string k = key.get<std::string>();
  if (k.size() < 2 || k[0] != 'P' || !std::isdigit(k.back())) {
    return std::nullopt;
  }
  return k.back() - '0';
}

}  // namespace

Result<TaskGraph> BuildDeepLabV3ImageSegmenter(const BuildInput& in) {
  const std::string owner = "DeepLabV3Backbone";
  Hyperparams hp(in.backbone, owner);
  K2L_ASSIGN_OR_RETURN(json encoder_cfg,
                       ResNetImageEncoder(in.backbone, owner));
  K2L_ASSIGN_OR_RETURN(auto rates, hp.IntList("dilation_rates"));
  K2L_ASSIGN_OR_RETURN(int64_t projection, hp.IntOr("projection_filters", 48));
  const json& spp_key = in.backbone.value("spatial_pyramid_pooling_key",
                                          json());
  const json& low_key = in.backbone.value("low_level_feature_key", json());
  json up = in.backbone.value("upsampling_size", json());
  if (up.is_array() && !up.empty()) up = up[0];
  const std::optional<int> level = Level(spp_key);
  if (!level || !up.is_number_integer() || up.get<int64_t>() < 1 ||
      (!low_key.is_null() && !Level(low_key))) {
    return Status::Invalid(
        owner + ": spatial_pyramid_pooling_key " + spp_key.dump() +
        ", low_level_feature_key " + low_key.dump() + " or upsampling_size " +
        up.dump() + " is malformed (keys are pyramid levels such as \"P4\", "
        "the size a positive int). Save the preset again with "
        "save_to_preset()");
  }
  const int64_t upsample = up.get<int64_t>();
  const int64_t stride = int64_t{1} << *level;
  if (in.image_height % stride != 0 || in.image_width % stride != 0) {
    return Status::Invalid(
        owner + ": the image size " + std::to_string(in.image_height) + "x" +
        std::to_string(in.image_width) + " is not a multiple of " +
        std::to_string(stride) + ": DeepLabV3 pools pyramid level " +
        spp_key.get<std::string>() + " (1/" + std::to_string(stride) +
        " of the image) and upsamples it back, so other sizes do not line "
        "up. Use an image_size that is a multiple of " +
        std::to_string(stride));
  }
  const json& levels = encoder_cfg.value("stackwise_num_filters", json());
  const size_t num_levels = levels.is_array() ? levels.size() : 0;
  for (const json* key : {&spp_key, &low_key}) {
    if (key->is_null()) continue;
    const int l = *Level(*key);
    if (l < 2 || static_cast<size_t>(l - 2) >= num_levels) {
      return Status::Invalid(
          owner + ": " + key->dump() + " is not one of the image encoder's "
          "pyramid levels (P2 to P" + std::to_string(num_levels + 1) +
          "). Save the preset again with save_to_preset()");
    }
  }

  const std::string name = NameOr(in.backbone, "deep_lab_v3_backbone");
  // The pyramid model is keras.Model(encoder.inputs, encoder.pyramid_outputs)
  // made inside DeepLabV3Backbone's constructor: Keras names it, per session.
  K2L_ASSIGN_OR_RETURN(json pyramid,
                       ResNetBackboneGraph(encoder_cfg, in, "functional",
                                           /*pyramid_outputs=*/true));
  pyramid["auto_named"] = true;
  GraphBuilder g(name);
  json image = g.Input("inputs", "float32",
                       {in.image_height, in.image_width, in.channels});
  g.CallModel(std::move(pyramid), json::array({image}));
  // The pyramid's outputs in sorted key order: P2 is output 0.
  auto level_of = [&](const json& key) {
    return GraphBuilder::Tensor("functional", 0, *Level(key) - 2);
  };
  json x = g.Call("SpatialPyramidPooling", "spatial_pyramid_pooling",
                  {{"dilation_rates", rates},
                   {"num_channels", 256},
                   {"activation", "relu"},
                   {"dropout", 0.0}},
                  json::array({level_of(spp_key)}), json::object(),
                  "keras_hub>SpatialPyramidPooling");
  g.MarkAutoNamed("spatial_pyramid_pooling");  // created without a name
  x = g.Call("UpSampling2D", "encoder_output_upsampling", Upsampling(upsample),
             json::array({x}));
  if (!low_key.is_null()) {
    json low = g.Call("Conv2D", "decoder_conv", Conv1x1(projection),
                      json::array({level_of(low_key)}));
    low = g.Call("BatchNormalization", "decoder_norm", keras::BatchNormConfig(1e-3, 0.99),
                 json::array({low}));
    low = g.Call("ReLU", "decoder_relu", keras::ReluConfig(), json::array({low}));
    x = g.Call("Concatenate", "encoder_decoder_concat", {{"axis", -1}},
               json::array({json::array({x, low})}));
  }
  x = g.Call("Conv2D", "segmentation_head_conv", Conv1x1(256),
             json::array({x}));
  x = g.Call("BatchNormalization", "segmentation_head_norm", keras::BatchNormConfig(1e-3, 0.99),
             json::array({x}));
  x = g.Call("ReLU", "segmentation_head_relu", keras::ReluConfig(), json::array({x}));
  x = g.Call("UpSampling2D", "backbone_output_upsampling",
             Upsampling(std::max<int64_t>(stride / upsample, 1)),
             json::array({x}));
  json backbone = g.Build({{"inputs", image}}, x);

  // DeepLabV3ImageSegmenter: a 1x1 convolution to the classes.
  Hyperparams task(in.task, "DeepLabV3ImageSegmenter");
  K2L_ASSIGN_OR_RETURN(int64_t classes, task.Int("num_classes"));
  const HeadActivation act = ReadHeadActivation(in.task);
  auto head = [&](GraphBuilder& t, const json& features) -> Result<ImageHead> {
    json y = t.Call("Conv2D", "segmentation_output",
                    Conv1x1(classes, act.activation), json::array({features}));
    return ImageHead{y, act.output_name, {"segmentation_output"}};
  };
  return ImageTask(in, std::move(backbone), name, "deep_lab_v3_image_segmenter",
                   head);
}

}  // namespace k2l::hub
