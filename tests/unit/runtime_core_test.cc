// The runtime core: loading, validation at load, resizing, signatures, and
// the RESHAPE family of kernels.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "runtime/kernels/register.h"
#include "runtime/model_reader.h"
#include "runtime_test_util.h"

namespace k2l::runtime {
namespace {

using testing::OpModelBuilder;

std::vector<uint8_t> ReshapeModel(Shape in_shape, std::vector<int32_t> to,
                                  bool dynamic_batch = true) {
  OpModelBuilder b;
  int x = b.AddInput(TensorType::FLOAT32, in_shape,
                     {dynamic_batch ? -1 : in_shape[0], in_shape[1]});
  int s = b.AddConst(TensorType::INT32, {static_cast<int32_t>(to.size())}, to);
  int y = b.AddOutput(TensorType::FLOAT32);
  b.AddOp(fb::BuiltinOperator::RESHAPE, {x, s}, {y});
  return b.Finish();
}

TEST(RuntimeCore, RegistersEveryKernelOnce) {
  OpResolver r;
  Status s = kernels::RegisterAll(r);
  EXPECT_TRUE(s.ok()) << s.message();
  EXPECT_FALSE(
      r.Add({fb::BuiltinOperator::RESHAPE, 1, 1, nullptr, nullptr}).ok());
}

TEST(RuntimeCore, ReshapeRunsAndResizes) {
  auto bytes = ReshapeModel({1, 6}, {-1, 3, 2});
  auto model = LiteRTModel::Load(bytes);
  ASSERT_TRUE(model.ok()) << model.status().message();
  std::vector<float> v(12);
  for (int i = 0; i < 12; ++i) v[i] = i;
  auto out = model->Predict({NDArray::Of(TensorType::FLOAT32, {2, 6}, v)});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ((*out)[0].shape, (Shape{2, 3, 2}));
  EXPECT_EQ((*out)[0].as<float>()[11], 11.f);
  auto bad = model->Predict(
      {NDArray::Of(TensorType::FLOAT32, {2, 5}, std::vector<float>(10))});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("signature is [-1, 6]"),
            std::string::npos)
      << bad.status().message();
}

TEST(RuntimeCore, DetailsFollowTfLite) {
  auto model = LiteRTModel::Load(ReshapeModel({1, 6}, {-1, 3, 2}));
  ASSERT_TRUE(model.ok());
  auto in = model->input_details();
  ASSERT_EQ(in.size(), 1u);
  EXPECT_EQ(in[0].name, "t0");
  EXPECT_EQ(in[0].shape, (Shape{1, 6}));
  EXPECT_EQ(in[0].shape_signature, (Shape{-1, 6}));
  EXPECT_EQ(model->output_details()[0].shape, (Shape{1, 3, 2}));
}

TEST(RuntimeCoreRejects, TruncatedFile) {
  auto bytes = ReshapeModel({1, 6}, {-1, 3, 2});
  bytes.resize(bytes.size() / 2);
  auto model = LiteRTModel::Load(bytes);
  ASSERT_FALSE(model.ok());
  EXPECT_NE(model.status().message().find("verifier rejects"),
            std::string::npos)
      << model.status().message();
}

TEST(RuntimeCoreRejects, BadIdentifier) {
  auto bytes = ReshapeModel({1, 6}, {-1, 3, 2});
  bytes[4] = 'X';
  auto model = LiteRTModel::Load(bytes);
  ASSERT_FALSE(model.ok());
  EXPECT_NE(model.status().message().find("not 'TFL3'"), std::string::npos);
  EXPECT_FALSE(LiteRTModel::Load(std::vector<uint8_t>{1, 2, 3}).ok());
}

TEST(RuntimeCoreRejects, OutOfRangeTensorIndex) {
  OpModelBuilder b;
  int x = b.AddInput(TensorType::FLOAT32, {1, 4});
  int y = b.AddOutput(TensorType::FLOAT32);
  b.AddOp(fb::BuiltinOperator::RESHAPE, {x, 7}, {y});
  auto model = LiteRTModel::Load(b.Finish());
  ASSERT_FALSE(model.ok());
  EXPECT_NE(model.status().message().find("refers to tensor 7"),
            std::string::npos)
      << model.status().message();
}

TEST(RuntimeCoreRejects, OutOfRangeBufferIndex) {
  OpModelBuilder b;
  int x = b.AddInput(TensorType::FLOAT32, {1, 6});
  int s = b.AddConst(TensorType::INT32, {2}, std::vector<int32_t>{3, 2});
  b.ForceBufferIndex(s, 99);
  int y = b.AddOutput(TensorType::FLOAT32);
  b.AddOp(fb::BuiltinOperator::RESHAPE, {x, s}, {y});
  auto model = LiteRTModel::Load(b.Finish());
  ASSERT_FALSE(model.ok());
  EXPECT_NE(model.status().message().find("refers to buffer 99"),
            std::string::npos)
      << model.status().message();
}

TEST(RuntimeCore, PredictByNameAndSaveRoundTrip) {
  auto bytes = ReshapeModel({1, 6}, {-1, 2, 3});
  auto model = LiteRTModel::Load(bytes);
  ASSERT_TRUE(model.ok());
  // No signature: names are the main subgraph's tensor names.
  std::map<std::string, NDArray> feeds = {
      {"t0", NDArray::Of(TensorType::FLOAT32, {1, 6},
                         std::vector<float>{1, 2, 3, 4, 5, 6})}};
  auto out = model->Predict(feeds);
  ASSERT_TRUE(out.ok()) << out.status().message();
  ASSERT_EQ(out->count("t2"), 1u);
  EXPECT_EQ(out->at("t2").shape, (Shape{1, 2, 3}));
  // A misspelt name is reported as such, before the input it misses.
  auto wrong = model->Predict({{"nope", feeds.at("t0")}});
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.status().message().find("no input named 'nope'; it takes: t0"),
            std::string::npos)
      << wrong.status().message();
  auto missing = model->Predict(std::map<std::string, NDArray>{});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("'t0' was not given"),
            std::string::npos);
  EXPECT_NE(model->Predict(feeds, "serving_default")
                .status()
                .message()
                .find("no signature 'serving_default'; it has: none"),
            std::string::npos);
  auto path = std::filesystem::temp_directory_path() / "k2l_save_test.tflite";
  ASSERT_TRUE(model->Save(path.string()).ok());
  auto again = LiteRTModel::Load(path.string());
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(again->bytes(), bytes);
  std::filesystem::remove(path);
}

TEST(RuntimeCoreRejects, BufferSmallerThanTensor) {
  OpModelBuilder b;
  int x = b.AddInput(TensorType::FLOAT32, {1, 6});
  // Shape [3] needs 12 bytes; give 8.
  int s = b.AddTensor(TensorType::INT32, {3}, std::vector<uint8_t>(8), {});
  int y = b.AddOutput(TensorType::FLOAT32);
  b.AddOp(fb::BuiltinOperator::RESHAPE, {x, s}, {y});
  auto model = LiteRTModel::Load(b.Finish());
  ASSERT_FALSE(model.ok());
  EXPECT_NE(model.status().message().find("needs 12 bytes"), std::string::npos)
      << model.status().message();
}

TEST(RuntimeCoreRejects, UnknownOpAtLoad) {
  OpModelBuilder b;
  int x = b.AddInput(TensorType::FLOAT32, {1, 4});
  int y = b.AddOutput(TensorType::FLOAT32);
  b.AddOp(fb::BuiltinOperator::SVDF, {x}, {y}, fb::BuiltinOptions::NONE,
          nullptr, 4);
  auto model = LiteRTModel::Load(b.Finish());
  ASSERT_FALSE(model.ok());
  EXPECT_NE(model.status().message().find("SVDF version 4"), std::string::npos)
      << model.status().message();
}

TEST(RuntimeCoreRejects, ReshapeToWrongElementCount) {
  // Static shapes: the error surfaces at load.
  auto model = LiteRTModel::Load(ReshapeModel({1, 6}, {4, 2}, false));
  ASSERT_FALSE(model.ok());
  EXPECT_NE(model.status().message().find("RESHAPE (operator #0"),
            std::string::npos)
      << model.status().message();
}

TEST(RuntimeCore, DynamicModelPreparesAtItsRealShapes) {
  // [?, 6] -> [4, 3]: impossible at the placeholder batch 1, right at
  // batch 2; wrong again at batch 3, reported by Predict.
  auto model = LiteRTModel::Load(ReshapeModel({1, 6}, {4, 3}));
  ASSERT_TRUE(model.ok()) << model.status().message();
  auto out = model->Predict(
      {NDArray::Of(TensorType::FLOAT32, {2, 6}, std::vector<float>(12, 1.f))});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ((*out)[0].shape, (Shape{4, 3}));
  auto bad = model->Predict(
      {NDArray::Of(TensorType::FLOAT32, {3, 6}, std::vector<float>(18, 1.f))});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("has 18 elements"), std::string::npos)
      << bad.status().message();
}

}  // namespace
}  // namespace k2l::runtime

namespace k2l::runtime {
namespace {

// EXPAND_DIMS and SQUEEZE move no data: the output holds the input's bytes
// in a new shape, over random shapes and axes (exact).
TEST(ReshapeFamily, ExpandDimsAndSqueezeOverRandomShapes) {
  for (int iter = 0; iter < 20; ++iter) {
    uint64_t seed = testing::TestSeed(300 + iter);
    SCOPED_TRACE("seed=" + std::to_string(seed));
    std::mt19937_64 rng(seed);
    int rank = std::uniform_int_distribution<int>(0, 4)(rng);
    Shape shape = testing::RandomShape(rng, rank, 1, 3);
    int axis = std::uniform_int_distribution<int>(-rank - 1, rank)(rng);
    auto values = testing::RandomFloats(rng, NumElements(shape));
    NDArray in = NDArray::Of(TensorType::FLOAT32, shape, values);

    OpModelBuilder e;
    int x = e.AddInput(TensorType::FLOAT32, shape);
    int a = e.AddConst(TensorType::INT32, {}, std::vector<int32_t>{axis});
    int y = e.AddOutput(TensorType::FLOAT32);
    e.AddOp(fb::BuiltinOperator::EXPAND_DIMS, {x, a}, {y});
    auto expanded = testing::RunOrFail(e.Finish(), {in});
    ASSERT_EQ(expanded.size(), 1u);
    Shape want = shape;
    want.insert(want.begin() + (axis < 0 ? axis + rank + 1 : axis), 1);
    EXPECT_EQ(expanded[0].shape, want);
    EXPECT_EQ(expanded[0].data, in.data);

    // Squeezing every 1 (no squeeze_dims) removes them all.
    OpModelBuilder s;
    int sx = s.AddInput(TensorType::FLOAT32, want);
    int sy = s.AddOutput(TensorType::FLOAT32);
    s.AddOp(fb::BuiltinOperator::SQUEEZE, {sx}, {sy});
    auto squeezed = testing::RunOrFail(s.Finish(), {expanded[0]});
    ASSERT_EQ(squeezed.size(), 1u);
    Shape no_ones;
    for (int32_t d : want)
      if (d != 1) no_ones.push_back(d);
    EXPECT_EQ(squeezed[0].shape, no_ones);
    EXPECT_EQ(squeezed[0].data, in.data);
  }
}

TEST(ReshapeFamilyRejects, SqueezeOfADimensionThatIsNotOne) {
  OpModelBuilder b;
  int x = b.AddInput(TensorType::FLOAT32, {2, 3});
  int y = b.AddOutput(TensorType::FLOAT32);
  b.AddOp(fb::BuiltinOperator::SQUEEZE, {x}, {y},
          fb::BuiltinOptions::SqueezeOptions, [](testing::FBB& f) {
            return fb::CreateSqueezeOptions(
                       f, f.CreateVector(std::vector<int32_t>{1}))
                .Union();
          });
  auto model = LiteRTModel::Load(b.Finish());
  ASSERT_FALSE(model.ok());
  EXPECT_NE(
      model.status().message().find("cannot squeeze axis 1 of shape [2, 3]"),
      std::string::npos)
      << model.status().message();
}

}  // namespace
}  // namespace k2l::runtime
