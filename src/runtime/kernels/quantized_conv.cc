#include "runtime/kernels/quantized_conv.h"

#include <cmath>
#include <limits>

namespace k2l::runtime::kernels {

namespace {

Status RequireQuantization(const OpContext& ctx, const Tensor& t,
                           const char* what) {
  if (t.quant.empty() || t.quant.zero_point.size() < t.quant.scale.size()) {
    return ctx.Error(std::string(what) + " '" + t.name + "' of type " +
                     TypeName(t.type) +
                     " has no quantization parameters (scale and zero "
                     "point); requantize the model");
  }
  return Status::Ok();
}

}  // namespace

Result<reference::QuantizedRange> QuantizedClamp(const OpContext& ctx,
                                                 fb::ActivationFunctionType act,
                                                 const Tensor& output) {
  using reference::FusedActivation;
  FusedActivation f = FusedActivation::kNone;
  if (act == fb::ActivationFunctionType::RELU) f = FusedActivation::kRelu;
  if (act == fb::ActivationFunctionType::RELU6) f = FusedActivation::kRelu6;
  if (act == fb::ActivationFunctionType::RELU_N1_TO_1)
    f = FusedActivation::kReluN1To1;
  const bool is_int8 = output.type == TensorType::INT8;
  const int32_t qmin = is_int8 ? -128 : 0, qmax = is_int8 ? 127 : 255;
  const float scale = output.quant.scale[0];
  if (f != FusedActivation::kNone && !(scale > 0.f)) {
    return ctx.Error("output '" + output.name + "' has scale " +
                     std::to_string(scale) +
                     "; a fused activation needs a positive scale");
  }
  return reference::QuantizedActivationRange(
      f, scale, static_cast<int32_t>(output.quant.zero_point[0]), qmin, qmax);
}

Status PrepareQuantizedConv(const OpContext& ctx, const Tensor& input,
                            const Tensor& filter, const Tensor* bias,
                            const Tensor& output,
                            fb::ActivationFunctionType act,
                            const QuantizedConvSpec& spec, QuantizedConv* q) {
  if (filter.type != input.type || output.type != input.type) {
    return ctx.Error(std::string("input, filter and output have types ") +
                     TypeName(input.type) + ", " + TypeName(filter.type) +
                     " and " + TypeName(output.type) +
                     "; the integer kernel takes all int8 or all uint8");
  }
  K2L_RETURN_IF_ERROR(RequireQuantization(ctx, input, "input"));
  K2L_RETURN_IF_ERROR(RequireQuantization(ctx, filter, "filter"));
  K2L_RETURN_IF_ERROR(RequireQuantization(ctx, output, "output"));
  const Quantization& fq = filter.quant;
  const bool per_channel = fq.scale.size() > 1;
  if (per_channel) {
    const int dim = fq.quantized_dimension;
    if (input.type != TensorType::INT8 ||
        static_cast<int>(fq.scale.size()) != spec.channels ||
        dim != spec.channel_dim || dim >= filter.rank() ||
        filter.dim(dim) != spec.channels) {
      return ctx.Error(
          "filter '" + filter.name + "' has " +
          std::to_string(fq.scale.size()) + " scales along dim " +
          std::to_string(dim) + " of " + ShapeString(filter.shape) +
          "; per-channel quantization needs int8 and one scale per each of "
          "the " +
          std::to_string(spec.channels) + " output channels (dim " +
          std::to_string(spec.channel_dim) + ")");
    }
  }
  if (spec.zero_filter_zero_point) {
    for (int64_t zp : fq.zero_point) {
      if (zp != 0) {
        return ctx.Error("filter '" + filter.name + "' has zero point " +
                         std::to_string(zp) +
                         "; int8 filters must be symmetric (zero point 0)");
      }
    }
  }
  if (bias != nullptr) {
    if (bias->type != TensorType::INT32) {
      return ctx.Error("bias '" + bias->name + "' has type " +
                       TypeName(bias->type) +
                       "; an int8 or uint8 op takes an int32 bias");
    }
    if (bias->num_elements() != spec.channels) {
      return ctx.Error("bias '" + bias->name + "' has " +
                       std::to_string(bias->num_elements()) +
                       " values but the op has " +
                       std::to_string(spec.channels) + " output channels");
    }
  }
  const float in_scale = input.quant.scale[0];
  const float out_scale = output.quant.scale[0];
  if (spec.check_bias_scale && bias != nullptr) {
    const double product = static_cast<double>(in_scale) * fq.scale[0];
    const double bias_scale = bias->quant.empty() ? 0.0 : bias->quant.scale[0];
    if (std::abs(product - bias_scale) / out_scale > 0.02) {
      return ctx.Error(
          "bias '" + bias->name + "' has scale " + std::to_string(bias_scale) +
          " but input scale x filter scale is " + std::to_string(product) +
          " (LiteRT allows 2% of an output step)");
    }
  }
  if (!(out_scale > 0.f) || !(in_scale >= 0.f)) {
    return ctx.Error("input scale " + std::to_string(in_scale) +
                     " and output scale " + std::to_string(out_scale) +
                     " must be positive");
  }
  reference::ConvolutionMultipliers(in_scale, fq.scale, out_scale,
                                    spec.channels, spec.legacy_float_product,
                                    &q->multiplier, &q->shift);
  K2L_ASSIGN_OR_RETURN(reference::QuantizedRange range,
                       QuantizedClamp(ctx, act, output));
  reference::QuantizedOutput& o = q->out;
  o.input_offset = -static_cast<int32_t>(input.quant.zero_point[0]);
  o.filter_offset =
      spec.filter_offset ? -static_cast<int32_t>(fq.zero_point[0]) : 0;
  o.output_offset = static_cast<int32_t>(output.quant.zero_point[0]);
  o.multiplier = q->multiplier.data();
  o.shift = q->shift.data();
  o.act_min = range.min;
  o.act_max = range.max;
  return Status::Ok();
}

Status CheckHybridFilter(const OpContext& ctx, const Tensor& filter,
                         int channels, int channel_dim, bool allow_per_tensor,
                         bool* per_channel) {
  if (filter.type != TensorType::INT8) {
    return ctx.Error("filter '" + filter.name + "' has type " +
                     TypeName(filter.type) +
                     " with a float32 input; dynamic-range (hybrid) ops take "
                     "float32 or int8 weights");
  }
  const Quantization& fq = filter.quant;
  if (fq.empty()) {
    return ctx.Error("int8 filter '" + filter.name +
                     "' of a float32 op has no scale; dynamic-range (hybrid) "
                     "weights need their quantization parameters");
  }
  for (int64_t zp : fq.zero_point) {
    if (zp != 0) {
      return ctx.Error("int8 filter '" + filter.name + "' has zero point " +
                       std::to_string(zp) +
                       "; dynamic-range weights must be symmetric (zero "
                       "point 0)");
    }
  }
  *per_channel = fq.scale.size() > 1;
  const int dim = fq.quantized_dimension;
  if (*per_channel ? (static_cast<int>(fq.scale.size()) != channels ||
                      dim != channel_dim || dim >= filter.rank() ||
                      filter.dim(dim) != channels)
                   : !allow_per_tensor) {
    return ctx.Error("int8 filter '" + filter.name + "' has " +
                     std::to_string(fq.scale.size()) + " scales along dim " +
                     std::to_string(dim) + " of " + ShapeString(filter.shape) +
                     "; a dynamic-range op needs one scale per each of the " +
                     std::to_string(channels) + " output channels (dim " +
                     std::to_string(channel_dim) + ")" +
                     (allow_per_tensor ? " or a single scale" : ""));
  }
  for (float s : fq.scale) {
    if (!(s > 0.f) || !std::isfinite(s)) {
      return ctx.Error("int8 filter '" + filter.name + "' has scale " +
                       std::to_string(s) + "; scales must be positive");
    }
  }
  return Status::Ok();
}

Status CheckSameQuantization(const OpContext& ctx, const Tensor& input,
                             const Tensor& output) {
  K2L_RETURN_IF_ERROR(RequireQuantization(ctx, input, "input"));
  K2L_RETURN_IF_ERROR(RequireQuantization(ctx, output, "output"));
  if (std::abs(input.quant.scale[0] - output.quant.scale[0]) > 1e-6f ||
      input.quant.zero_point[0] != output.quant.zero_point[0]) {
    return ctx.Error("input '" + input.name + "' and output '" + output.name +
                     "' are quantized differently (scale " +
                     std::to_string(input.quant.scale[0]) + " vs " +
                     std::to_string(output.quant.scale[0]) + ", zero point " +
                     std::to_string(input.quant.zero_point[0]) + " vs " +
                     std::to_string(output.quant.zero_point[0]) +
                     "); the integer pool needs them equal");
  }
  return Status::Ok();
}

}  // namespace k2l::runtime::kernels
