// Loaders of Keras model files. Real files come from
// tests/fixtures/make_loader_fixtures.py (written by Keras 3.15), with the
// variables Keras saved for each layer in loader/expected.json; corrupt and
// unusual files are built here with libzip and the HDF5 C API.
#include "frontend/keras/model_source.h"

#include <gtest/gtest.h>
#include <hdf5.h>
#include <zip.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "frontend/keras/hdf5_file.h"

namespace k2l::keras {
namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<uint8_t>;

fs::path FixtureDir() {
  return fs::path(__FILE__).parent_path().parent_path() / "fixtures" / "loader";
}

Bytes ReadBytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

void WriteBytes(const fs::path& p, const Bytes& b) {
  std::ofstream(p, std::ios::binary)
      .write(reinterpret_cast<const char*>(b.data()),
             static_cast<std::streamsize>(b.size()));
}

Bytes ToBytes(std::string_view s) { return Bytes(s.begin(), s.end()); }

// A fresh scratch folder per test.
fs::path ScratchDir() {
  const auto* info = testing::UnitTest::GetInstance()->current_test_info();
  fs::path dir = fs::temp_directory_path() /
                 (std::string("k2l_model_source_") + info->name());
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// A zip holding `entries` (name, contents), as bytes.
Bytes MakeZip(const std::vector<std::pair<std::string, Bytes>>& entries) {
  fs::path p = ScratchDir() / "made.zip";
  int err = 0;
  zip_t* z = zip_open(p.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err);
  EXPECT_NE(z, nullptr);
  for (const auto& [name, data] : entries) {
    zip_source_t* s = zip_source_buffer(z, data.data(), data.size(), 0);
    EXPECT_GE(zip_file_add(z, name.c_str(), s, ZIP_FL_OVERWRITE), 0);
  }
  EXPECT_EQ(zip_close(z), 0);
  return ReadBytes(p);
}

Bytes ZipEntry(const fs::path& zip_path, const char* entry) {
  int err = 0;
  zip_t* z = zip_open(zip_path.c_str(), ZIP_RDONLY, &err);
  zip_stat_t st;
  zip_stat(z, entry, 0, &st);
  Bytes out(st.size);
  zip_file_t* f = zip_fopen(z, entry, 0);
  zip_fread(f, out.data(), out.size());
  zip_fclose(f);
  zip_discard(z);
  return out;
}

// --- Small HDF5 writers for synthetic files. ---

void VlenStrings(hid_t obj, const char* name, const std::vector<std::string>& v,
                 bool scalar = false) {
  hid_t t = H5Tcopy(H5T_C_S1);
  H5Tset_size(t, H5T_VARIABLE);
  hsize_t n = v.size();
  hid_t sp = scalar ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &n, nullptr);
  std::vector<const char*> ptrs;
  for (const auto& s : v) ptrs.push_back(s.c_str());
  hid_t a = H5Acreate2(obj, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
  H5Awrite(a, t, ptrs.data());
  H5Aclose(a);
  H5Sclose(sp);
  H5Tclose(t);
}

void FixedStrings(hid_t obj, const char* name,
                  const std::vector<std::string>& v, bool scalar = false,
                  H5T_str_t pad = H5T_STR_NULLPAD) {
  size_t len = 1;
  for (const auto& s : v) len = std::max(len, s.size());
  std::string buf(len * v.size(), pad == H5T_STR_SPACEPAD ? ' ' : '\0');
  for (size_t i = 0; i < v.size(); ++i) buf.replace(i * len, v[i].size(), v[i]);
  hid_t t = H5Tcopy(H5T_C_S1);
  H5Tset_size(t, len);
  H5Tset_strpad(t, pad);
  hsize_t n = v.size();
  hid_t sp = scalar ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &n, nullptr);
  hid_t a = H5Acreate2(obj, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
  H5Awrite(a, t, buf.data());
  H5Aclose(a);
  H5Sclose(sp);
  H5Tclose(t);
}

// h5py's form of an empty list attribute: a float64 array of size 0.
void EmptyFloatArray(hid_t obj, const char* name) {
  hsize_t n = 0;
  hid_t sp = H5Screate_simple(1, &n, nullptr);
  hid_t a = H5Acreate2(obj, name, H5T_IEEE_F64LE, sp, H5P_DEFAULT, H5P_DEFAULT);
  H5Aclose(a);
  H5Sclose(sp);
}

// Writes `data` (`count` elements of `mem_type`) as dataset `path`, creating
// missing groups on the way.
hid_t Dataset(hid_t file, const std::string& path, hid_t file_type,
              hid_t mem_type, const void* data, hsize_t count) {
  hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
  H5Pset_create_intermediate_group(lcpl, 1);
  hid_t sp = H5Screate_simple(1, &count, nullptr);
  hid_t ds = H5Dcreate2(file, path.c_str(), file_type, sp, lcpl, H5P_DEFAULT,
                        H5P_DEFAULT);
  H5Dwrite(ds, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data);
  H5Sclose(sp);
  H5Pclose(lcpl);
  return ds;  // the caller may add attributes, then closes it
}

void FloatDataset(hid_t file, const std::string& path, float v) {
  H5Dclose(Dataset(file, path, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, &v, 1));
}

void Group(hid_t file, const std::string& path) {
  hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
  H5Pset_create_intermediate_group(lcpl, 1);
  H5Gclose(H5Gcreate2(file, path.c_str(), lcpl, H5P_DEFAULT, H5P_DEFAULT));
  H5Pclose(lcpl);
}

void NamedGroup(hid_t file, const std::string& path, const std::string& name) {
  Group(file, path);
  hid_t g = H5Gopen2(file, path.c_str(), H5P_DEFAULT);
  VlenStrings(g, "name", {name}, /*scalar=*/true);
  H5Gclose(g);
}

// A folder holding config.json and the model.weights.h5 written by `fill`.
template <typename Fill>
fs::path FolderWithWeights(Fill fill) {
  fs::path dir = ScratchDir() / "model";
  fs::create_directories(dir);
  std::ofstream(dir / "config.json")
      << R"({"class_name": "Functional", "config": {"name": "m"}})";
  hid_t f = H5Fcreate((dir / "model.weights.h5").c_str(), H5F_ACC_TRUNC,
                      H5P_DEFAULT, H5P_DEFAULT);
  fill(f);
  H5Fclose(f);
  return dir;
}

std::vector<float> Floats(const std::vector<ir::TensorData>& vars) {
  std::vector<float> out;
  for (const auto& t : vars) {
    auto f = ToFloat32(t, "test");
    EXPECT_TRUE(f.ok()) << f.status().message();
    if (f.ok())
      out.insert(out.end(), f->as<float>().begin(), f->as<float>().end());
  }
  return out;
}

// --- Real Keras files. ---

WeightPath PathOf(const nlohmann::json& steps) {
  WeightPath p;
  for (const auto& s : steps) {
    p.push_back({s.at(0).get<std::string>(), s.at(1).get<std::string>()});
  }
  return p;
}

std::string PathString(const WeightPath& p) {
  std::string s;
  for (const auto& step : p)
    s += "/" + step.class_path + "(" + step.layer_name + ")";
  return s;
}

void CheckEveryLayer(const char* manifest_name) {
  nlohmann::json manifest =
      nlohmann::json::parse(ReadBytes(FixtureDir() / manifest_name));
  ASSERT_FALSE(manifest["files"].empty());
  for (const auto& [file, model] : manifest["files"].items()) {
    SCOPED_TRACE(file);
    auto src = LoadModelSource((FixtureDir() / file).string());
    ASSERT_TRUE(src.ok()) << src.status().message();
    bool legacy = file.ends_with(".h5");
    EXPECT_EQ(src->format,
              legacy ? SourceFormat::kLegacyH5 : SourceFormat::kKerasZip);
    EXPECT_TRUE(src->config.contains("class_name"));
    int checked = 0;
    for (const auto& layer : manifest["models"][model.get<std::string>()]) {
      WeightPath path = PathOf(layer["path"]);
      SCOPED_TRACE(PathString(path));
      EXPECT_TRUE(src->weights->HasLayer(path));
      // A legacy file keeps a nested model's weights in the model's group.
      if (legacy && layer["is_model"].get<bool>()) continue;
      auto vars = src->weights->Variables(path);
      ASSERT_TRUE(vars.ok()) << vars.status().message();
      const auto& want = layer["vars"];
      ASSERT_EQ(vars->size(), want.size());
      for (size_t i = 0; i < want.size(); ++i) {
        const ir::TensorData& t = (*vars)[i];
        EXPECT_EQ(ir::DTypeName(t.dtype()),
                  want[i]["dtype"].get<std::string>());
        EXPECT_EQ(t.shape(), want[i]["shape"].get<std::vector<int64_t>>());
        std::vector<float> expect;
        for (double v : want[i]["values"])
          expect.push_back(static_cast<float>(v));
        EXPECT_EQ(Floats({t}), expect) << "variable " << i;
      }
      ++checked;
    }
    EXPECT_GE(checked, 3);
    // A layer that is not in the model.
    WeightPath ghost = {{"layers/conv2d_7", "ghost"}};
    EXPECT_FALSE(src->weights->HasLayer(ghost));
    auto none = src->weights->Variables(ghost);
    ASSERT_TRUE(none.ok());
    EXPECT_TRUE(none->empty());
  }
}

TEST(ModelSourceFixtures, EveryLayerReadsAsKeras3SavedIt) {
  CheckEveryLayer("expected.json");
}

// tf.keras 2.13.1 files: _layer_checkpoint_dependencies/dense, dense_2, ...
// in .keras, "pre/kernel:0" and unprefixed nested names in .h5.
TEST(ModelSourceFixtures, EveryLayerReadsAsTfKeras213SavedIt) {
  CheckEveryLayer("tf213_expected.json");
}

TEST(ModelSourceFixtures, DescribesTheWeightsAndTheirKerasVersion) {
  auto src = LoadModelSource((FixtureDir() / "tf213.keras").string());
  ASSERT_TRUE(src.ok()) << src.status().message();
  EXPECT_NE(src->weights->Describe().find("Keras 2.13.1"), std::string::npos)
      << src->weights->Describe();
}

TEST(ModelSource, DetectsTheFormatByContentNotExtension) {
  Bytes keras = ReadBytes(FixtureDir() / "seq.keras");
  Bytes h5 = ReadBytes(FixtureDir() / "nested.h5");
  auto a = LoadModelSourceFromBytes(keras, "looks_like.h5");
  ASSERT_TRUE(a.ok()) << a.status().message();
  EXPECT_EQ(a->format, SourceFormat::kKerasZip);
  auto b = LoadModelSourceFromBytes(h5, "looks_like.keras");
  ASSERT_TRUE(b.ok()) << b.status().message();
  EXPECT_EQ(b->format, SourceFormat::kLegacyH5);

  fs::path dir = ScratchDir();
  WriteBytes(dir / "zip_named.h5", keras);
  WriteBytes(dir / "hdf5_named.keras", h5);
  auto c = LoadModelSource((dir / "zip_named.h5").string());
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->format, SourceFormat::kKerasZip);
  auto d = LoadModelSource((dir / "hdf5_named.keras").string());
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_EQ(d->format, SourceFormat::kLegacyH5);
  // Both read the same weights.
  WeightPath pre = {{"layers/dense", "pre"}};
  EXPECT_EQ(Floats(*b->weights->Variables(pre)),
            Floats(*d->weights->Variables(pre)));
}

TEST(ModelSource, FindsTheHdf5SignatureAfterAUserBlock) {
  fs::path p = ScratchDir() / "userblock.h5";
  hid_t fcpl = H5Pcreate(H5P_FILE_CREATE);
  H5Pset_userblock(fcpl, 512);
  hid_t f = H5Fcreate(p.c_str(), H5F_ACC_TRUNC, fcpl, H5P_DEFAULT);
  hid_t root = H5Gopen2(f, "/", H5P_DEFAULT);
  VlenStrings(root, "model_config",
              {R"({"class_name": "Sequential", "config": {"name": "s"}})"},
              /*scalar=*/true);
  H5Gclose(root);
  Group(f, "model_weights/d");
  hid_t g = H5Gopen2(f, "model_weights/d", H5P_DEFAULT);
  VlenStrings(g, "weight_names", {"s/d/kernel"});
  H5Gclose(g);
  FloatDataset(f, "model_weights/d/s/d/kernel", 7.0f);
  H5Fclose(f);
  H5Pclose(fcpl);

  Bytes bytes = ReadBytes(p);
  ASSERT_NE(std::memcmp(bytes.data(), "\x89HDF", 4), 0);
  for (int from_path = 0; from_path < 2; ++from_path) {
    auto src = from_path ? LoadModelSource(p.string())
                         : LoadModelSourceFromBytes(bytes, "ub.h5");
    ASSERT_TRUE(src.ok()) << src.status().message();
    EXPECT_EQ(src->format, SourceFormat::kLegacyH5);
    EXPECT_EQ(Floats(*src->weights->Variables({{"layers/dense", "d"}})),
              std::vector<float>{7.0f});
  }
}

TEST(ModelSource, ReadsAnUnzippedFolder) {
  fs::path dir = ScratchDir() / "unzipped";
  fs::create_directories(dir);
  fs::path zip = FixtureDir() / "nested.keras";
  for (const char* e : {"config.json", "metadata.json", "model.weights.h5"}) {
    WriteBytes(dir / e, ZipEntry(zip, e));
  }
  auto src = LoadModelSource(dir.string());
  ASSERT_TRUE(src.ok()) << src.status().message();
  EXPECT_EQ(src->format, SourceFormat::kKerasDir);
  WeightPath h2 = {{"layers/functional", "inner"}, {"layers/dense_1", "h2"}};
  auto vars = src->weights->Variables(h2);
  ASSERT_TRUE(vars.ok()) << vars.status().message();
  ASSERT_EQ(vars->size(), 2u);
  EXPECT_EQ((*vars)[0].shape(), (std::vector<int64_t>{4, 3}));

  fs::remove(dir / "model.weights.h5");
  auto r = LoadModelSource(dir.string());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("has no model.weights.h5"),
            std::string::npos);
  fs::remove(dir / "config.json");
  r = LoadModelSource(dir.string());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("has no config.json"), std::string::npos);
}

void ExpectInvalid(const Result<ModelSource>& r,
                   const std::vector<std::string>& fragments) {
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidInput);
  for (const auto& f : fragments) {
    EXPECT_NE(r.status().message().find(f), std::string::npos)
        << "'" << f << "' not in: " << r.status().message();
  }
}

TEST(ModelSource, RejectsCorruptOrIncompleteArchivesWithTheFileNamed) {
  fs::path keras = FixtureDir() / "seq.keras";
  Bytes whole = ReadBytes(keras);
  Bytes config = ZipEntry(keras, "config.json");
  Bytes weights = ZipEntry(keras, "model.weights.h5");

  Bytes half(whole.begin(), whole.begin() + whole.size() / 2);
  ExpectInvalid(LoadModelSourceFromBytes(half, "cut.keras"),
                {"'cut.keras'", "not a readable zip", "Re-save"});

  ExpectInvalid(LoadModelSourceFromBytes(
                    MakeZip({{"model.weights.h5", weights}}), "noconfig.keras"),
                {"'noconfig.keras'", "has no config.json"});
  ExpectInvalid(LoadModelSourceFromBytes(MakeZip({{"config.json", config}}),
                                         "noweights.keras"),
                {"'noweights.keras'", "has no model.weights.h5"});
  Bytes cut_weights(weights.begin(), weights.begin() + weights.size() / 2);
  ExpectInvalid(
      LoadModelSourceFromBytes(
          MakeZip({{"config.json", config}, {"model.weights.h5", cut_weights}}),
          "cutweights.keras"),
      {"model.weights.h5 in 'cutweights.keras'", "not a readable HDF5"});
  ExpectInvalid(LoadModelSourceFromBytes(
                    MakeZip({{"config.json", ToBytes("{\"class_name\": ")},
                             {"model.weights.h5", weights}}),
                    "badjson.keras"),
                {"config.json in 'badjson.keras'", "not valid JSON"});

  // A flipped byte inside the stored config.json fails its CRC.
  Bytes flipped = whole;
  std::string_view text(reinterpret_cast<const char*>(flipped.data()),
                        flipped.size());
  size_t at = text.find("\"class_name\"");
  ASSERT_NE(at, std::string_view::npos);
  flipped[at + 1] = 'C';
  ExpectInvalid(LoadModelSourceFromBytes(flipped, "crc.keras"),
                {"'crc.keras' is corrupt", "config.json"});
}

TEST(ModelSource, RejectsUnknownEmptyAndMissingFiles) {
  ExpectInvalid(LoadModelSourceFromBytes(ToBytes("hello"), "hello.keras"),
                {"'hello.keras'", "neither a .keras archive"});
  ExpectInvalid(LoadModelSourceFromBytes({}, "empty.keras"),
                {"'empty.keras' is empty"});
  Bytes bad_h5 = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n', 0, 0, 0, 0};
  ExpectInvalid(LoadModelSourceFromBytes(bad_h5, "cut.h5"),
                {"'cut.h5'", "not a readable HDF5"});
  ExpectInvalid(LoadModelSource("/nonexistent/model.keras"),
                {"'/nonexistent/model.keras' does not exist"});

  fs::path dir = ScratchDir();
  WriteBytes(dir / "empty.keras", {});
  ExpectInvalid(LoadModelSource((dir / "empty.keras").string()),
                {"is empty (0 bytes)"});
  WriteBytes(dir / "text.h5", ToBytes("not a model at all"));
  ExpectInvalid(LoadModelSource((dir / "text.h5").string()),
                {"neither a .keras archive"});
  ExpectInvalid(LoadModelSource(dir.string()), {"has no config.json"});

  // Weights without a model: a Keras 3 model.save_weights file.
  Bytes weights = ZipEntry(FixtureDir() / "seq.keras", "model.weights.h5");
  ExpectInvalid(LoadModelSourceFromBytes(weights, "m.weights.h5"),
                {"'m.weights.h5'", "weights file", "model.save()"});
}

// --- Synthetic layouts. ---

TEST(Keras3Store, SortsVariablesNumerically) {
  fs::path dir = FolderWithWeights([](hid_t f) {
    for (int i = 0; i < 12; ++i) {
      FloatDataset(f, "layers/dense/vars/" + std::to_string(i),
                   static_cast<float>(i));
    }
  });
  auto src = LoadModelSource(dir.string());
  ASSERT_TRUE(src.ok()) << src.status().message();
  EXPECT_EQ(src->format, SourceFormat::kKerasDir);
  auto vars = src->weights->Variables({{"layers/dense", "my_dense"}});
  ASSERT_TRUE(vars.ok()) << vars.status().message();
  std::vector<float> want;
  for (int i = 0; i < 12; ++i) want.push_back(static_cast<float>(i));
  EXPECT_EQ(Floats(*vars), want);
}

TEST(Keras3Store, FollowsTheRecordedLayerName) {
  fs::path dir = FolderWithWeights([](hid_t f) {
    NamedGroup(f, "layers/dense/vars", "b");
    FloatDataset(f, "layers/dense/vars/0", 2.0f);
    NamedGroup(f, "layers/dense_1/vars", "a");
    FloatDataset(f, "layers/dense_1/vars/0", 1.0f);
  });
  auto src = LoadModelSource(dir.string());
  ASSERT_TRUE(src.ok()) << src.status().message();
  // The class counter says dense, the recorded name says dense_1.
  EXPECT_EQ(Floats(*src->weights->Variables({{"layers/dense", "a"}})),
            std::vector<float>{1.0f});
  EXPECT_EQ(Floats(*src->weights->Variables({{"layers/dense_2", "b"}})),
            std::vector<float>{2.0f});
  auto bad = src->weights->Variables({{"layers/dense", "c"}});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("belong to layer 'b', not to 'c'"),
            std::string::npos)
      << bad.status().message();
  EXPECT_FALSE(src->weights->HasLayer({{"layers/dense_5", "z"}}));
}

TEST(Keras3Store, RejectsANonNumericVariable) {
  fs::path dir = FolderWithWeights(
      [](hid_t f) { FloatDataset(f, "layers/dense/vars/kernel", 1.0f); });
  auto src = LoadModelSource(dir.string());
  ASSERT_TRUE(src.ok()) << src.status().message();
  auto vars = src->weights->Variables({{"layers/dense", "d"}});
  ASSERT_FALSE(vars.ok());
  EXPECT_NE(vars.status().message().find("layers/dense/vars/kernel"),
            std::string::npos);
}

TEST(TfKeras2Store, ReadsLayerCheckpointDependenciesByClassOrder) {
  // tf.keras 2.13 counted a layer with weights twice: dense, dense_2, ...
  fs::path dir = FolderWithWeights([](hid_t f) {
    const std::string d = "_layer_checkpoint_dependencies/";
    FloatDataset(f, d + "dense/vars/0", 1.0f);
    Group(f, d + "dropout/vars");
    FloatDataset(f, d + "dense_2/vars/0", 2.0f);
    FloatDataset(f, d + "dense_10/vars/0", 4.0f);
    FloatDataset(f, d + "dense_4/vars/0", 3.0f);
    FloatDataset(f, d + "functional/" + d + "conv2d/vars/0", 5.0f);
    FloatDataset(f, d + "by_name/vars/0", 6.0f);
  });
  auto src = LoadModelSource(dir.string());
  ASSERT_TRUE(src.ok()) << src.status().message();
  const WeightStore& w = *src->weights;
  EXPECT_EQ(Floats(*w.Variables({{"layers/dense", "a"}})),
            std::vector<float>{1});
  EXPECT_EQ(Floats(*w.Variables({{"layers/dense_1", "b"}})),
            std::vector<float>{2});
  EXPECT_EQ(Floats(*w.Variables({{"layers/dense_2", "c"}})),
            std::vector<float>{3});
  EXPECT_EQ(Floats(*w.Variables({{"layers/dense_3", "d"}})),
            std::vector<float>{4});
  EXPECT_EQ(Floats(*w.Variables(
                {{"layers/functional", "f"}, {"layers/conv2d", "c"}})),
            std::vector<float>{5});
  EXPECT_TRUE(w.HasLayer({{"layers/dropout", "drop"}}));
  EXPECT_TRUE(w.Variables({{"layers/dropout", "drop"}})->empty());
  EXPECT_FALSE(w.HasLayer({{"layers/dense_4", "e"}}));
  // Groups keyed by layer name are accepted too.
  EXPECT_EQ(Floats(*w.Variables({{"layers/relu", "by_name"}})),
            std::vector<float>{6});
}

TEST(LegacyH5Store, PicksANestedLayersWeightsByVariablePath) {
  fs::path p = ScratchDir() / "legacy.h5";
  hid_t f = H5Fcreate(p.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  hid_t root = H5Gopen2(f, "/", H5P_DEFAULT);
  // tf.keras 2 writes fixed-length strings.
  FixedStrings(root, "model_config",
               {R"({"class_name": "Functional", "config": {"name": "top"}})"},
               /*scalar=*/true);
  H5Gclose(root);
  Group(f, "model_weights/M");
  hid_t g = H5Gopen2(f, "model_weights/M", H5P_DEFAULT);
  std::vector<std::string> names = {"mha/query/kernel:0", "mha/query/bias:0",
                                    "query/kernel:0", "top/S/d/kernel:0",
                                    "M/e/kernel:0"};
  FixedStrings(g, "weight_names", names);
  H5Gclose(g);
  for (size_t i = 0; i < names.size(); ++i) {
    FloatDataset(f, "model_weights/M/" + names[i], static_cast<float>(i));
  }
  Group(f, "model_weights/x");
  g = H5Gopen2(f, "model_weights/x", H5P_DEFAULT);
  EmptyFloatArray(g, "weight_names");
  H5Gclose(g);
  H5Fclose(f);

  auto src = LoadModelSource(p.string());
  ASSERT_TRUE(src.ok()) << src.status().message();
  const WeightStore& w = *src->weights;
  auto in_m = [&](const char* layer) {
    return Floats(
        *w.Variables({{"layers/functional", "M"}, {"layers/x", layer}}));
  };
  EXPECT_EQ(in_m("mha"), (std::vector<float>{0, 1}));  // its sublayer's too
  EXPECT_EQ(in_m("query"), (std::vector<float>{2}));   // not mha's query
  EXPECT_EQ(in_m("d"), (std::vector<float>{3}));       // only loosely named
  EXPECT_EQ(in_m("e"), (std::vector<float>{4}));       // under its model
  EXPECT_EQ(in_m("nothing"), (std::vector<float>{}));
  EXPECT_EQ(Floats(*w.Variables({{"layers/functional", "M"}})).size(), 5u);
  EXPECT_TRUE(w.HasLayer({{"layers/input_layer", "x"}}));
  EXPECT_TRUE(w.Variables({{"layers/input_layer", "x"}})->empty());
  EXPECT_FALSE(w.HasLayer({{"layers/dense", "y"}}));
}

// --- H5File. ---

TEST(H5File, ReadsEveryStringAttributeForm) {
  fs::path p = ScratchDir() / "attrs.h5";
  hid_t f = H5Fcreate(p.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  hid_t root = H5Gopen2(f, "/", H5P_DEFAULT);
  VlenStrings(root, "vlen_scalar", {"{\"a\": 1}"}, true);
  FixedStrings(root, "fixed_scalar", {"{\"b\": 2}"}, true);
  VlenStrings(root, "vlen_list", {"x", "long_name", ""});
  FixedStrings(root, "fixed_list", {"x", "long_name"});
  FixedStrings(root, "space_padded", {"ab", "abcd"}, false, H5T_STR_SPACEPAD);
  EmptyFloatArray(root, "empty");
  hsize_t two = 2;
  hid_t sp = H5Screate_simple(1, &two, nullptr);
  H5Aclose(H5Acreate2(root, "numbers", H5T_IEEE_F64LE, sp, H5P_DEFAULT,
                      H5P_DEFAULT));
  H5Sclose(sp);
  H5Gclose(root);
  H5Fclose(f);

  auto h5 = H5File::OpenImage(std::make_shared<const Bytes>(ReadBytes(p)),
                              "attrs.h5");
  ASSERT_TRUE(h5.ok()) << h5.status().message();
  EXPECT_EQ(**h5->StringAttr("", "vlen_scalar"), "{\"a\": 1}");
  EXPECT_EQ(**h5->StringAttr("/", "fixed_scalar"), "{\"b\": 2}");
  EXPECT_FALSE(h5->StringAttr("", "absent")->has_value());
  EXPECT_EQ(*h5->StringListAttr("", "vlen_list"),
            (std::vector<std::string>{"x", "long_name", ""}));
  EXPECT_EQ(*h5->StringListAttr("", "fixed_list"),
            (std::vector<std::string>{"x", "long_name"}));
  EXPECT_EQ(*h5->StringListAttr("", "space_padded"),
            (std::vector<std::string>{"ab", "abcd"}));
  EXPECT_TRUE(h5->StringListAttr("", "empty")->empty());
  EXPECT_EQ(**h5->StringAttr("", "empty"), "");
  auto numbers = h5->StringListAttr("", "numbers");
  ASSERT_FALSE(numbers.ok());
  EXPECT_NE(numbers.status().message().find("attrs.h5"), std::string::npos);
  auto absent = h5->StringListAttr("", "absent");
  ASSERT_FALSE(absent.ok());
  EXPECT_NE(absent.status().message().find("no attribute 'absent'"),
            std::string::npos);
}

TEST(H5File, ReadsEachDtypeAndRefusesOthers) {
  fs::path p = ScratchDir() / "dtypes.h5";
  hid_t f = H5Fcreate(p.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  // h5py's bool: an int8 enum {FALSE, TRUE}.
  hid_t boolean = H5Tenum_create(H5T_NATIVE_INT8);
  int8_t no = 0, yes = 1;
  H5Tenum_insert(boolean, "FALSE", &no);
  H5Tenum_insert(boolean, "TRUE", &yes);
  uint8_t bools[3] = {1, 0, 1};
  H5Dclose(Dataset(f, "bool", boolean, boolean, bools, 3));
  H5Tclose(boolean);
  // bfloat16 as h5py writes it: 2-byte opaque, with or without Keras' tag.
  hid_t opaque = H5Tcreate(H5T_OPAQUE, 2);
  uint16_t bf16[2] = {0x3fc0, 0xc000};  // 1.5, -2
  hid_t ds = Dataset(f, "bf16_tagged", opaque, opaque, bf16, 2);
  VlenStrings(ds, "dtype", {"bfloat16"}, true);
  H5Dclose(ds);
  H5Dclose(Dataset(f, "bf16_untagged", opaque, opaque, bf16, 2));
  ds = Dataset(f, "other_opaque", opaque, opaque, bf16, 2);
  VlenStrings(ds, "dtype", {"float8_e5m2x2"}, true);
  H5Dclose(ds);
  H5Tclose(opaque);
  int64_t big[2] = {-1, 1LL << 40};
  H5Dclose(Dataset(f, "i64_be", H5T_STD_I64BE, H5T_NATIVE_INT64, big, 2));
  double d[2] = {0.5, -4.0};
  H5Dclose(Dataset(f, "f64", H5T_IEEE_F64BE, H5T_NATIVE_DOUBLE, d, 2));
  uint32_t u[1] = {7};
  H5Dclose(Dataset(f, "u32", H5T_STD_U32LE, H5T_NATIVE_UINT32, u, 1));
  hsize_t none = 0;
  hid_t sp = H5Screate(H5S_SCALAR);
  float scalar = 3.0f;
  ds = H5Dcreate2(f, "scalar", H5T_IEEE_F32LE, sp, H5P_DEFAULT, H5P_DEFAULT,
                  H5P_DEFAULT);
  H5Dwrite(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, &scalar);
  H5Dclose(ds);
  H5Sclose(sp);
  (void)none;
  H5Fclose(f);

  auto h5 = H5File::OpenPath(p.string());
  ASSERT_TRUE(h5.ok()) << h5.status().message();
  auto b = h5->ReadDataset("bool");
  ASSERT_TRUE(b.ok()) << b.status().message();
  EXPECT_EQ(b->dtype(), ir::DType::kBool);
  EXPECT_EQ(std::vector<uint8_t>(b->bytes().begin(), b->bytes().end()),
            (std::vector<uint8_t>{1, 0, 1}));
  for (const char* name : {"bf16_tagged", "bf16_untagged"}) {
    auto t = h5->ReadDataset(name);
    ASSERT_TRUE(t.ok()) << t.status().message();
    EXPECT_EQ(t->dtype(), ir::DType::kBFloat16) << name;
    EXPECT_EQ(Floats({*t}), (std::vector<float>{1.5f, -2.0f})) << name;
  }
  auto other = h5->ReadDataset("other_opaque");
  ASSERT_FALSE(other.ok());
  EXPECT_NE(other.status().message().find("float8_e5m2x2"), std::string::npos);
  auto i64 = h5->ReadDataset("i64_be");
  ASSERT_TRUE(i64.ok()) << i64.status().message();
  EXPECT_EQ(i64->dtype(), ir::DType::kInt64);
  EXPECT_EQ(i64->as<int64_t>()[1], 1LL << 40);
  auto f64 = h5->ReadDataset("f64");
  ASSERT_TRUE(f64.ok());
  EXPECT_EQ(Floats({*f64}), (std::vector<float>{0.5f, -4.0f}));
  auto u32 = h5->ReadDataset("u32");
  ASSERT_FALSE(u32.ok());
  EXPECT_NE(u32.status().message().find("uint32"), std::string::npos);
  auto s = h5->ReadDataset("scalar");
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->shape().empty());
  EXPECT_EQ(s->as<float>()[0], 3.0f);
  auto missing = h5->ReadDataset("nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("'nope'"), std::string::npos);
}

// --- ToFloat32. ---

TEST(ToFloat32, ConvertsHalfBFloat16AndDouble) {
  // 1.5 and -2.0 in IEEE half (0x3e00, 0xc000) and bfloat16 (0x3fc0, 0xc000).
  auto half = ir::TensorData::FromVector<uint16_t>(ir::DType::kFloat16, {2},
                                                   {0x3e00, 0xc000});
  auto bf16 = ir::TensorData::FromVector<uint16_t>(ir::DType::kBFloat16, {2},
                                                   {0x3fc0, 0xc000});
  auto f64 =
      ir::TensorData::FromVector<double>(ir::DType::kFloat64, {2}, {1.5, -2.0});
  for (const auto* t : {&half, &bf16, &f64}) {
    auto f = ToFloat32(*t, "w");
    ASSERT_TRUE(f.ok());
    EXPECT_EQ(f->dtype(), ir::DType::kFloat32);
    EXPECT_EQ(f->shape(), (std::vector<int64_t>{2}));
    EXPECT_EQ(f->as<float>()[0], 1.5f);
    EXPECT_EQ(f->as<float>()[1], -2.0f);
  }
  // Half subnormal 2^-24, infinity and NaN; bfloat16 keeps float32's range.
  auto special = ir::TensorData::FromVector<uint16_t>(ir::DType::kFloat16, {3},
                                                      {0x0001, 0x7c00, 0x7e00});
  auto s = ToFloat32(special, "w");
  EXPECT_EQ(s->as<float>()[0], std::ldexp(1.0f, -24));
  EXPECT_TRUE(std::isinf(s->as<float>()[1]));
  EXPECT_TRUE(std::isnan(s->as<float>()[2]));
  auto huge =
      ir::TensorData::FromVector<uint16_t>(ir::DType::kBFloat16, {1}, {0x7f00});
  EXPECT_EQ(ToFloat32(huge, "w")->as<float>()[0], std::ldexp(1.0f, 127));

  auto ints = ir::TensorData::FromVector<int32_t>(ir::DType::kInt32, {1}, {3});
  auto r = ToFloat32(ints, "counter");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("counter has dtype int32"),
            std::string::npos);
  // Bytes that do not match the shape are caught, not read past.
  auto short_data =
      ir::TensorData::FromVector<uint16_t>(ir::DType::kFloat16, {4}, {1, 2});
  EXPECT_FALSE(ToFloat32(short_data, "w").ok());
}

}  // namespace
}  // namespace k2l::keras
