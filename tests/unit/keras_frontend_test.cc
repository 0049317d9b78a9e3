#include <gtest/gtest.h>

#include "frontend/keras/model_lowering.h"
#include "frontend/keras/registry.h"

namespace k2l::keras {
namespace {

TEST(ToSnakeCase, MatchesKerasWeightGroupNames) {
  EXPECT_EQ(ToSnakeCase("Dense"), "dense");
  EXPECT_EQ(ToSnakeCase("Conv2D"), "conv2d");
  EXPECT_EQ(ToSnakeCase("Conv2DTranspose"), "conv2d_transpose");
  EXPECT_EQ(ToSnakeCase("BatchNormalization"), "batch_normalization");
  EXPECT_EQ(ToSnakeCase("DepthwiseConv2D"), "depthwise_conv2d");
  EXPECT_EQ(ToSnakeCase("GlobalAveragePooling2D"), "global_average_pooling2d");
  EXPECT_EQ(ToSnakeCase("ReLU"), "re_lu");
  EXPECT_EQ(ToSnakeCase("PReLU"), "p_re_lu");
  EXPECT_EQ(ToSnakeCase("Functional"), "functional");
}

Result<std::vector<ir::ValueId>> Nothing(LayerContext& ctx) {
  return std::vector<ir::ValueId>{};
}

TEST(Registry, RejectsDuplicatesAndKnowsTheCoreLayers) {
  Registry r;
  ASSERT_TRUE(r.Register("Foo", Nothing, "").ok());
  Status s = r.Register("Foo", Nothing, "");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("registered twice"), std::string::npos);
  const Registry& all = DefaultRegistry();
  for (const char* cls : {"Dense", "Conv2D", "BatchNormalization", "Add",
                          "Flatten", "MaxPooling2D", "ReLU", "Dropout"}) {
    EXPECT_NE(all.Find(cls), nullptr) << cls;
  }
  EXPECT_EQ(all.Find("Lambda"), nullptr);
}

TEST(LowerKerasModel, ListsEveryUnsupportedLayerAndRefusesLambda) {
  ModelSource src{SourceFormat::kKerasDir, nlohmann::json::parse(R"({
    "class_name": "Sequential", "config": {"name": "s", "layers": [
      {"class_name": "InputLayer", "config": {"name": "in", "batch_shape": [null, 3]}},
      {"class_name": "Frobnicate", "config": {"name": "f1"}},
      {"class_name": "Dense", "config": {"name": "d", "units": 2}},
      {"class_name": "Wobble", "config": {"name": "w2"}}]}})"),
                  nullptr};
  auto r = LowerKerasModel(src, DefaultRegistry());
  ASSERT_FALSE(r.ok());
  const std::string& m = r.status().message();
  EXPECT_NE(m.find("'f1' (Frobnicate)"), std::string::npos) << m;
  EXPECT_NE(m.find("'w2' (Wobble)"), std::string::npos) << m;

  src.config["config"]["layers"][1]["class_name"] = "Lambda";
  r = LowerKerasModel(src, DefaultRegistry());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("untrusted"), std::string::npos);
}

ModelSource ReluModel() {
  return ModelSource{SourceFormat::kKerasDir, nlohmann::json::parse(R"({
    "class_name": "Sequential", "config": {"name": "s", "layers": [
      {"class_name": "InputLayer", "config": {"name": "x", "batch_shape": [null, null, 3]}},
      {"class_name": "ReLU", "config": {"name": "r1"}},
      {"class_name": "ReLU", "config": {"name": "r2"}}]}})"),
                     nullptr};
}

TEST(LowerKerasModel, InputOverridesFixDynamicDimensions) {
  ModelSource src = ReluModel();
  LoweringOptions opts;
  opts.inputs = {{"", "float32", ir::Shape{2, 5, 3}}};
  std::vector<std::pair<int, int>> progress;
  opts.on_layer = [&](int done, int total) { progress.push_back({done, total}); };
  auto g = LowerKerasModel(src, DefaultRegistry(), opts);
  ASSERT_TRUE(g.ok()) << g.status().message();
  EXPECT_EQ(g->value(g->inputs()[0].value).shape, (ir::Shape{2, 5, 3}));
  // The InputLayer is not a call: two layers, each reported once.
  EXPECT_EQ(progress, (std::vector<std::pair<int, int>>{{1, 2}, {2, 2}}));

  opts.inputs = {{"x", "", ir::Shape{ir::kDynamic, 7, 3}}};
  opts.on_layer = nullptr;
  g = LowerKerasModel(src, DefaultRegistry(), opts);
  ASSERT_TRUE(g.ok()) << g.status().message();
  EXPECT_EQ(g->value(g->inputs()[0].value).shape,
            (ir::Shape{ir::kDynamic, 7, 3}));
}

TEST(LowerKerasModel, InputOverridesThatContradictTheModelAreRefused) {
  ModelSource src = ReluModel();
  auto message = [&](std::vector<InputOverride> inputs) {
    LoweringOptions opts;
    opts.inputs = std::move(inputs);
    auto g = LowerKerasModel(src, DefaultRegistry(), opts);
    return g.ok() ? std::string("ok") : g.status().message();
  };
  EXPECT_NE(message({{"", "", ir::Shape{1, 4, 2}}})
                .find("gives dimension 2 as 2 but the model fixes it to 3"),
            std::string::npos);
  EXPECT_NE(message({{"", "", ir::Shape{1, 3}}}).find("has rank 2"),
            std::string::npos);
  EXPECT_NE(message({{"", "int32", std::nullopt}})
                .find("gives dtype int32 but the model's Input is float32"),
            std::string::npos);
  EXPECT_NE(message({{"", "", std::nullopt}, {"", "", std::nullopt}})
                .find("input_signature has 2 entries but the model has 1 "
                      "input ('x')"),
            std::string::npos);
  EXPECT_NE(message({{"y", "", std::nullopt}})
                .find("names 'y', which is not an input of the model"),
            std::string::npos);
  EXPECT_NE(message({{"x", "", std::nullopt}, {"", "", std::nullopt}})
                .find("mixes named and positional entries"),
            std::string::npos);
}

}  // namespace
}  // namespace k2l::keras
