// Prepare-time checks and requantization parameters shared by the integer
// forms of CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED and the pools,
// following LiteRT's PopulateConvolutionQuantizationParams.
#pragma once

#include <vector>

#include "core/status.h"
#include "runtime/kernel.h"
#include "runtime/reference/quantized_util.h"

namespace k2l::runtime::kernels {

// How one op reads its quantization (LiteRT differs per op and type).
struct QuantizedConvSpec {
  int channels = 1;     // output channels, one multiplier each
  int channel_dim = 0;  // the filter dim per-channel scales run along
  // input_scale * filter_scale rounded to float before the division (uint8
  // convolutions, per-tensor FULLY_CONNECTED).
  bool legacy_float_product = false;
  // Subtract the filter's zero point (uint8; per-tensor FULLY_CONNECTED);
  // otherwise it is taken as 0.
  bool filter_offset = false;
  // The filter's zero points must all be 0 (int8 CONV_2D).
  bool zero_filter_zero_point = false;
  // The bias scale must be within 2% of an output step of input_scale *
  // filter_scale (GetQuantizedConvolutionMultipler's check).
  bool check_bias_scale = false;
};

// The requantization an op computes once in Prepare. `out` points into the
// vectors, so the struct is not copied after Prepare.
struct QuantizedConv {
  std::vector<int32_t> multiplier;
  std::vector<int> shift;
  reference::QuantizedOutput out;
};

// Checks types (input, filter and output all int8 or all uint8, bias
// int32), quantization parameters and the per-channel layout, and fills `q`.
Status PrepareQuantizedConv(const OpContext& ctx, const Tensor& input,
                            const Tensor& filter, const Tensor* bias,
                            const Tensor& output,
                            fb::ActivationFunctionType act,
                            const QuantizedConvSpec& spec, QuantizedConv* q);

// The clamp of a fused activation on `output`'s quantized values, within
// its type's range.
Result<reference::QuantizedRange> QuantizedClamp(const OpContext& ctx,
                                                 fb::ActivationFunctionType act,
                                                 const Tensor& output);

// Dynamic-range ("hybrid") ops, float32 input and output: the filter must be
// int8 with zero points 0 and either one scale (when `allow_per_tensor`) or
// one per each of `channels` output channels along `channel_dim`. Sets
// *per_channel to whether it has one scale per channel.
Status CheckHybridFilter(const OpContext& ctx, const Tensor& filter,
                         int channels, int channel_dim, bool allow_per_tensor,
                         bool* per_channel);

// The pools: input and output quantized alike (LiteRT assumes it).
Status CheckSameQuantization(const OpContext& ctx, const Tensor& input,
                             const Tensor& output);

}  // namespace k2l::runtime::kernels
