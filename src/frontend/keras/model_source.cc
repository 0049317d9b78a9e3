// Keras file formats, as checked against files written by Keras 3.15.1 and
// tf.keras 2.13.1 (tests/fixtures/loader holds samples of each):
//
//  - `.keras`: a zip holding metadata.json, config.json and model.weights.h5,
//    all stored uncompressed. Weights live at <container>/<snake_class>[_N]/
//    vars/<i>: N counts earlier layers of the same class in the container,
//    never the layer's name. A Functional model's container includes its
//    InputLayers (layers/input_layer, with an empty vars group); a Sequential
//    model's does not. A nested model nests: layers/functional/layers/dense/
//    vars/0 (a Sequential is "sequential"). Every layer gets a group, even
//    one without weights. Keras 3 records the layer's name as a `name`
//    attribute on each vars group; we use it to check the path.
//  - tf.keras 2.12-2.14 `.keras`: class names again, with other counters,
//    under _layer_checkpoint_dependencies instead of layers (see
//    ResolveDepsStep). 2.15 and later write layers/ like Keras 3.
//  - legacy `.h5`: root attribute model_config (JSON) and /model_weights,
//    with one group per top-level layer, named by layer name. Each group's
//    weight_names attribute lists its datasets (paths relative to it) in
//    order. A nested model is NOT flattened: its group holds the weights of
//    all of its layers, named by variable path, e.g. "h1/kernel" for a
//    nested Functional, "subseq/sd1/kernel" for a nested Sequential,
//    "mha/query/kernel" for a sublayer; tf.keras 2.13 writes "sd1/kernel:0"
//    for the nested Sequential. Both list a nested model's trainable
//    weights before its non-trainable ones, across its layers.
#include "frontend/keras/model_source.h"

#include <zip.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

#include "core/file_io.h"
#include "frontend/keras/hdf5_file.h"

namespace k2l::keras {

using nlohmann::json;

std::string_view SourceFormatName(SourceFormat f) {
  switch (f) {
    case SourceFormat::kKerasZip:
      return ".keras archive";
    case SourceFormat::kKerasDir:
      return "Keras model folder";
    case SourceFormat::kLegacyH5:
      return "legacy .h5 model";
    case SourceFormat::kHubPreset:
      return "Keras-Hub preset";
  }
  return "?";
}

namespace {

constexpr char kResave[] = "Re-save the model with model.save(\"model.keras\")";
constexpr char kDepsGroup[] = "_layer_checkpoint_dependencies";

bool IsZip(std::span<const uint8_t> b) {
  return b.size() >= 4 && b[0] == 'P' && b[1] == 'K' && b[2] == 3 && b[3] == 4;
}

// HDF5 files start with this signature at offset 0, 512, 1024, 2048, ...
// (anything before it is a user block).
constexpr uint8_t kHdf5Sig[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
bool IsHdf5(std::span<const uint8_t> b) {
  for (size_t off = 0; off + 8 <= b.size(); off = off ? off * 2 : 512) {
    if (std::memcmp(b.data() + off, kHdf5Sig, 8) == 0) return true;
  }
  return false;
}

std::string Join(const std::string& a, const std::string& b) {
  if (a.empty()) return b;
  if (b.empty()) return a;
  return a + "/" + b;
}

Result<json> ParseJson(std::string_view text, const std::string& what) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return Status::Invalid(what + " is not valid JSON. " + kResave);
  }
  if (!j.is_object()) {
    return Status::Invalid(what + " is not a JSON object. " + kResave);
  }
  return j;
}

// "dense_12" -> ("dense", 12); "dense" -> ("dense", 0).
std::pair<std::string, long> SplitCounter(const std::string& seg) {
  size_t us = seg.rfind('_');
  if (us == std::string::npos || us + 1 == seg.size()) return {seg, 0};
  long n = 0;
  auto [p, ec] =
      std::from_chars(seg.data() + us + 1, seg.data() + seg.size(), n);
  if (ec != std::errc() || p != seg.data() + seg.size()) return {seg, 0};
  return {seg.substr(0, us), n};
}

// Keras 3, and tf.keras 2.12-2.14 (_layer_checkpoint_dependencies) layouts.
class Keras3WeightStore : public WeightStore {
 public:
  Keras3WeightStore(H5File file, std::string description)
      : file_(std::move(file)), description_(std::move(description)) {
    deps_layout_ = !file_.IsGroup("layers") && file_.IsGroup(kDepsGroup);
  }

  Result<std::vector<ir::TensorData>> Variables(
      const WeightPath& path) const override {
    std::vector<ir::TensorData> out;
    K2L_ASSIGN_OR_RETURN(auto group, Resolve(path));
    if (!group) return out;
    std::string vars = Join(*group, "vars");
    if (!file_.IsGroup(vars)) return out;
    K2L_ASSIGN_OR_RETURN(auto names, file_.Children(vars));
    // vars/0, vars/1, ..., vars/10: numeric order, not HDF5's alphabetical
    // one (Layer.save_own_variables writes str(index)).
    std::vector<std::pair<long, std::string>> order;
    for (const auto& n : names) {
      long v = -1;
      auto [p, ec] = std::from_chars(n.data(), n.data() + n.size(), v);
      if (ec != std::errc() || p != n.data() + n.size() || v < 0) {
        return Status::Invalid(description_ + ": unexpected entry '" + vars +
                               "/" + n + "' (variables are numbered). " +
                               kResave);
      }
      order.push_back({v, n});
    }
    std::sort(order.begin(), order.end());
    for (const auto& [v, n] : order) {
      K2L_ASSIGN_OR_RETURN(auto t, file_.ReadDataset(Join(vars, n)));
      out.push_back(std::move(t));
    }
    return out;
  }

  bool HasLayer(const WeightPath& path) const override {
    auto group = Resolve(path);
    return group.ok() && group->has_value();
  }

  Result<std::vector<ir::TensorData>> SublayerVariables(
      const WeightPath& path, const std::vector<std::string>& attrs,
      size_t /*legacy_offset*/, size_t /*count*/) const override {
    WeightPath sub = path;
    for (const auto& a : attrs) sub.push_back({a, ""});
    return Variables(sub);
  }

  std::string Describe() const override { return description_; }

 private:
  // The group holding the layer at `path`; nullopt when the file has none.
  Result<std::optional<std::string>> Resolve(const WeightPath& path) const {
    std::optional<std::string> group = std::string();
    for (const WeightPathStep& step : path) {
      if (deps_layout_) {
        group = ResolveDepsStep(*group, step);
      } else {
        K2L_ASSIGN_OR_RETURN(group, ResolveStep(*group, step));
      }
      if (!group) return group;
    }
    return group;
  }

  Result<std::optional<std::string>> ResolveStep(
      const std::string& parent, const WeightPathStep& step) const {
    using Found = std::optional<std::string>;
    std::string g = Join(parent, step.class_path);
    bool exists = file_.IsGroup(g);
    if (step.layer_name.empty()) return exists ? Found(g) : Found();
    std::optional<std::string> owner;
    if (exists) {
      K2L_ASSIGN_OR_RETURN(owner, file_.StringAttr(Join(g, "vars"), "name"));
      if (!owner || owner->empty() || *owner == step.layer_name)
        return Found(g);
    }
    // The group is missing or belongs to another layer: the class counter
    // disagrees with the file. Look for the layer's own group by the name
    // Keras records (files without names cannot be searched).
    size_t slash = g.rfind('/');
    std::string container =
        slash == std::string::npos ? "" : g.substr(0, slash);
    if (file_.IsGroup(container)) {
      K2L_ASSIGN_OR_RETURN(auto children, file_.Children(container));
      for (const auto& c : children) {
        std::string candidate = Join(container, c);
        K2L_ASSIGN_OR_RETURN(auto n,
                             file_.StringAttr(Join(candidate, "vars"), "name"));
        if (n && *n == step.layer_name) return Found(candidate);
      }
    }
    if (!exists) return Found();
    return Status::Invalid(
        description_ + ": the weights at '" + g + "' belong to layer '" +
        *owner + "', not to '" + step.layer_name +
        "', and no group holds that layer's weights, so the weights file "
        "does not match config.json. " +
        kResave + " so that both come from the same model");
  }

  // tf.keras 2.12-2.14 saved a Functional/Sequential model's layers (its
  // InputLayers included) under _layer_checkpoint_dependencies/
  // <snake_class>[_N]: their saver walked attributes in sorted order, and
  // that dict comes before `layers`. It lists each layer with weights twice
  // (as "layer_with_weights-i" and as "layer-j"). 2.12/2.13 advanced the
  // class counter for the skipped repeat too: a real 2.13.1 file holds
  // dense, dense_2, dense_4, ... (tests/fixtures/loader/tf213.keras). 2.14
  // did not (dense, dense_1, ...). Keras 3 itself just substitutes the group
  // name, which only matches 2.14 files. Either way each layer is saved
  // once, in container order, so the k-th layer of a class is the k-th group
  // of that class in counter order.
  std::optional<std::string> ResolveDepsStep(const std::string& parent,
                                             const WeightPathStep& step) const {
    const std::string prefix = "layers/";
    if (step.class_path.rfind(prefix, 0) != 0 ||
        step.class_path.find('/', prefix.size()) != std::string::npos) {
      std::string g = Join(parent, step.class_path);
      for (size_t at = 0; (at = g.find("layers", at)) != std::string::npos;
           at += std::strlen(kDepsGroup)) {
        g.replace(at, 6, kDepsGroup);
      }
      return file_.IsGroup(g) ? g : std::optional<std::string>();
    }
    auto [snake, k] = SplitCounter(step.class_path.substr(prefix.size()));
    std::string container = Join(parent, kDepsGroup);
    auto children =
        file_.IsGroup(container)
            ? file_.Children(container)
            : Result<std::vector<std::string>>(std::vector<std::string>());
    if (children.ok()) {
      std::vector<std::pair<long, std::string>> same_class;
      for (const auto& c : *children) {
        auto [s, n] = SplitCounter(c);
        if (s == snake) same_class.push_back({n, c});
      }
      std::sort(same_class.begin(), same_class.end());
      if (k < static_cast<long>(same_class.size())) {
        return Join(container, same_class[k].second);
      }
    }
    // Also accept a group named after the layer: earlier versions of this
    // project assumed that layout, and tests still build such files.
    std::string by_name = Join(container, step.layer_name);
    if (!step.layer_name.empty() && file_.IsGroup(by_name)) return by_name;
    return std::nullopt;
  }

  H5File file_;
  std::string description_;
  bool deps_layout_ = false;
};

// Legacy .h5 full models: /model_weights/<layer_name>, see the top comment.
class LegacyH5WeightStore : public WeightStore {
 public:
  LegacyH5WeightStore(H5File file, std::string root, std::string top_name)
      : file_(std::move(file)),
        root_(std::move(root)),
        top_name_(std::move(top_name)) {}

  Result<std::vector<ir::TensorData>> Variables(
      const WeightPath& full_path) const override {
    std::vector<ir::TensorData> out;
    // Sublayer steps (attribute names, no layer name) are not groups here:
    // a layer lists its sublayers' variables as its own.
    WeightPath path = full_path;
    while (path.size() > 1 && path.back().layer_name.empty()) path.pop_back();
    if (!HasLayer(path)) return out;
    std::string group = Join(root_, path.front().layer_name);
    K2L_ASSIGN_OR_RETURN(auto names,
                         file_.StringListAttr(group, "weight_names"));
    if (path.size() > 1) names = SelectNested(names, path);
    for (const auto& n : names) {
      K2L_ASSIGN_OR_RETURN(auto t, file_.ReadDataset(Join(group, n)));
      out.push_back(std::move(t));
    }
    return out;
  }

  bool HasLayer(const WeightPath& path) const override {
    return !path.empty() && file_.IsGroup(Join(root_, path.front().layer_name));
  }

  Result<std::vector<ir::TensorData>> SublayerVariables(
      const WeightPath& path, const std::vector<std::string>& /*attrs*/,
      size_t legacy_offset, size_t count) const override {
    K2L_ASSIGN_OR_RETURN(auto all, Variables(path));
    if (legacy_offset + count > all.size())
      return std::vector<ir::TensorData>();
    return std::vector<ir::TensorData>(
        all.begin() + static_cast<long>(legacy_offset),
        all.begin() + static_cast<long>(legacy_offset + count));
  }

  std::string Describe() const override { return "'" + file_.name() + "'"; }

 private:
  // Keeps the weights of the innermost layer of `path` out of the names of
  // a nested model's group, in their stored order. A variable path is
  // [<enclosing model>/...]<layer>/[<sublayer>/...]<variable>: the layer's
  // name is the first component not naming an enclosing model (the top
  // model included: a Sequential builds its layers inside its name scope).
  std::vector<std::string> SelectNested(const std::vector<std::string>& names,
                                        const WeightPath& path) const {
    const std::string& target = path.back().layer_name;
    std::set<std::string> enclosing = {top_name_};
    for (size_t i = 0; i + 1 < path.size(); ++i) {
      enclosing.insert(path[i].layer_name);
    }
    // Should no name fit that pattern, any name holding the layer's will do.
    std::vector<std::string> strict, loose;
    for (const auto& n : names) {
      std::vector<std::string> parts;
      for (size_t b = 0, e; (e = n.find('/', b)) != std::string::npos;
           b = e + 1) {
        parts.push_back(n.substr(b, e - b));  // the last part, not the variable
      }
      auto it = std::find(parts.begin(), parts.end(), target);
      if (it == parts.end()) continue;
      loose.push_back(n);
      if (std::all_of(parts.begin(), it, [&](const std::string& p) {
            return enclosing.count(p) > 0;
          })) {
        strict.push_back(n);
      }
    }
    return strict.empty() ? loose : strict;
  }

  H5File file_;
  std::string root_;
  std::string top_name_;
};

Result<ModelSource> FromLegacyH5(H5File file) {
  K2L_ASSIGN_OR_RETURN(auto cfg_text, file.StringAttr("", "model_config"));
  const std::string name = "'" + file.name() + "'";
  if (!cfg_text.has_value()) {
    if (file.IsGroup("layers") || file.IsGroup("vars")) {
      return Status::Invalid(
          name +
          " is a Keras weights file (model.save_weights): it holds weights "
          "but not the model's layers. Pass the .keras file saved with "
          "model.save(), or the folder holding config.json and this file as "
          "model.weights.h5");
    }
    return Status::Invalid(
        name +
        " is an HDF5 file without a model_config attribute: it holds weights "
        "only, not a model. Save the whole model (model.save) rather than "
        "model.save_weights");
  }
  K2L_ASSIGN_OR_RETURN(json cfg, ParseJson(*cfg_text, name + " model_config"));
  std::string top_name;
  if (cfg.contains("config") && cfg["config"].is_object() &&
      cfg["config"].contains("name") && cfg["config"]["name"].is_string()) {
    top_name = cfg["config"]["name"].get<std::string>();
  }
  std::string root = file.IsGroup("model_weights") ? "model_weights" : "";
  return ModelSource{SourceFormat::kLegacyH5, std::move(cfg),
                     std::make_unique<LegacyH5WeightStore>(
                         std::move(file), std::move(root), top_name)};
}

// The Keras version from metadata.json, for error messages; "" if unknown.
std::string KerasVersion(std::string_view metadata) {
  json j = json::parse(metadata, nullptr, /*allow_exceptions=*/false);
  if (j.is_object() && j.contains("keras_version") &&
      j["keras_version"].is_string()) {
    return j["keras_version"].get<std::string>();
  }
  return "";
}

Result<ModelSource> FromParts(SourceFormat format, std::string_view config,
                              std::string_view metadata, H5File h5,
                              const std::string& name) {
  K2L_ASSIGN_OR_RETURN(json cfg,
                       ParseJson(config, "config.json in '" + name + "'"));
  std::string description = "model.weights.h5 in '" + name + "'";
  std::string version = KerasVersion(metadata);
  if (!version.empty()) description += " (Keras " + version + ")";
  return ModelSource{
      format, std::move(cfg),
      std::make_unique<Keras3WeightStore>(std::move(h5), description)};
}

// Reads one zip entry fully (checking its CRC); nullopt when it is absent.
Result<std::optional<std::vector<uint8_t>>> ReadZipEntry(
    zip_t* z, const char* entry, const std::string& name) {
  zip_stat_t st;
  zip_stat_init(&st);
  if (zip_stat(z, entry, 0, &st) != 0) {
    return std::optional<std::vector<uint8_t>>();
  }
  auto corrupt = [&](const std::string& why) {
    return Status::Invalid("'" + name + "' is corrupt: its " + entry + " " +
                           why + ". " + kResave);
  };
  zip_file_t* f = zip_fopen_index(z, st.index, 0);
  if (f == nullptr)
    return corrupt(std::string("cannot be read (") + zip_strerror(z) + ")");
  std::unique_ptr<zip_file_t, int (*)(zip_file_t*)> guard(f, zip_fclose);
  std::vector<uint8_t> data;
  try {
    data.resize(st.size);
  } catch (const std::bad_alloc&) {
    return corrupt("claims " + std::to_string(st.size) +
                   " bytes, more than fit in memory");
  }
  zip_uint64_t got = 0;
  while (true) {
    // Reading on to the end makes libzip check the CRC.
    uint8_t probe;
    uint8_t* dst = got < data.size() ? data.data() + got : &probe;
    zip_uint64_t want = got < data.size() ? data.size() - got : 1;
    zip_int64_t n = zip_fread(f, dst, want);
    if (n < 0) {
      return corrupt(std::string("cannot be read (") + zip_file_strerror(f) +
                     ")");
    }
    if (n == 0) break;
    got += static_cast<zip_uint64_t>(n);
    if (got > data.size()) return corrupt("is longer than recorded");
  }
  if (got != data.size()) return corrupt("is truncated");
  return std::optional<std::vector<uint8_t>>(std::move(data));
}

// Reads config.json, metadata.json and model.weights.h5 into memory; the
// weights are opened as an HDF5 image, never extracted to disk.
Result<ModelSource> FromZipArchive(zip_t* z, const std::string& name) {
  std::unique_ptr<zip_t, void (*)(zip_t*)> guard(z, zip_discard);
  K2L_ASSIGN_OR_RETURN(auto config, ReadZipEntry(z, "config.json", name));
  if (!config) {
    return Status::Invalid("'" + name +
                           "' has no config.json, so the model's layers are "
                           "unknown. It is not a complete .keras model; " +
                           kResave);
  }
  K2L_ASSIGN_OR_RETURN(auto weights, ReadZipEntry(z, "model.weights.h5", name));
  if (!weights) {
    zip_stat_t st;
    bool npz = zip_stat(z, "model.weights.npz", 0, &st) == 0;
    return Status::Invalid(
        "'" + name + "' has no model.weights.h5" +
        (npz ? " (its weights are in model.weights.npz, which keras2litert "
               "does not read)"
             : "") +
        ". " + kResave);
  }
  K2L_ASSIGN_OR_RETURN(auto metadata, ReadZipEntry(z, "metadata.json", name));
  std::string_view meta_text;
  if (metadata) {
    meta_text = {reinterpret_cast<const char*>(metadata->data()),
                 metadata->size()};
  }
  K2L_ASSIGN_OR_RETURN(
      H5File h5, H5File::OpenImage(std::make_shared<const std::vector<uint8_t>>(
                                       std::move(*weights)),
                                   "model.weights.h5 in '" + name + "'"));
  std::string_view text(reinterpret_cast<const char*>(config->data()),
                        config->size());
  return FromParts(SourceFormat::kKerasZip, text, meta_text, std::move(h5),
                   name);
}

Status ZipOpenError(zip_error_t* err, const std::string& name) {
  std::string why = zip_error_strerror(err);
  zip_error_fini(err);
  return Status::Invalid("'" + name + "' is not a readable zip archive (" +
                         why + "); the .keras file is corrupt or truncated. " +
                         kResave);
}

Result<ModelSource> FromZipBytes(std::span<const uint8_t> bytes,
                                 const std::string& name) {
  zip_error_t err;
  zip_error_init(&err);
  zip_source_t* src =
      zip_source_buffer_create(bytes.data(), bytes.size(), 0, &err);
  if (src == nullptr) {
    std::string why = zip_error_strerror(&err);
    zip_error_fini(&err);
    return Status::Internal("cannot read '" + name + "' from memory: " + why);
  }
  zip_t* z = zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &err);
  if (z == nullptr) {
    zip_source_free(src);
    return ZipOpenError(&err, name);
  }
  zip_error_fini(&err);
  return FromZipArchive(z, name);
}

Result<ModelSource> FromZipFile(const std::string& path) {
  int code = 0;
  zip_t* z = zip_open(path.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &code);
  if (z == nullptr) {
    zip_error_t err;
    zip_error_init_with_code(&err, code);
    return ZipOpenError(&err, path);
  }
  return FromZipArchive(z, path);
}

Result<ModelSource> FromDirectory(const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  std::string name = dir.string();
  if (!fs::is_regular_file(dir / "config.json", ec)) {
    if (fs::exists(dir / "saved_model.pb", ec)) {
      return Status::Invalid(
          "the folder '" + name +
          "' is a TensorFlow SavedModel, which keras2litert does not read. "
          "Load the model in Keras and save it with model.save(\"m.keras\")");
    }
    return Status::Invalid("the folder '" + name +
                           "' has no config.json, so it is not an unzipped "
                           ".keras model. Point at the .keras file or at the "
                           "folder it was extracted to");
  }
  auto weights = dir / "model.weights.h5";
  if (!fs::is_regular_file(weights, ec)) {
    return Status::Invalid("the folder '" + name +
                           "' has no model.weights.h5. " + kResave);
  }
  K2L_ASSIGN_OR_RETURN(auto config,
                       ReadFileBytes((dir / "config.json").string()));
  std::vector<uint8_t> metadata;
  if (fs::is_regular_file(dir / "metadata.json", ec)) {
    K2L_ASSIGN_OR_RETURN(metadata,
                         ReadFileBytes((dir / "metadata.json").string()));
  }
  // Opened by path: HDF5 reads each dataset when it is asked for.
  K2L_ASSIGN_OR_RETURN(H5File h5, H5File::OpenPath(weights.string()));
  return FromParts(
      SourceFormat::kKerasDir,
      {reinterpret_cast<const char*>(config.data()), config.size()},
      {reinterpret_cast<const char*>(metadata.data()), metadata.size()},
      std::move(h5), name);
}

struct FileKind {
  bool zip = false;
  bool hdf5 = false;
  uint64_t size = 0;
};

// Checks the magic bytes of a file without reading all of it: the first 4
// bytes, and 8 at each offset where an HDF5 signature may sit.
Result<FileKind> Sniff(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) {
    return Status::Invalid("'" + path + "' cannot be opened (" +
                           std::strerror(errno) + "). Check its permissions");
  }
  FileKind kind;
  kind.size = static_cast<uint64_t>(in.tellg());
  uint8_t buf[8];
  auto read_at = [&](uint64_t off, size_t n) {
    in.seekg(static_cast<std::streamoff>(off));
    in.read(reinterpret_cast<char*>(buf), static_cast<std::streamsize>(n));
    return static_cast<bool>(in);
  };
  if (kind.size >= 4 && read_at(0, 4)) kind.zip = IsZip({buf, 4});
  for (uint64_t off = 0; !kind.zip && off + 8 <= kind.size;
       off = off ? off * 2 : 512) {
    if (!read_at(off, 8)) {
      return Status::Invalid("'" + path + "' cannot be read. Check the file");
    }
    if (std::memcmp(buf, kHdf5Sig, 8) == 0) {
      kind.hdf5 = true;
      break;
    }
  }
  return kind;
}

Status UnknownFormat(const std::string& name, uint64_t size) {
  if (size == 0) {
    return Status::Invalid("'" + name +
                           "' is empty (0 bytes). Save the model again with "
                           "model.save(\"model.keras\")");
  }
  return Status::Invalid("'" + name +
                         "' is neither a .keras archive (zip) nor a legacy "
                         ".h5 model (HDF5): its first bytes match neither "
                         "format. Pass a file written by model.save()");
}

}  // namespace

namespace {

// The shards of a sharded weights file, in order; each is a Keras 3 layout
// holding some of the groups.
class ShardedWeightStore : public WeightStore {
 public:
  ShardedWeightStore(std::vector<std::unique_ptr<WeightStore>> shards,
                     std::string description)
      : shards_(std::move(shards)), description_(std::move(description)) {}

  Result<std::vector<ir::TensorData>> Variables(
      const WeightPath& path) const override {
    std::vector<ir::TensorData> out;
    for (const auto& s : shards_) {
      K2L_ASSIGN_OR_RETURN(auto part, s->Variables(path));
      for (auto& t : part) out.push_back(std::move(t));
    }
    return out;
  }
  bool HasLayer(const WeightPath& path) const override {
    for (const auto& s : shards_) {
      if (s->HasLayer(path)) return true;
    }
    return false;
  }
  Result<std::vector<ir::TensorData>> SublayerVariables(
      const WeightPath& path, const std::vector<std::string>& attrs,
      size_t legacy_offset, size_t count) const override {
    std::vector<ir::TensorData> out;
    for (const auto& s : shards_) {
      K2L_ASSIGN_OR_RETURN(
          auto part, s->SublayerVariables(path, attrs, legacy_offset, count));
      for (auto& t : part) out.push_back(std::move(t));
    }
    return out;
  }
  std::string Describe() const override { return description_; }

 private:
  std::vector<std::unique_ptr<WeightStore>> shards_;
  std::string description_;
};

}  // namespace

Result<std::unique_ptr<WeightStore>> OpenKerasWeights(
    const std::string& path, const std::string& description) {
  K2L_ASSIGN_OR_RETURN(H5File h5, H5File::OpenPath(path));
  return std::unique_ptr<WeightStore>(
      std::make_unique<Keras3WeightStore>(std::move(h5), description));
}

Result<std::unique_ptr<WeightStore>> OpenShardedKerasWeights(
    const std::string& json_path, const std::string& description) {
  namespace fs = std::filesystem;
  K2L_ASSIGN_OR_RETURN(auto text, ReadFileBytes(json_path));
  K2L_ASSIGN_OR_RETURN(
      json index,
      ParseJson({reinterpret_cast<const char*>(text.data()), text.size()},
                json_path));
  auto bad = [&](const std::string& why) {
    return Status::Invalid("'" + json_path + "' is not a sharded weights "
                           "index: " + why +
                           ". Re-save the weights with Keras 3");
  };
  if (!index.is_object() || !index.contains("weight_map") ||
      !index["weight_map"].is_object()) {
    return bad("it has no weight_map object");
  }
  std::set<std::string> files;
  for (const auto& [group, where] : index["weight_map"].items()) {
    if (where.is_string()) {
      files.insert(where.get<std::string>());
    } else if (where.is_array()) {
      for (const json& f : where) {
        if (!f.is_string()) return bad("an entry of '" + group + "' is not a file name");
        files.insert(f.get<std::string>());
      }
    } else {
      return bad("the entry of '" + group + "' is not a file name");
    }
  }
  fs::path dir = fs::path(json_path).parent_path();
  std::vector<std::unique_ptr<WeightStore>> shards;
  for (const std::string& f : files) {  // sorted: model_00000, model_00001, ...
    if (f.find('/') != std::string::npos || f.find("..") != std::string::npos) {
      return bad("the shard name '" + f + "' is not a plain file name");
    }
    std::error_code ec;
    if (!fs::is_regular_file(dir / f, ec)) {
      return Status::Invalid("'" + json_path + "' lists the shard '" + f +
                             "', which is not in its folder. Copy every "
                             "shard beside the index");
    }
    K2L_ASSIGN_OR_RETURN(auto store,
                         OpenKerasWeights((dir / f).string(), description));
    shards.push_back(std::move(store));
  }
  if (shards.empty()) return bad("it lists no shard files");
  return std::unique_ptr<WeightStore>(
      std::make_unique<ShardedWeightStore>(std::move(shards), description));
}

Result<ModelSource> LoadModelSourceFromBytes(std::span<const uint8_t> bytes,
                                             const std::string& name) {
  if (IsZip(bytes)) return FromZipBytes(bytes, name);
  if (IsHdf5(bytes)) {
    auto copy = std::make_shared<const std::vector<uint8_t>>(bytes.begin(),
                                                             bytes.end());
    K2L_ASSIGN_OR_RETURN(H5File h5, H5File::OpenImage(copy, name));
    return FromLegacyH5(std::move(h5));
  }
  return UnknownFormat(name, bytes.size());
}

Result<ModelSource> LoadModelSource(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::is_directory(path, ec)) return FromDirectory(path);
  if (!fs::exists(path, ec)) {
    return Status::Invalid("'" + path + "' does not exist. Check the path");
  }
  // Read from the file rather than slurping it: the zip reader copies only
  // the entries, and an HDF5 file is read dataset by dataset.
  K2L_ASSIGN_OR_RETURN(FileKind kind, Sniff(path));
  if (kind.zip) return FromZipFile(path);
  if (kind.hdf5) {
    K2L_ASSIGN_OR_RETURN(H5File h5, H5File::OpenPath(path));
    return FromLegacyH5(std::move(h5));
  }
  return UnknownFormat(path, kind.size);
}

namespace {

float HalfToFloat(uint16_t h) {
  uint32_t sign = (h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ff;
  uint32_t bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal: normalise
      exp = 127 - 15 + 1;
      while ((mant & 0x400) == 0) {
        mant <<= 1;
        --exp;
      }
      mant &= 0x3ff;
      bits = sign | (exp << 23) | (mant << 13);
    }
  } else if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else {
    bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

}  // namespace

Result<ir::TensorData> ToFloat32(const ir::TensorData& t,
                                 const std::string& what) {
  if (t.dtype() == ir::DType::kFloat32) return t;
  if (!ir::IsFloat(t.dtype())) {
    return Status::Invalid(what + " has dtype " +
                           std::string(ir::DTypeName(t.dtype())) +
                           " where a float tensor is expected. The weights "
                           "file does not match the layer; " +
                           kResave);
  }
  size_t n = static_cast<size_t>(t.num_elements());
  if (t.bytes().size() != n * ir::ElementSize(t.dtype())) {
    return Status::Internal(what + ": " + std::to_string(t.bytes().size()) +
                            " bytes for " + std::to_string(n) + " " +
                            std::string(ir::DTypeName(t.dtype())) +
                            " elements");
  }
  std::vector<float> out(n);
  if (t.dtype() == ir::DType::kFloat64) {
    auto s = t.as<double>();
    for (size_t i = 0; i < n; ++i) out[i] = static_cast<float>(s[i]);
  } else if (t.dtype() == ir::DType::kFloat16) {
    auto s = t.as<uint16_t>();
    for (size_t i = 0; i < n; ++i) out[i] = HalfToFloat(s[i]);
  } else {  // bfloat16 is the top half of a float32: exact.
    auto s = t.as<uint16_t>();
    for (size_t i = 0; i < n; ++i) {
      uint32_t bits = static_cast<uint32_t>(s[i]) << 16;
      std::memcpy(&out[i], &bits, 4);
    }
  }
  return ir::TensorData::FromVector(ir::DType::kFloat32, t.shape(), out);
}

}  // namespace k2l::keras
