// Keras file formats, as Keras 3.x writes them:
//  - `.keras`: a zip holding config.json, metadata.json and model.weights.h5.
//    Weights live at layers/<snake_class>[_N]/vars/<i>; nested models nest
//    (layers/functional/layers/dense/vars/0). tf.keras 2.13/2.14 wrote
//    _layer_checkpoint_dependencies/<layer_name>/vars/<i> instead.
//  - legacy `.h5`: root attribute model_config (JSON) and /model_weights,
//    whose layer_names attribute lists layer groups; each group's
//    weight_names attribute lists its datasets in order. A nested model's
//    group holds all of its layers' weights, named "<layer>/<var>".
#include "frontend/keras/model_source.h"

#include <sys/stat.h>
#include <zip.h>

#include <algorithm>
#include <cstring>
#include <filesystem>

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
  }
  return "?";
}

namespace {

constexpr char kResave[] = "Re-save the model with model.save(\"model.keras\")";

bool IsZip(std::span<const uint8_t> b) {
  return b.size() >= 4 && b[0] == 'P' && b[1] == 'K' && b[2] == 3 && b[3] == 4;
}

// HDF5 files start with this signature at offset 0, 512, 1024, 2048, ...
bool IsHdf5(std::span<const uint8_t> b) {
  static const uint8_t kSig[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
  for (size_t off = 0; off + 8 <= b.size(); off = off ? off * 2 : 512) {
    if (std::memcmp(b.data() + off, kSig, 8) == 0) return true;
  }
  return false;
}

Result<json> ParseJson(std::string_view text, const std::string& what) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return Status::Invalid(what + " is not valid JSON. " + kResave);
  }
  return j;
}

// Keras 3 layout, or the tf.keras 2.13/2.14 one.
class Keras3WeightStore : public WeightStore {
 public:
  Keras3WeightStore(H5File file, std::string description)
      : file_(std::move(file)), description_(std::move(description)) {
    legacy_deps_ = !file_.Exists("layers") &&
                   file_.Exists("_layer_checkpoint_dependencies");
  }

  Result<std::vector<ir::TensorData>> Variables(
      const WeightPath& path) const override {
    std::string group;
    for (const WeightPathStep& step : path) {
      group += group.empty() ? "" : "/";
      group += legacy_deps_
                   ? "_layer_checkpoint_dependencies/" + step.layer_name
                   : step.class_path;
    }
    std::string vars = group + "/vars";
    std::vector<ir::TensorData> out;
    if (!file_.IsGroup(vars)) return out;
    K2L_ASSIGN_OR_RETURN(auto names, file_.Children(vars));
    // vars/0, vars/1, ..., vars/10: numeric order, not the file's
    // alphabetical one.
    std::vector<std::pair<long, std::string>> order;
    for (const auto& n : names) {
      char* end = nullptr;
      long v = std::strtol(n.c_str(), &end, 10);
      if (end == n.c_str() || *end != '\0') {
        return Status::Invalid(description_ + ": unexpected entry '" + vars +
                               "/" + n + "'. " + kResave);
      }
      order.push_back({v, n});
    }
    std::sort(order.begin(), order.end());
    for (const auto& [v, n] : order) {
      K2L_ASSIGN_OR_RETURN(auto t, file_.ReadDataset(vars + "/" + n));
      out.push_back(std::move(t));
    }
    return out;
  }

  std::string Describe() const override { return description_; }

 private:
  H5File file_;
  std::string description_;
  bool legacy_deps_ = false;
};

class LegacyH5WeightStore : public WeightStore {
 public:
  LegacyH5WeightStore(std::shared_ptr<H5File> file, std::string root)
      : file_(std::move(file)), root_(std::move(root)) {}

  Result<std::vector<ir::TensorData>> Variables(
      const WeightPath& path) const override {
    std::vector<ir::TensorData> out;
    if (path.empty()) return out;
    std::string group = root_ + "/" + path.front().layer_name;
    if (!file_->IsGroup(group)) return out;
    K2L_ASSIGN_OR_RETURN(auto names,
                         file_->StringListAttr(group, "weight_names"));
    for (const auto& n : names) {
      if (path.size() > 1) {
        // Inside a nested model: keep the variables of the innermost layer,
        // named ".../<layer>/<variable>".
        size_t last = n.rfind('/');
        if (last == std::string::npos) continue;
        size_t prev = n.rfind('/', last - 1);
        std::string owner =
            n.substr(prev == std::string::npos ? 0 : prev + 1,
                     last - (prev == std::string::npos ? 0 : prev + 1));
        if (owner != path.back().layer_name) continue;
      }
      K2L_ASSIGN_OR_RETURN(auto t, file_->ReadDataset(group + "/" + n));
      out.push_back(std::move(t));
    }
    return out;
  }

  std::string Describe() const override { return file_->name(); }

 private:
  std::shared_ptr<H5File> file_;
  std::string root_;
};

Result<ModelSource> FromLegacyH5(H5File file) {
  auto shared = std::make_shared<H5File>(std::move(file));
  K2L_ASSIGN_OR_RETURN(auto cfg_text, shared->StringAttr("/", "model_config"));
  if (!cfg_text.has_value()) {
    return Status::Invalid(
        "'" + shared->name() +
        "' is an HDF5 file without a model_config attribute: it holds "
        "weights only, not a model. Save the whole model (model.save) "
        "rather than model.save_weights");
  }
  K2L_ASSIGN_OR_RETURN(
      json cfg, ParseJson(*cfg_text, "'" + shared->name() + "' model_config"));
  std::string root = shared->IsGroup("/model_weights") ? "/model_weights" : "/";
  ModelSource src{SourceFormat::kLegacyH5, std::move(cfg),
                  std::make_unique<LegacyH5WeightStore>(shared, root)};
  return src;
}

Result<ModelSource> FromParts(
    SourceFormat format, std::string_view config_text,
    std::shared_ptr<const std::vector<uint8_t>> weights,
    const std::string& name) {
  K2L_ASSIGN_OR_RETURN(json cfg,
                       ParseJson(config_text, "config.json in '" + name + "'"));
  std::string wname = "model.weights.h5 in '" + name + "'";
  K2L_ASSIGN_OR_RETURN(H5File h5, H5File::OpenImage(std::move(weights), wname));
  return ModelSource{format, std::move(cfg),
                     std::make_unique<Keras3WeightStore>(std::move(h5), wname)};
}

// Reads one zip entry fully; nullopt when the entry does not exist.
Result<std::optional<std::vector<uint8_t>>> ReadZipEntry(
    zip_t* z, const char* entry, const std::string& name) {
  zip_stat_t st;
  zip_stat_init(&st);
  if (zip_stat(z, entry, 0, &st) != 0)
    return std::optional<std::vector<uint8_t>>();
  zip_file_t* f = zip_fopen(z, entry, 0);
  if (f == nullptr) {
    return Status::Invalid("cannot read " + std::string(entry) + " in '" +
                           name + "': " + zip_strerror(z) + ". " + kResave);
  }
  std::vector<uint8_t> data(st.size);
  zip_int64_t got = data.empty() ? 0 : zip_fread(f, data.data(), data.size());
  zip_fclose(f);
  if (got < 0 || static_cast<zip_uint64_t>(got) != st.size) {
    return Status::Invalid("'" + name + "' is corrupt: " + entry +
                           " cannot be read in full. " + kResave);
  }
  return std::optional<std::vector<uint8_t>>(std::move(data));
}

Result<ModelSource> FromZip(std::span<const uint8_t> bytes,
                            const std::string& name) {
  zip_error_t err;
  zip_error_init(&err);
  zip_source_t* src =
      zip_source_buffer_create(bytes.data(), bytes.size(), 0, &err);
  if (src == nullptr) {
    return Status::Internal("cannot read '" + name +
                            "': " + zip_error_strerror(&err));
  }
  zip_t* z = zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &err);
  if (z == nullptr) {
    std::string why = zip_error_strerror(&err);
    zip_source_free(src);
    zip_error_fini(&err);
    return Status::Invalid(
        "'" + name + "' is not a readable zip archive (" + why +
        "); the .keras file is corrupt or truncated. " + kResave);
  }
  std::unique_ptr<zip_t, int (*)(zip_t*)> guard(z, zip_close);
  K2L_ASSIGN_OR_RETURN(auto config, ReadZipEntry(z, "config.json", name));
  if (!config) {
    return Status::Invalid("'" + name +
                           "' has no config.json, so the model's layers are "
                           "unknown. It is not a complete .keras model; " +
                           kResave);
  }
  K2L_ASSIGN_OR_RETURN(auto weights, ReadZipEntry(z, "model.weights.h5", name));
  if (!weights) {
    return Status::Invalid("'" + name + "' has no model.weights.h5. " +
                           kResave);
  }
  std::string_view text(reinterpret_cast<const char*>(config->data()),
                        config->size());
  return FromParts(
      SourceFormat::kKerasZip, text,
      std::make_shared<const std::vector<uint8_t>>(std::move(*weights)), name);
}

Result<ModelSource> FromDirectory(const std::filesystem::path& dir) {
  auto config_path = dir / "config.json";
  auto weights_path = dir / "model.weights.h5";
  std::error_code ec;
  if (!std::filesystem::is_regular_file(config_path, ec)) {
    return Status::Invalid("the folder '" + dir.string() +
                           "' has no config.json, so it is not an unzipped "
                           ".keras model. Point at the .keras file or at the "
                           "folder it was extracted to");
  }
  if (!std::filesystem::is_regular_file(weights_path, ec)) {
    return Status::Invalid("the folder '" + dir.string() +
                           "' has no model.weights.h5. " + kResave);
  }
  K2L_ASSIGN_OR_RETURN(auto config, ReadFileBytes(config_path.string()));
  K2L_ASSIGN_OR_RETURN(auto weights, ReadFileBytes(weights_path.string()));
  std::string_view text(reinterpret_cast<const char*>(config.data()),
                        config.size());
  return FromParts(
      SourceFormat::kKerasDir, text,
      std::make_shared<const std::vector<uint8_t>>(std::move(weights)),
      dir.string());
}

}  // namespace

Result<ModelSource> LoadModelSourceFromBytes(std::span<const uint8_t> bytes,
                                             const std::string& name) {
  if (IsZip(bytes)) return FromZip(bytes, name);
  if (IsHdf5(bytes)) {
    auto copy = std::make_shared<const std::vector<uint8_t>>(bytes.begin(),
                                                             bytes.end());
    K2L_ASSIGN_OR_RETURN(H5File h5, H5File::OpenImage(copy, name));
    return FromLegacyH5(std::move(h5));
  }
  return Status::Invalid("'" + name +
                         "' is neither a .keras archive (zip) nor a legacy "
                         ".h5 model (HDF5): its first bytes match neither "
                         "format. Pass a file written by model.save()");
}

Result<ModelSource> LoadModelSource(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::is_directory(path, ec)) return FromDirectory(path);
  if (!fs::exists(path, ec)) {
    return Status::Invalid("'" + path + "' does not exist. Check the path");
  }
  K2L_ASSIGN_OR_RETURN(auto bytes, ReadFileBytes(path));
  return LoadModelSourceFromBytes(bytes, path);
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
  std::vector<float> out(static_cast<size_t>(t.num_elements()));
  switch (t.dtype()) {
    case ir::DType::kFloat32:
      return t;
    case ir::DType::kFloat64: {
      auto s = t.as<double>();
      for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<float>(s[i]);
      break;
    }
    case ir::DType::kFloat16: {
      auto s = t.as<uint16_t>();
      for (size_t i = 0; i < out.size(); ++i) out[i] = HalfToFloat(s[i]);
      break;
    }
    case ir::DType::kBFloat16: {
      // bfloat16 is the top half of a float32.
      auto s = t.as<uint16_t>();
      for (size_t i = 0; i < out.size(); ++i) {
        uint32_t bits = static_cast<uint32_t>(s[i]) << 16;
        std::memcpy(&out[i], &bits, 4);
      }
      break;
    }
    default:
      return Status::Invalid(what + " has dtype " +
                             std::string(ir::DTypeName(t.dtype())) +
                             " where a float tensor is expected. " + kResave);
  }
  return ir::TensorData::FromVector(ir::DType::kFloat32, t.shape(), out);
}

}  // namespace k2l::keras
