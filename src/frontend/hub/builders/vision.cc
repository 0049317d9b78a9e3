#include "frontend/hub/builders/vision.h"

#include "frontend/hub/hyperparams.h"

namespace k2l::hub {

ImageInput AddImageInput(GraphBuilder& g, const BuildInput& in) {
  ImageInput r;
  r.images = g.Input("images", "float32",
                     {in.image_height, in.image_width, in.channels});
  r.x = r.images;
  if (in.rescaling.is_object()) {
    json scale = in.rescaling.value("scale", json());
    json offset = in.rescaling.value("offset", json());
    r.x = g.Call("Rescaling", "image_converter_rescaling",
                 {{"scale", scale.is_null() ? json(1.0) : scale},
                  {"offset", offset.is_null() ? json(0.0) : offset}},
                 json::array({r.x}));
  }
  return r;
}

Result<json> ResNetImageEncoder(const json& backbone,
                                const std::string& owner) {
  const json encoder = backbone.value("image_encoder", json());
  const std::string encoder_class =
      encoder.is_object() ? encoder.value("class_name", "") : "";
  if (encoder_class != "ResNetBackbone") {
    return Status::Invalid(
        owner + ": its image_encoder is '" + encoder_class +
        "', for which keras2litert has no feature pyramid builder. "
        "Supported image encoders: ResNetBackbone");
  }
  const json config = encoder.value("config", json::object());
  return config.is_object() ? config : json::object();
}

HeadActivation ReadHeadActivation(const json& task) {
  json activation = task.value("activation", json(nullptr));
  const bool raw = activation.is_null() || activation == "linear";
  return {activation.is_null() ? json("linear") : activation,
          raw ? "logits" : "predictions"};
}

Result<TaskGraph> ImageTask(const BuildInput& in, json backbone,
                            const std::string& backbone_name,
                            const std::string& default_name,
                            const ImageHeadFn& head) {
  GraphBuilder t(NameOr(in.task, default_name));
  ImageInput image = AddImageInput(t, in);
  json features = t.CallModel(std::move(backbone), json::array({image.x}));
  K2L_ASSIGN_OR_RETURN(ImageHead h, head(t, features));
  TaskGraph g;
  g.model = t.Build({{"images", image.images}}, {{h.output_name, h.output}});
  g.backbone_layer = backbone_name;
  g.head_layers = std::move(h.layers);
  return g;
}

Result<TaskGraph> ImageClassifierTask(const BuildInput& in, json backbone,
                                      const std::string& backbone_name) {
  Hyperparams task(in.task, "ImageClassifier");
  K2L_ASSIGN_OR_RETURN(int64_t classes, task.Int("num_classes"));
  K2L_ASSIGN_OR_RETURN(double dropout, task.FloatOr("dropout", 0.0));
  const json& pooling = in.task.value("pooling", json("avg"));
  if (pooling != "avg" && pooling != "max") {
    return Status::Invalid(
        "ImageClassifier: the task's pooling is " + pooling.dump() +
        ", not \"avg\" or \"max\". The preset's task.json is malformed; save "
        "it again with save_to_preset()");
  }
  const HeadActivation act = ReadHeadActivation(in.task);

  auto head = [&](GraphBuilder& t, const json& features) -> Result<ImageHead> {
    json x = t.Call(
        pooling == "avg" ? "GlobalAveragePooling2D" : "GlobalMaxPooling2D",
        "pooler", {{"data_format", "channels_last"}, {"keepdims", false}},
        json::array({features}));
    x = t.Call("Dropout", "output_dropout", {{"rate", dropout}},
               json::array({x}), {{"training", false}});
    x = t.Call("Dense", "predictions",
               {{"units", classes},
                {"activation", act.activation},
                {"use_bias", true}},
               json::array({x}));
    return ImageHead{
        x, act.output_name, {"pooler", "output_dropout", "predictions"}};
  };
  return ImageTask(in, std::move(backbone), backbone_name, "image_classifier",
                   head);
}

}  // namespace k2l::hub
