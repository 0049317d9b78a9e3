// GraphBuilder lists a Functional's layers in Keras' order (map_graph: by
// depth from the inputs, ties by first visit from the outputs), which is
// the order a Keras weights file counts layers of a class in.
#include "frontend/hub/graph_builder.h"

#include <gtest/gtest.h>

namespace k2l::hub {
namespace {

std::vector<std::string> LayerNames(const json& model) {
  std::vector<std::string> names;
  for (const json& l : model["config"]["layers"]) names.push_back(l["name"]);
  return names;
}

TEST(GraphBuilderTest, ResidualBlockInKerasOrder) {
  // A ResNet basic block with a projection shortcut, built shortcut first
  // as keras-hub writes it. keras-hub 0.32's ResNetBackbone.layers lists
  // the main path's first half before the shortcut's convolution.
  GraphBuilder g("block");
  json x = g.Input("input_layer", "float32", {8, 8, 4});
  auto call = [&](const std::string& cls, const std::string& name, json in) {
    return g.Call(cls, name, json::object(), json::array({in}));
  };
  json s = call("Conv2D", "b_0_conv", x);
  s = call("BatchNormalization", "b_0_bn", s);
  json y = call("ZeroPadding2D", "b_1_pad", x);
  y = call("Conv2D", "b_1_conv", y);
  y = call("BatchNormalization", "b_1_bn", y);
  y = call("Activation", "b_1_relu", y);
  y = call("Conv2D", "b_2_conv", y);
  y = call("BatchNormalization", "b_2_bn", y);
  json sum = g.Call("Add", "b_add", json::object(),
                    json::array({json::array({s, y})}));
  json out = call("Activation", "b_out", sum);
  json model = g.Build({{"input_layer", x}}, out);
  EXPECT_EQ(LayerNames(model),
            (std::vector<std::string>{"input_layer", "b_1_pad", "b_1_conv",
                                      "b_1_bn", "b_1_relu", "b_0_conv",
                                      "b_2_conv", "b_0_bn", "b_2_bn", "b_add",
                                      "b_out"}));
}

TEST(GraphBuilderTest, SharedLayerTakesItsDeepestNode) {
  // A layer called twice (a tied embedding) sits at the depth of its
  // deepest node; keyword tensors count as inputs after the positional
  // ones. (Keras orders such a model token_ids, token_embedding,
  // padding_mask, layer_0.)
  GraphBuilder g("lm");
  json ids = g.Input("token_ids", "int32", {-1});
  json mask = g.Input("padding_mask", "int32", {-1});
  json e = g.Call("ReversibleEmbedding", "token_embedding", json::object(),
                  json::array({ids}));
  json h = g.Call("TransformerDecoder", "layer_0", json::object(),
                  json::array({e}), {{"decoder_padding_mask", mask}});
  json logits = g.CallAgain("token_embedding", json::array({h}),
                            {{"reverse", true}});
  json model = g.Build({{"token_ids", ids}, {"padding_mask", mask}},
                       {{"logits", logits}});
  EXPECT_EQ(LayerNames(model),
            (std::vector<std::string>{"token_ids", "token_embedding",
                                      "padding_mask", "layer_0"}));
}

}  // namespace
}  // namespace k2l::hub
