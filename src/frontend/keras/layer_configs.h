// The configs of the Keras layers that architecture builders and composite
// converters create, written as Keras serializes them (channels last), so
// that every such layer is described once.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace k2l::keras {

// keras.layers.Conv2D. `kernel` and `strides` are an int (the same along
// both axes) or [height, width].
nlohmann::json Conv2DConfig(int64_t filters, const nlohmann::json& kernel,
                            const nlohmann::json& strides,
                            const std::string& padding, bool use_bias,
                            const nlohmann::json& activation = "linear",
                            int64_t groups = 1, int64_t dilation = 1);

// keras.layers.DepthwiseConv2D with depth_multiplier 1 and no bias.
nlohmann::json DepthwiseConv2DConfig(const nlohmann::json& kernel,
                                     const nlohmann::json& strides,
                                     const std::string& padding);

// keras.layers.BatchNormalization with center and scale.
nlohmann::json BatchNormConfig(double epsilon, double momentum, int axis = -1);

// keras.layers.ReLU with its defaults.
nlohmann::json ReluConfig();

}  // namespace k2l::keras
