#include "frontend/hub/hub_source.h"

#include "frontend/hub/task_registry.h"

namespace k2l::hub {

using nlohmann::json;

namespace {

// The backbone file and the task file behind one store. A layer of the
// task graph reads the task file when it is one of the head's layers, the
// backbone file otherwise; a nested backbone is entered at its own root.
class TaskWeightStore : public keras::WeightStore {
 public:
  TaskWeightStore(std::unique_ptr<keras::WeightStore> backbone,
                  std::unique_ptr<keras::WeightStore> task,
                  std::string backbone_layer, std::set<std::string> head)
      : backbone_(std::move(backbone)),
        task_(std::move(task)),
        backbone_layer_(std::move(backbone_layer)),
        head_(std::move(head)) {}

  Result<std::vector<ir::TensorData>> Variables(
      const keras::WeightPath& path) const override {
    auto [store, p] = Route(path);
    if (store == nullptr) return MissingTaskFile(path);
    return store->Variables(p);
  }
  bool HasLayer(const keras::WeightPath& path) const override {
    auto [store, p] = Route(path);
    return store != nullptr && store->HasLayer(p);
  }
  Result<std::vector<ir::TensorData>> SublayerVariables(
      const keras::WeightPath& path, const std::vector<std::string>& attrs,
      size_t legacy_offset, size_t count) const override {
    auto [store, p] = Route(path);
    if (store == nullptr) return MissingTaskFile(path);
    return store->SublayerVariables(p, attrs, legacy_offset, count);
  }
  std::string Describe() const override {
    return backbone_->Describe() +
           (task_ ? " and " + task_->Describe() : std::string());
  }

 private:
  std::pair<const keras::WeightStore*, keras::WeightPath> Route(
      const keras::WeightPath& path) const {
    if (!path.empty() && !backbone_layer_.empty() &&
        path[0].layer_name == backbone_layer_) {
      return {backbone_.get(), keras::WeightPath(path.begin() + 1, path.end())};
    }
    if (!path.empty() && head_.count(path[0].layer_name)) {
      return {task_.get(), path};
    }
    return {backbone_.get(), path};
  }
  Status MissingTaskFile(const keras::WeightPath& path) const {
    return Status::Invalid(
        "the task layer '" + path[0].layer_name +
        "' has weights of its own, but the preset has no task.weights.h5. "
        "Save the whole task with task.save_to_preset(folder)");
  }

  std::unique_ptr<keras::WeightStore> backbone_, task_;
  std::string backbone_layer_;
  std::set<std::string> head_;
};

}  // namespace

Result<ResolvedLength> ResolveSequenceLength(
    const std::string& key, const UserLength& user,
    const std::optional<json>& preprocessor, bool dynamic_ok,
    int64_t max_length) {
  ResolvedLength r;
  const json* pre = nullptr;
  if (preprocessor && preprocessor->contains("config") &&
      (*preprocessor)["config"].is_object() &&
      (*preprocessor)["config"].value(key, json()).is_number_integer()) {
    pre = &(*preprocessor)["config"][key];
  }
  if (user.value) {
    if (*user.value < 1) {
      return Status::Invalid(key + " " + std::to_string(*user.value) +
                             " (from " + user.source +
                             ") is not a positive length. Give a length of "
                             "1 or more");
    }
    r = {*user.value, user.source};
  } else if (pre != nullptr) {
    r = {pre->get<int64_t>(), "preprocessor.json"};
    if (r.value < 1) {
      return Status::Invalid(
          "preprocessor.json gives " + key + " " + std::to_string(r.value) +
          ", which is not a positive length. Pass " + key +
          " to the export to override it");
    }
  } else if (dynamic_ok) {
    r = {-1, "dynamic: no argument and no preprocessor gave one, and this "
             "architecture runs at any length"};
  } else {
    r = {128, "the default: no argument and no preprocessor gave one"};
  }
  if (max_length > 0 && r.value > max_length) {
    return Status::Invalid(
        key + " " + std::to_string(r.value) + " (from " + r.source +
        ") is longer than the backbone's max_sequence_length " +
        std::to_string(max_length) +
        ": its position embeddings stop there. Use a length of at most " +
        std::to_string(max_length));
  }
  return r;
}

namespace {

std::string LengthText(const std::string& key, const ResolvedLength& len) {
  return key + " " +
         (len.value < 0 ? std::string("dynamic")
                        : std::to_string(len.value)) +
         " (" + len.source + ")";
}

UserLength Argument(const std::string& key, std::optional<int64_t> v) {
  return {v, "the " + key + " argument"};
}

// The image converter's config in preprocessor.json, or null.
const json* ImageConverter(const std::optional<json>& preprocessor) {
  // Member lookups by reference: the pointer stays inside `preprocessor`.
  auto member = [](const json* j, const char* key) -> const json* {
    if (j == nullptr || !j->is_object()) return nullptr;
    auto it = j->find(key);
    return it != j->end() && it->is_object() ? &*it : nullptr;
  };
  if (!preprocessor) return nullptr;
  return member(member(member(&*preprocessor, "config"), "image_converter"),
                "config");
}

// Where a backbone keeps its input's shape: `image_shape` (ResNet and most
// vision backbones) or `input_shape` (EfficientNet).
std::string ImageShapeKey(const json& backbone) {
  return !backbone.contains("image_shape") && backbone.contains("input_shape")
             ? "input_shape"
             : "image_shape";
}
const json& BackboneImageShape(const json& backbone) {
  static const json kNone;
  auto it = backbone.find(ImageShapeKey(backbone));
  return it == backbone.end() ? kNone : *it;
}

// A [height, width] pair of positive ints in `j` (or its first two
// entries), else nullopt.
std::optional<std::pair<int64_t, int64_t>> SizePair(const json& j) {
  if (!j.is_array() || j.size() < 2 || !j[0].is_number_integer() ||
      !j[1].is_number_integer() || j[0].get<int64_t>() < 1 ||
      j[1].get<int64_t>() < 1) {
    return std::nullopt;
  }
  return std::pair{j[0].get<int64_t>(), j[1].get<int64_t>()};
}

// A vision task's image size, channels and preprocessing from the user's
// options and the preset, into `in`; returns the summary's text for them.
Result<std::string> ResolveImage(TaskKind kind, const std::string& task_class,
                                 const HubOptions& o,
                                 const std::optional<json>& preprocessor,
                                 const json& backbone, BuildInput& in) {
  for (const auto& [key, v] :
       {std::pair{"sequence_length", o.sequence_length},
        std::pair{"encoder_sequence_length", o.encoder_sequence_length},
        std::pair{"decoder_sequence_length", o.decoder_sequence_length}}) {
    if (v) {
      return Status::Invalid(
          std::string(key) + " applies to text tasks, but '" + task_class +
          "' is an " + std::string(TaskKindName(kind)) +
          ", which takes images. Pass image_size instead");
    }
  }
  K2L_ASSIGN_OR_RETURN(ResolvedImageSize size,
                       ResolveImageSize(o.image_size, preprocessor, backbone,
                                        DefaultImageSize(kind)));
  in.image_height = size.height;
  in.image_width = size.width;
  const json& shape = BackboneImageShape(backbone);
  if (shape.is_array() && !shape.empty() && shape.back().is_number_integer()) {
    in.channels = shape.back().get<int64_t>();
    if (in.channels < 1) {
      return Status::Invalid(
          task_class + ": the backbone's " + ImageShapeKey(backbone) + " " +
          shape.dump() +
          " has no channels. The preset's config.json is malformed; save it "
          "again with save_to_preset()");
    }
  }
  std::string text = "image_size " + std::to_string(size.height) + "x" +
                     std::to_string(size.width) + " (" + size.source +
                     "), " + std::to_string(in.channels) + " channels; ";
  const json* conv = ImageConverter(preprocessor);
  const bool rescales =
      conv != nullptr && (!conv->value("scale", json()).is_null() ||
                          !conv->value("offset", json()).is_null());
  if (!o.include_preprocessing.value_or(true)) {
    text += "preprocessing left out (include_preprocessing is false): feed "
            "images already rescaled as the backbone expects";
  } else if (!rescales) {
    text += "no preprocessing: the preset's image converter does not "
            "rescale, so feed images as the backbone expects";
  } else {
    in.rescaling = {{"scale", conv->value("scale", json())},
                    {"offset", conv->value("offset", json())}};
    text += "the image converter's rescaling (x * scale + offset) is in the "
            "graph: feed raw pixels at " + std::to_string(size.height) + "x" +
            std::to_string(size.width) + " (resizing is not in the graph)";
  }
  return text;
}

// The lengths of a task of `kind` from the user's options and the preset,
// into `in`; returns the summary's text for them.
Result<std::string> ResolveLengths(TaskKind kind, const std::string& task_class,
                                   const HubOptions& o,
                                   const std::optional<json>& preprocessor,
                                   const Architecture& arch, int64_t max_len,
                                   BuildInput& in) {
  if (o.image_size || o.include_preprocessing) {
    return Status::Invalid(
        std::string(o.image_size ? "image_size" : "include_preprocessing") +
        " applies to vision tasks, but '" + task_class + "' is a " +
        std::string(TaskKindName(kind)) + ", which takes tokens. Pass " +
        (kind == TaskKind::kSeq2SeqLM
             ? "encoder_sequence_length and decoder_sequence_length"
             : "sequence_length") +
        " instead");
  }
  if (kind != TaskKind::kSeq2SeqLM) {
    for (const auto& [key, v] :
         {std::pair{"encoder_sequence_length", o.encoder_sequence_length},
          std::pair{"decoder_sequence_length", o.decoder_sequence_length}}) {
      if (v) {
        return Status::Invalid(
            std::string(key) + " applies to Seq2SeqLM tasks, but '" +
            task_class + "' is a " + std::string(TaskKindName(kind)) +
            ", whose inputs have one length. Pass sequence_length instead");
      }
    }
    K2L_ASSIGN_OR_RETURN(
        ResolvedLength len,
        ResolveSequenceLength("sequence_length",
                              Argument("sequence_length", o.sequence_length),
                              preprocessor, arch.dynamic_length, max_len));
    in.sequence_length = len.value;
    return LengthText("sequence_length", len);
  }
  // keras-hub's Seq2SeqLMPreprocessor takes sequence_length as an alias of
  // decoder_sequence_length.
  UserLength decoder = Argument("decoder_sequence_length",
                                o.decoder_sequence_length);
  if (o.sequence_length) {
    if (o.decoder_sequence_length &&
        *o.decoder_sequence_length != *o.sequence_length) {
      return Status::Invalid(
          "sequence_length " + std::to_string(*o.sequence_length) +
          " and decoder_sequence_length " +
          std::to_string(*o.decoder_sequence_length) +
          " disagree: for a Seq2SeqLM such as '" + task_class +
          "', sequence_length is an alias of decoder_sequence_length. Pass "
          "only one of them");
    }
    if (!o.decoder_sequence_length) {
      decoder = {o.sequence_length,
                 "the sequence_length argument, an alias of "
                 "decoder_sequence_length"};
    }
  }
  K2L_ASSIGN_OR_RETURN(
      ResolvedLength enc,
      ResolveSequenceLength(
          "encoder_sequence_length",
          Argument("encoder_sequence_length", o.encoder_sequence_length),
          preprocessor, arch.dynamic_length, max_len));
  K2L_ASSIGN_OR_RETURN(
      ResolvedLength dec,
      ResolveSequenceLength("decoder_sequence_length", decoder, preprocessor,
                            arch.dynamic_length, max_len));
  in.encoder_sequence_length = enc.value;
  in.decoder_sequence_length = dec.value;
  return LengthText("encoder_sequence_length", enc) + ", " +
         LengthText("decoder_sequence_length", dec);
}

}  // namespace

Result<ResolvedImageSize> ResolveImageSize(
    std::optional<std::pair<int64_t, int64_t>> user,
    const std::optional<json>& preprocessor, const json& backbone,
    int64_t fallback) {
  if (user) {
    if (user->first < 1 || user->second < 1) {
      return Status::Invalid(
          "image_size " + std::to_string(user->first) + "x" +
          std::to_string(user->second) +
          " is not a positive size. Give a height and width of 1 or more");
    }
    return ResolvedImageSize{user->first, user->second,
                             "the image_size argument"};
  }
  if (const json* conv = ImageConverter(preprocessor)) {
    if (auto s = SizePair(conv->value("image_size", json()))) {
      return ResolvedImageSize{s->first, s->second,
                               "the image converter in preprocessor.json"};
    }
  }
  if (auto s = SizePair(BackboneImageShape(backbone))) {
    return ResolvedImageSize{s->first, s->second,
                             "the backbone's " + ImageShapeKey(backbone)};
  }
  return ResolvedImageSize{fallback, fallback,
                           "the default: no argument, image converter or "
                           "fixed image_shape gave one"};
}

Result<HubSource> LoadHubSource(const std::string& dir,
                                const HubOptions& options) {
  K2L_ASSIGN_OR_RETURN(Preset preset, LoadPreset(dir));
  const json empty = json::object();
  // A backbone-only preset has no task; there is nothing task-shaped to
  // export from it.
  if (!preset.task) {
    return Status::Invalid(
        "the preset '" + dir + "' holds a backbone (" + ClassOf(preset.backbone) +
        ") but no task.json, so it has no task head to export. Save a task "
        "preset (e.g. keras_hub.models.GPT2CausalLM(backbone=...)."
        "save_to_preset(folder))");
  }
  const json& task = *preset.task;
  std::string task_class = ClassOf(task);
  K2L_ASSIGN_OR_RETURN(TaskKind kind,
                       ResolveTaskKind(task_class, options.task_ancestors));
  std::string backbone_class = ClassOf(preset.backbone);
  K2L_ASSIGN_OR_RETURN(const Architecture* arch,
                       FindArchitecture(kind, backbone_class, task_class));
  const json& bcfg = preset.backbone.contains("config") &&
                             preset.backbone["config"].is_object()
                         ? preset.backbone["config"]
                         : empty;
  const json& tcfg =
      task.contains("config") && task["config"].is_object() ? task["config"]
                                                            : empty;
  int64_t max_len = 0;
  if (!arch->max_length_key.empty() &&
      bcfg.value(arch->max_length_key, json()).is_number_integer()) {
    max_len = bcfg[arch->max_length_key].get<int64_t>();
  }
  BuildInput in{bcfg, tcfg};
  std::string lengths;
  if (IsVisionTask(kind)) {
    K2L_ASSIGN_OR_RETURN(lengths, ResolveImage(kind, task_class, options,
                                               preset.preprocessor, bcfg, in));
  } else {
    K2L_ASSIGN_OR_RETURN(
        lengths, ResolveLengths(kind, task_class, options, preset.preprocessor,
                                *arch, max_len, in));
  }
  K2L_ASSIGN_OR_RETURN(TaskGraph graph, arch->build(in));

  HubSource out;
  out.notes.push_back(task_class + " (a " + std::string(TaskKindName(kind)) +
                      " on " + backbone_class + "): " + lengths);
  for (std::string& n : graph.notes) out.notes.push_back(std::move(n));
  out.source.format = keras::SourceFormat::kHubPreset;
  out.source.config = std::move(graph.model);
  out.source.weights = std::make_unique<TaskWeightStore>(
      std::move(preset.backbone_weights), std::move(preset.task_weights),
      graph.backbone_layer, graph.head_layers);
  return out;
}

}  // namespace k2l::hub
