#include "frontend/keras/model_source.h"

#include <gtest/gtest.h>
#include <hdf5.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace k2l::keras {
namespace {

namespace fs = std::filesystem;

// A folder holding config.json and a model.weights.h5 whose one layer has
// twelve variables; vars/<i> holds the value i.
fs::path MakeFolderWithTwelveVars() {
  fs::path dir = fs::temp_directory_path() / "k2l_model_source_test";
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::ofstream(dir / "config.json")
      << R"({"class_name": "Sequential", "config": {}})";
  hid_t f = H5Fcreate((dir / "model.weights.h5").c_str(), H5F_ACC_TRUNC,
                      H5P_DEFAULT, H5P_DEFAULT);
  hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
  H5Pset_create_intermediate_group(lcpl, 1);
  for (int i = 0; i < 12; ++i) {
    hsize_t dims[1] = {1};
    hid_t space = H5Screate_simple(1, dims, nullptr);
    std::string name = "layers/dense/vars/" + std::to_string(i);
    hid_t ds = H5Dcreate2(f, name.c_str(), H5T_IEEE_F32LE, space, lcpl,
                          H5P_DEFAULT, H5P_DEFAULT);
    float v = static_cast<float>(i);
    H5Dwrite(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, &v);
    H5Dclose(ds);
    H5Sclose(space);
  }
  H5Pclose(lcpl);
  H5Fclose(f);
  return dir;
}

TEST(ModelSource, VariablesAreSortedNumerically) {
  fs::path dir = MakeFolderWithTwelveVars();
  auto src = LoadModelSource(dir.string());
  ASSERT_TRUE(src.ok()) << src.status().message();
  EXPECT_EQ(src->format, SourceFormat::kKerasDir);
  auto vars = src->weights->Variables({{"layers/dense", "my_dense"}});
  ASSERT_TRUE(vars.ok()) << vars.status().message();
  ASSERT_EQ(vars->size(), 12u);
  for (int i = 0; i < 12; ++i) {
    EXPECT_EQ((*vars)[i].as<float>()[0], static_cast<float>(i)) << "vars/" << i;
  }
  // A layer with no group has no variables.
  auto none = src->weights->Variables({{"layers/flatten", "f"}});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  fs::remove_all(dir);
}

TEST(ModelSource, RejectsUnknownBytesAndMissingFiles) {
  std::vector<uint8_t> text = {'h', 'e', 'l', 'l', 'o'};
  auto r = LoadModelSourceFromBytes(text, "hello.keras");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidInput);
  EXPECT_NE(r.status().message().find("neither a .keras archive"),
            std::string::npos);

  std::vector<uint8_t> bad_zip = {'P', 'K', 3, 4, 0, 0, 0, 0, 1, 2, 3};
  r = LoadModelSourceFromBytes(bad_zip, "bad.keras");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("not a readable zip"), std::string::npos);

  std::vector<uint8_t> bad_h5 = {0x89, 'H',  'D',  'F', '\r',
                                 '\n', 0x1a, '\n', 0,   0};
  r = LoadModelSourceFromBytes(bad_h5, "cut.h5");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("not a readable HDF5"),
            std::string::npos);

  r = LoadModelSource("/nonexistent/model.keras");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("does not exist"), std::string::npos);
}

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
    EXPECT_EQ(f->as<float>()[0], 1.5f);
    EXPECT_EQ(f->as<float>()[1], -2.0f);
  }
  // A half subnormal: 2^-24.
  auto tiny =
      ir::TensorData::FromVector<uint16_t>(ir::DType::kFloat16, {1}, {0x0001});
  EXPECT_EQ(ToFloat32(tiny, "w")->as<float>()[0], std::ldexp(1.0f, -24));
  auto ints = ir::TensorData::FromVector<int32_t>(ir::DType::kInt32, {1}, {3});
  EXPECT_FALSE(ToFloat32(ints, "counter").ok());
}

}  // namespace
}  // namespace k2l::keras
