// RetinaNet (keras_hub.models.RetinaNetBackbone and
// RetinaNetObjectDetector), as keras-hub 0.32 builds it, channels last:
// the image encoder's pyramid levels P<min_level> up to P5 (a keras.Model
// named "backbone", nested), the FeaturePyramid ("fpn") up to
// P<max_level>, and the task's box and class PredictionHeads shared over
// the levels, each level reshaped to [batch, anchors, 4 or classes] and
// concatenated. The outputs are the task's own, `bbox_regression` (deltas
// in center_xywh encoding) and `cls_logits`, and, where the task's
// prediction_decoder is keras-hub's NonMaxSuppression, what its
// predict() returns: `boxes`, `confidence`, `labels` and `num_detections`
// (layers/hub_detection.cc).
#include <algorithm>

#include "frontend/hub/builders/vision.h"
#include "frontend/hub/hyperparams.h"

namespace k2l::hub {

namespace {

const json& ConfigOf(const json& serialized) {
  static const json empty = json::object();
  if (!serialized.is_object()) return empty;
  auto it = serialized.find("config");
  return it != serialized.end() && it->is_object() ? *it : empty;
}

}  // namespace

Result<TaskGraph> BuildRetinaNetObjectDetector(const BuildInput& in) {
  const std::string owner = "RetinaNetBackbone";
  Hyperparams hp(in.backbone, owner);
  K2L_ASSIGN_OR_RETURN(int64_t min_level, hp.Int("min_level"));
  K2L_ASSIGN_OR_RETURN(int64_t max_level, hp.Int("max_level"));
  K2L_ASSIGN_OR_RETURN(bool use_p5, hp.BoolOr("use_p5", false));
  K2L_ASSIGN_OR_RETURN(bool fpn_bn, hp.BoolOr("use_fpn_batch_norm", false));
  K2L_ASSIGN_OR_RETURN(json encoder_cfg,
                       ResNetImageEncoder(in.backbone, owner));
  const json stacks = encoder_cfg.value("stackwise_num_filters", json());
  // The encoder's pyramid is P2 ... P<stacks + 1>.
  const int64_t encoder_top =
      stacks.is_array() ? static_cast<int64_t>(stacks.size()) + 1 : 0;
  const int64_t top = std::min(encoder_top, max_level);
  const std::string fix = " Save the preset again with save_to_preset()";
  if (min_level < 2 || max_level < min_level || min_level > top ||
      max_level > 9) {
    return Status::Invalid(
        owner + ": min_level " + std::to_string(min_level) + " and max_level " +
        std::to_string(max_level) +
        " do not fit the image encoder's pyramid "
        "(P2 to P" +
        std::to_string(encoder_top) +
        "): min_level must be one "
        "of its levels and max_level at least min_level (and at most 9)." +
        fix);
  }
  if (top < 5 && max_level >= 5) {
    return Status::Invalid(owner + ": the image encoder's pyramid ends at P" +
                           std::to_string(top) + ", below max_level " +
                           std::to_string(max_level) +
                           "; keras-hub requires it to reach P5." + fix);
  }
  // The top-down path adds P<l + 1>, upsampled by 2, to P<l>; the levels
  // are ceil(size / 2^l), so each must be twice the next.
  for (int64_t l = min_level; l < top; ++l) {
    for (int64_t size : {in.image_height, in.image_width}) {
      const int64_t fine = (size + (int64_t{1} << l) - 1) >> l;
      const int64_t coarse = (size + (int64_t{1} << (l + 1)) - 1) >> (l + 1);
      if (fine == 2 * coarse) continue;
      return Status::Invalid(
          owner + ": the image size " + std::to_string(in.image_height) + "x" +
          std::to_string(in.image_width) +
          " does not line up in the feature pyramid: level P" +
          std::to_string(l) + " is " + std::to_string(fine) +
          " pixels across, but P" + std::to_string(l + 1) +
          " upsampled by 2 is " + std::to_string(2 * coarse) +
          ", and the two are added. Use an image_size that is a multiple "
          "of " +
          std::to_string(int64_t{1} << top));
    }
  }

  // The feature extractor: keras.Model(encoder.inputs, {P<min> ... P<top>}),
  // named "backbone".
  K2L_ASSIGN_OR_RETURN(
      json extractor,
      ResNetBackboneGraph(encoder_cfg, in, "backbone",
                          /*pyramid_outputs=*/true, static_cast<int>(top)));
  json& outs = extractor["config"]["output_layers"];
  for (int64_t l = 2; l < min_level; ++l) outs.erase("P" + std::to_string(l));
  const std::string name = NameOr(in.backbone, "retina_net_backbone");
  GraphBuilder g(name);
  json image = g.Input("inputs", "float32",
                       {in.image_height, in.image_width, in.channels});
  g.CallModel(std::move(extractor), json::array({image}));
  json levels = json::array();
  for (int64_t l = min_level; l <= top; ++l) {
    levels.push_back(
        GraphBuilder::Tensor("backbone", 0, static_cast<int>(l - min_level)));
  }
  g.Call("FeaturePyramid", "fpn",
         {{"min_level", min_level},
          {"max_level", max_level},
          {"use_p5", use_p5},
          {"num_filters", 256},
          {"activation", "relu"},
          {"batch_norm_epsilon", 1e-3},
          {"use_batch_norm", fpn_bn},
          {"data_format", "channels_last"}},
         json::array({levels}), json::object(), "keras_hub>FeaturePyramid");
  json pyramid = json::object();
  for (int64_t l = min_level; l <= max_level; ++l) {
    pyramid["P" + std::to_string(l)] =
        GraphBuilder::Tensor("fpn", 0, static_cast<int>(l - min_level));
  }
  json backbone = g.Build({{"inputs", image}}, pyramid);

  // RetinaNetObjectDetector.
  const std::string task_owner = "RetinaNetObjectDetector";
  Hyperparams task(in.task, task_owner);
  K2L_ASSIGN_OR_RETURN(int64_t classes, task.Int("num_classes"));
  K2L_ASSIGN_OR_RETURN(int64_t convs,
                       task.IntOr("pre_logits_num_conv_layers", 4));
  K2L_ASSIGN_OR_RETURN(bool head_norm,
                       task.BoolOr("use_prediction_head_norm", false));
  if (classes < 1 || convs < 0) {
    return Status::Invalid(task_owner + ": num_classes " +
                           std::to_string(classes) +
                           " must be positive and pre_logits_num_conv_layers " +
                           std::to_string(convs) + " not negative." + fix);
  }
  std::string format = "yxyx";
  if (in.task.contains("bounding_box_format")) {
    K2L_ASSIGN_OR_RETURN(format, task.String("bounding_box_format"));
  }
  // keras-hub's AnchorGenerator: num_scales x aspect_ratios anchors per
  // cell, on the backbone's levels.
  const json generator = in.task.value("anchor_generator", json());
  const json& anchors = ConfigOf(generator);
  const std::string anchor_owner = task_owner + "'s anchor_generator";
  Hyperparams ag(anchors, anchor_owner);
  K2L_ASSIGN_OR_RETURN(int64_t scales, ag.Int("num_scales"));
  K2L_ASSIGN_OR_RETURN(int64_t anchor_min, ag.Int("min_level"));
  K2L_ASSIGN_OR_RETURN(int64_t anchor_max, ag.Int("max_level"));
  const json ratios = anchors.value("aspect_ratios", json());
  bool ratios_ok = ratios.is_array() && !ratios.empty();
  for (const json& r : ratios_ok ? ratios : json::array()) {
    ratios_ok = ratios_ok && r.is_number() && r.get<double>() > 0;
  }
  if (scales < 1 || !ratios_ok) {
    return Status::Invalid(
        anchor_owner + ": num_scales " + std::to_string(scales) +
        " must be positive and "
        "aspect_ratios " +
        ratios.dump() + " a list of positive numbers." + fix);
  }
  if (anchor_min != min_level || anchor_max != max_level) {
    return Status::Invalid(
        anchor_owner + ": its levels P" + std::to_string(anchor_min) + " to P" +
        std::to_string(anchor_max) + " are not the backbone's, P" +
        std::to_string(min_level) + " to P" + std::to_string(max_level) +
        ", so its anchors do not match the heads' predictions. Give the "
        "task an AnchorGenerator with the backbone's min_level and "
        "max_level");
  }
  const int64_t per_cell = scales * static_cast<int64_t>(ratios.size());

  GraphBuilder t(NameOr(in.task, "retina_net_object_detector"));
  ImageInput images = AddImageInput(t, in);
  t.CallModel(std::move(backbone), json::array({images.x}));
  auto head = [&](int64_t filters) {
    return json{{"output_filters", filters}, {"num_filters", 256},
                {"num_conv_layers", convs},  {"use_group_norm", head_norm},
                {"activation", "relu"},      {"data_format", "channels_last"}};
  };
  json boxes = json::array(), logits = json::array();
  for (int64_t l = min_level; l <= max_level; ++l) {
    const std::string level = "P" + std::to_string(l);
    json f = GraphBuilder::Tensor(name, 0, static_cast<int>(l - min_level));
    json b = l == min_level ? t.Call("PredictionHead", "box_head",
                                     head(per_cell * 4), json::array({f}),
                                     json::object(), "keras_hub>PredictionHead")
                            : t.CallAgain("box_head", json::array({f}));
    boxes.push_back(t.Call("Reshape", "box_pred_" + level,
                           {{"target_shape", {-1, 4}}}, json::array({b})));
    json c = l == min_level
                 ? t.Call("PredictionHead", "classification_head",
                          head(per_cell * classes), json::array({f}),
                          json::object(), "keras_hub>PredictionHead")
                 : t.CallAgain("classification_head", json::array({f}));
    logits.push_back(t.Call("Reshape", "cls_pred_" + level,
                            {{"target_shape", {-1, classes}}},
                            json::array({c})));
  }
  json cls =
      t.Call("Concatenate", "cls_logits", {{"axis", 1}}, json::array({logits}));
  json box = t.Call("Concatenate", "bbox_regression", {{"axis", 1}},
                    json::array({boxes}));
  json outputs = {{"bbox_regression", box}, {"cls_logits", cls}};

  TaskGraph out;
  // keras-hub's default decoder, when the task has none saved (get_config
  // always saves one; a hand-written config may not). Its from_logits
  // follows the task's `activation`, which get_config does not save either.
  json decoder = in.task.value("prediction_decoder", json());
  if (decoder.is_null()) {
    const json activation = in.task.value("activation", json());
    decoder = {{"class_name", "NonMaxSuppression"},
               {"module", "keras_hub.src.layers.modeling.non_max_supression"},
               {"config",
                {{"bounding_box_format", format},
                 {"from_logits", activation != "sigmoid"}}}};
  }
  if (decoder.is_object() &&
      decoder.value("class_name", "") == "NonMaxSuppression" &&
      decoder.value("module", "").rfind("keras_hub", 0) == 0) {
    t.Call("RetinaNetDecodePredictions", "decode_predictions",
           {{"anchor_generator", anchors},
            {"bounding_box_format", format},
            {"prediction_decoder", ConfigOf(decoder)},
            {"image_size", {in.image_height, in.image_width}}},
           json::array({box, cls}), json::object(),
           "keras2litert>RetinaNetDecodePredictions");
    const char* keys[] = {"boxes", "confidence", "labels", "num_detections"};
    for (int k = 0; k < 4; ++k) {
      outputs[keys[k]] = GraphBuilder::Tensor("decode_predictions", 0, k);
    }
    out.notes.push_back(
        task_owner + ": outputs boxes (" + format +
        "), confidence, labels and num_detections as its predict() decodes "
        "them (anchors, then NON_MAX_SUPPRESSION_V5 per image), and the raw "
        "heads bbox_regression and cls_logits");
  } else {
    const std::string cls_name =
        decoder.is_object() ? decoder.value("class_name", "") : decoder.dump();
    out.notes.push_back(
        task_owner + ": its prediction_decoder is '" + cls_name +
        "', not keras-hub's NonMaxSuppression, so the file outputs the raw "
        "heads bbox_regression (center_xywh deltas per anchor) and "
        "cls_logits only; decode them outside the model");
  }
  out.model = t.Build({{"images", images.images}}, outputs);
  out.backbone_layer = name;
  out.head_layers = {"box_head", "classification_head"};
  return out;
}

}  // namespace k2l::hub
