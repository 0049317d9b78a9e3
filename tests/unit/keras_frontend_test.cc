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

}  // namespace
}  // namespace k2l::keras
