// ViT (keras_hub.models.ViTBackbone and ViTImageClassifier), as keras-hub
// 0.32 builds it, channels last: the `images` input, ViTPatchingAndEmbedding
// (patch convolution, class token, position table) and ViTEncoder (pre-norm
// blocks and a final LayerNormalization). The position table fixes the
// patch grid, so the image size must be the backbone's image_shape.
//
// ViTImageClassifier has its own head, not ImageClassifier's: the class
// token (pooling "token", x[:, 0]) or the mean over the tokens ("gap"), an
// optional Dense(intermediate_dim, tanh) named pre_logits, output_dropout,
// and the `predictions` Dense.
#include "frontend/hub/builders/vision.h"
#include "frontend/hub/hyperparams.h"

namespace k2l::hub {

namespace {

const char kOwner[] = "ViTBackbone";
const char kTask[] = "ViTImageClassifier";

std::string Size(int64_t h, int64_t w) {
  return std::to_string(h) + "x" + std::to_string(w);
}

// patch_size: an int or an (int, int) pair.
Result<std::pair<int64_t, int64_t>> PatchSize(const Hyperparams& hp) {
  const json& p = hp.raw().value("patch_size", json());
  if (p.is_number_integer() && p.get<int64_t>() > 0) {
    return std::pair{p.get<int64_t>(), p.get<int64_t>()};
  }
  K2L_ASSIGN_OR_RETURN(auto v, hp.IntList("patch_size"));
  if (v.size() != 2 || v[0] < 1 || v[1] < 1) {
    return Status::Invalid(std::string(kOwner) + ": the hyperparameter "
                           "patch_size is " + p.dump() + ", not a positive "
                           "int or (height, width) pair. The preset's "
                           "config.json is malformed; save it again with "
                           "save_to_preset()");
  }
  return std::pair{v[0], v[1]};
}

}  // namespace

Result<TaskGraph> BuildViTImageClassifier(const BuildInput& in) {
  Hyperparams hp(in.backbone, kOwner);
  const std::string fix =
      ". The preset's config.json is malformed; save it again with "
      "save_to_preset()";
  K2L_ASSIGN_OR_RETURN(auto shape, hp.IntList("image_shape"));
  if (shape.size() != 3 || shape[0] < 1 || shape[1] < 1) {
    return Status::Invalid(std::string(kOwner) + ": the hyperparameter "
                           "image_shape is " +
                           in.backbone.value("image_shape", json()).dump() +
                           ", not a fixed (height, width, channels)" + fix);
  }
  K2L_ASSIGN_OR_RETURN(auto patch, PatchSize(hp));
  K2L_ASSIGN_OR_RETURN(int64_t layers, hp.Int("num_layers"));
  K2L_ASSIGN_OR_RETURN(int64_t heads, hp.Int("num_heads"));
  K2L_ASSIGN_OR_RETURN(int64_t hidden, hp.Int("hidden_dim"));
  K2L_ASSIGN_OR_RETURN(int64_t mlp_dim, hp.Int("mlp_dim"));
  K2L_ASSIGN_OR_RETURN(double dropout, hp.FloatOr("dropout_rate", 0.0));
  K2L_ASSIGN_OR_RETURN(double attention_dropout,
                       hp.FloatOr("attention_dropout", 0.0));
  K2L_ASSIGN_OR_RETURN(double epsilon, hp.FloatOr("layer_norm_epsilon", 1e-6));
  K2L_ASSIGN_OR_RETURN(bool mha_bias, hp.BoolOr("use_mha_bias", true));
  K2L_ASSIGN_OR_RETURN(bool mlp_bias, hp.BoolOr("use_mlp_bias", true));
  K2L_ASSIGN_OR_RETURN(bool class_token, hp.BoolOr("use_class_token", true));
  K2L_ASSIGN_OR_RETURN(bool patch_bias, hp.BoolOr("use_patch_bias", true));
  const json& fmt = in.backbone.value("data_format", json("channels_last"));
  if (!fmt.is_null() && fmt != "channels_last") {
    return Status::Invalid(std::string(kOwner) + ": data_format " +
                           fmt.dump() +
                           " is not converted; keras2litert builds "
                           "channels_last (NHWC) networks. Build the "
                           "backbone with data_format=\"channels_last\"");
  }
  if (shape[0] % patch.first != 0 || shape[1] % patch.second != 0) {
    return Status::Invalid(std::string(kOwner) + ": the image_shape " +
                           Size(shape[0], shape[1]) +
                           " is not a multiple of the patch_size " +
                           Size(patch.first, patch.second) + fix);
  }
  const int64_t gh = shape[0] / patch.first, gw = shape[1] / patch.second;
  // The position table holds one row per patch of the image_shape's grid
  // (and the class token's): no other image size fits it.
  if (in.image_height != shape[0] || in.image_width != shape[1]) {
    const bool whole = in.image_height % patch.first == 0 &&
                       in.image_width % patch.second == 0;
    std::string why =
        whole ? "gives a " + Size(in.image_height / patch.first,
                                  in.image_width / patch.second) +
                    " patch grid, but its position embeddings hold the " +
                    Size(gh, gw) + " grid of its image_shape " +
                    Size(shape[0], shape[1])
              : "is not a multiple of its patch_size " +
                    Size(patch.first, patch.second) +
                    ", and its position embeddings hold the " + Size(gh, gw) +
                    " patch grid of its image_shape " +
                    Size(shape[0], shape[1]);
    return Status::Invalid(
        std::string(kOwner) + ": the image size " +
        Size(in.image_height, in.image_width) +
        " is an image size the backbone cannot take: it " + why +
        ". Export at image_size=(" + std::to_string(shape[0]) + ", " +
        std::to_string(shape[1]) + ") (CLI --image-size " +
        Size(shape[0], shape[1]) + ") and resize images to " +
        Size(shape[0], shape[1]) + " before feeding them");
  }
  Hyperparams task(in.task, kTask);
  K2L_ASSIGN_OR_RETURN(int64_t classes, task.Int("num_classes"));
  K2L_ASSIGN_OR_RETURN(double task_dropout, task.FloatOr("dropout", 0.0));
  const json& pooling = in.task.value("pooling", json("token"));
  if (pooling != "token" && pooling != "gap") {
    return Status::Invalid(
        std::string(kTask) + ": the hyperparameter pooling is " +
        pooling.dump() + ", neither \"token\" (the class token) nor \"gap\" "
        "(the mean over the tokens); keras-hub then pools nothing and "
        "classifies every token, which keras2litert does not export. Build "
        "the task with pooling=\"token\" or pooling=\"gap\"");
  }
  const json& intermediate = in.task.value("intermediate_dim", json());
  if (!intermediate.is_null() &&
      (!intermediate.is_number_integer() || intermediate.get<int64_t>() < 1)) {
    return Status::Invalid(std::string(kTask) + ": the hyperparameter "
                           "intermediate_dim is " + intermediate.dump() +
                           ", not a positive int or null. Build the task "
                           "with intermediate_dim=None or a positive size");
  }
  const HeadActivation act = ReadHeadActivation(in.task);

  // The backbone.
  const std::string name = NameOr(in.backbone, "vi_t_backbone");
  GraphBuilder b(name);
  json image = b.Input("images", "float32", {shape[0], shape[1], shape[2]});
  json x = b.Call("ViTPatchingAndEmbedding", "vit_patching_and_embedding",
                  {{"image_size", {shape[0], shape[1]}},
                   {"patch_size", {patch.first, patch.second}},
                   {"hidden_dim", hidden},
                   {"num_channels", shape[2]},
                   {"num_patches", gh * gw},
                   {"num_positions", gh * gw + (class_token ? 1 : 0)},
                   {"use_class_token", class_token},
                   {"use_patch_bias", patch_bias}},
                  json::array({image}), json::object(),
                  "keras_hub>ViTPatchingAndEmbedding");
  x = b.Call("ViTEncoder", "vit_encoder",
             {{"num_layers", layers},
              {"num_heads", heads},
              {"hidden_dim", hidden},
              {"mlp_dim", mlp_dim},
              {"use_mha_bias", mha_bias},
              {"use_mlp_bias", mlp_bias},
              {"dropout_rate", dropout},
              {"attention_dropout", attention_dropout},
              {"layer_norm_epsilon", epsilon}},
             json::array({x}), json::object(), "keras_hub>ViTEncoder");
  json backbone = b.Build({{"images", image}}, x);

  // The task.
  GraphBuilder t(NameOr(in.task, "vi_t_image_classifier"));
  ImageInput input = AddImageInput(t, in);
  TaskGraph g;
  x = t.CallModel(std::move(backbone), json::array({input.x}));
  if (pooling == "token") {
    x = t.TokenAt("get_item", x, 0);
    g.head_layers.insert("get_item");
  } else {
    x = t.CallOp("keras.src.ops.numpy", "Mean", "mean", json::array({x}),
                 {{"axis", {1}}, {"keepdims", false}});
    g.head_layers.insert("mean");
  }
  if (!intermediate.is_null()) {
    x = t.Call("Dense", "pre_logits",
               {{"units", intermediate}, {"activation", "tanh"},
                {"use_bias", true}},
               json::array({x}));
    g.head_layers.insert("pre_logits");
  }
  x = t.Call("Dropout", "output_dropout", {{"rate", task_dropout}},
             json::array({x}), {{"training", false}});
  x = t.Call("Dense", "predictions",
             {{"units", classes}, {"activation", act.activation}, {"use_bias", true}},
             json::array({x}));
  g.head_layers.insert({"output_dropout", "predictions"});
  g.model = t.Build({{"images", input.images}},
                    {{act.output_name, x}});
  g.backbone_layer = name;
  return g;
}

}  // namespace k2l::hub
