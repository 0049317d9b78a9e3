#include "frontend/keras/layer_configs.h"

namespace k2l::keras {

namespace {

using nlohmann::json;

json Pair(const json& v) { return v.is_array() ? v : json{v, v}; }

}  // namespace

json Conv2DConfig(int64_t filters, const json& kernel, const json& strides,
                  const std::string& padding, bool use_bias,
                  const json& activation, int64_t groups, int64_t dilation) {
  return {{"filters", filters},
          {"kernel_size", Pair(kernel)},
          {"strides", Pair(strides)},
          {"padding", padding},
          {"data_format", "channels_last"},
          {"dilation_rate", {dilation, dilation}},
          {"groups", groups},
          {"activation", activation},
          {"use_bias", use_bias}};
}

json DepthwiseConv2DConfig(const json& kernel, const json& strides,
                           const std::string& padding) {
  return {{"kernel_size", Pair(kernel)},
          {"strides", Pair(strides)},
          {"padding", padding},
          {"depth_multiplier", 1},
          {"data_format", "channels_last"},
          {"dilation_rate", {1, 1}},
          {"activation", "linear"},
          {"use_bias", false}};
}

json BatchNormConfig(double epsilon, double momentum, int axis) {
  return {{"axis", axis},
          {"epsilon", epsilon},
          {"momentum", momentum},
          {"center", true},
          {"scale", true}};
}

json ReluConfig() {
  return {{"max_value", nullptr}, {"negative_slope", 0.0}, {"threshold", 0.0}};
}

}  // namespace k2l::keras
