// The requantization step of the integer convolution, fully-connected and
// pooling kernels, on top of fixed_point.h: LiteRT's per-channel
// multipliers and the output offset and clamp.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "runtime/reference/fixed_point.h"

namespace k2l::runtime::reference {

// acc (an int32 sum of (filter + filter_offset) * (input + input_offset),
// plus the bias) -> clamp(acc * multiplier[c] * 2^shift[c] + output_offset).
struct QuantizedOutput {
  int32_t input_offset = 0;   // minus the input's zero point
  int32_t filter_offset = 0;  // minus the filter's zero point (int8: 0)
  int32_t output_offset = 0;  // the output's zero point
  const int32_t* multiplier = nullptr;  // one per output channel
  const int* shift = nullptr;
  int32_t act_min = 0;
  int32_t act_max = 0;

  int32_t Apply(int32_t acc, int channel) const {
    acc = MultiplyByQuantizedMultiplier(acc, multiplier[channel],
                                        shift[channel]) +
          output_offset;
    return std::min(std::max(acc, act_min), act_max);
  }
};

// The multipliers of `channels` output channels as LiteRT's
// PopulateConvolutionQuantizationParams computes them: input_scale *
// filter_scale / output_scale in double, with one filter scale per channel
// or one for all. With `legacy_float_product` (uint8 convolutions and
// per-tensor FULLY_CONNECTED, through GetQuantizedConvolutionMultipler) the
// product input_scale * filter_scale is rounded to float first.
inline void ConvolutionMultipliers(float input_scale,
                                   const std::vector<float>& filter_scales,
                                   float output_scale, int channels,
                                   bool legacy_float_product,
                                   std::vector<int32_t>* multiplier,
                                   std::vector<int>* shift) {
  multiplier->assign(channels, 0);
  shift->assign(channels, 0);
  for (int c = 0; c < channels; ++c) {
    const float fs =
        filter_scales.size() > 1 ? filter_scales[c] : filter_scales[0];
    const double product =
        legacy_float_product
            ? static_cast<double>(input_scale * fs)
            : static_cast<double>(input_scale) * static_cast<double>(fs);
    QuantizeMultiplier(product / static_cast<double>(output_scale),
                       &(*multiplier)[c], &(*shift)[c]);
  }
}

}  // namespace k2l::runtime::reference
