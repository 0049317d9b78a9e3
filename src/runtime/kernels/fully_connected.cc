// FULLY_CONNECTED: weights [units, depth] (constant or computed), optional
// bias (omitted or -1), keep_num_dims, and a fused clamp. The input is read
// as [size / depth, depth] whatever its rank. Float32, and int8 or uint8
// (per-tensor, or per-channel int8 weights) with LiteRT's integer math, and
// dynamic-range (hybrid) float32 with int8 weights: each input row quantized
// on the fly, symmetric or (asymmetric_quantize_inputs) asymmetric.
#include "runtime/reference/fully_connected.h"

#include "runtime/fast/xnnpack.h"
#include "runtime/interpreter.h"
#include "runtime/kernels/quantized_conv.h"
#include "runtime/kernels/register.h"
#include "runtime/kernels/util.h"

namespace k2l::runtime::kernels {

namespace {

struct FullyConnectedData : OpData {
  int64_t batch = 0;
  int64_t depth = 0;
  int64_t units = 0;
  FloatRange act{};
  QuantizedConv quant;
  // Hybrid: the quantized input rows and their scales.
  bool hybrid = false;
  bool asymmetric = false;
  bool per_channel = false;
  std::vector<int8_t> q;
  std::vector<reference::HybridRow> rows;
  // XNNPACK's operator (float), when the weights and bias are constants.
  fast::XnnOperator xnn;
};

Status FullyConnectedPrepare(OpContext& ctx) {
  K2L_RETURN_IF_ERROR(CheckArity(ctx, 2, 3, 1));
  const auto* o = ctx.options<fb::FullyConnectedOptions>();
  if (o != nullptr &&
      o->weights_format() != fb::FullyConnectedOptionsWeightsFormat::DEFAULT) {
    return ctx.Error(
        "the shuffled weights format (SHUFFLED4x16INT8) is not supported");
  }
  const Tensor& in = ctx.input(0);
  const Tensor& weights = ctx.input(1);
  K2L_RETURN_IF_ERROR(
      CheckType(ctx, in, "input",
                {TensorType::FLOAT32, TensorType::INT8, TensorType::UINT8}));
  const bool is_float = in.type == TensorType::FLOAT32;
  auto& d = ctx.data<FullyConnectedData>();
  d.hybrid = is_float && weights.type != TensorType::FLOAT32;
  if (is_float) {
    K2L_RETURN_IF_ERROR(
        CheckType(ctx, ctx.output(0), "output", {TensorType::FLOAT32}));
  }
  K2L_RETURN_IF_ERROR(CheckRank(ctx, weights, "weights", 2, 2));
  if (in.rank() < 1) {
    return ctx.Error("input '" + in.name + "' is a scalar; it needs a rank");
  }
  auto act =
      o ? o->fused_activation_function() : fb::ActivationFunctionType::NONE;
  if (act == fb::ActivationFunctionType::TANH ||
      act == fb::ActivationFunctionType::SIGN_BIT) {
    return ctx.Error(std::string("fused activation ") +
                     fb::EnumNameActivationFunctionType(act) +
                     " is not supported (LiteRT takes only NONE, RELU, "
                     "RELU_N1_TO_1 and RELU6 here)");
  }
  d.units = weights.dim(0);
  d.depth = weights.dim(1);
  const bool has_bias = ctx.has_input(2);
  if (!is_float) {
    // LiteRT: per-channel weights take multipliers computed in double and no
    // weight zero point; per-tensor ones the legacy float product, the
    // weights' zero point and the bias scale check.
    QuantizedConvSpec spec;
    spec.channels = static_cast<int>(d.units);
    spec.channel_dim = 0;
    const bool per_tensor = weights.quant.scale.size() <= 1;
    spec.legacy_float_product = per_tensor;
    spec.filter_offset = per_tensor;
    spec.check_bias_scale = per_tensor;
    K2L_RETURN_IF_ERROR(PrepareQuantizedConv(
        ctx, in, weights, has_bias ? &ctx.input(2) : nullptr, ctx.output(0),
        act, spec, &d.quant));
  } else {
    K2L_ASSIGN_OR_RETURN(d.act, ActivationRange(ctx, act));
  }
  if (d.hybrid) {
    // LiteRT: one scale per unit, or one for all (folded into the row's).
    K2L_RETURN_IF_ERROR(
        CheckHybridFilter(ctx, weights, static_cast<int>(d.units), 0,
                          /*allow_per_tensor=*/true, &d.per_channel));
    d.asymmetric = o != nullptr && o->asymmetric_quantize_inputs();
  }
  if (is_float && has_bias) {
    const Tensor& bias = ctx.input(2);
    K2L_RETURN_IF_ERROR(CheckType(ctx, bias, "bias", {TensorType::FLOAT32}));
    if (bias.num_elements() != d.units) {
      return ctx.Error("bias '" + bias.name + "' has " +
                       std::to_string(bias.num_elements()) +
                       " values but the weights have " +
                       std::to_string(d.units) + " units");
    }
  }
  const int64_t size = in.num_elements();
  if (d.depth == 0 ? size != 0 : size % d.depth != 0) {
    return ctx.Error("input '" + in.name + "' of shape " +
                     ShapeString(in.shape) + " does not split into rows of " +
                     std::to_string(d.depth) + " (the weights' depth, from " +
                     ShapeString(weights.shape) + ")");
  }
  int64_t rows = 1;
  for (int i = 0; i + 1 < in.rank(); ++i) rows *= in.dim(i);
  d.batch = d.depth == 0 ? rows : size / d.depth;
  if (d.hybrid) {
    d.q.resize(static_cast<size_t>(size));
    d.rows.resize(static_cast<size_t>(d.batch));
  }
  if (!is_float || d.hybrid || !weights.is_constant() ||
      (has_bias && !ctx.input(2).is_constant())) {
    d.xnn.Reset();
  } else if (!d.xnn && d.depth > 0 && d.units > 0) {
    d.xnn = fast::CreateFullyConnected(
        d.depth, d.units, weights.data<float>(),
        has_bias ? ctx.input(2).data<float>() : nullptr, d.act.min, d.act.max);
  }
  const bool keep = o != nullptr && o->keep_num_dims();
  if (keep) {
    if (in.shape.back() != d.depth) {
      return ctx.Error("keep_num_dims needs input '" + in.name +
                       "''s last dimension (" + ShapeString(in.shape) +
                       ") to equal the weights' depth " +
                       std::to_string(d.depth));
    }
    Shape out = in.shape;
    out.back() = static_cast<int32_t>(d.units);
    return ctx.ResizeOutput(0, out);
  }
  return ctx.ResizeOutput(
      0, {static_cast<int32_t>(d.batch), static_cast<int32_t>(d.units)});
}

template <typename T>
void EvalQuantized(OpContext& ctx, const FullyConnectedData& d) {
  const T* in = ctx.input(0).data<T>();
  const T* weights = ctx.input(1).data<T>();
  const int32_t* bias =
      ctx.has_input(2) ? ctx.input(2).data<int32_t>() : nullptr;
  T* out = ctx.output(0).mutable_data<T>();
  if (d.batch < 4 * ctx.threads()) {
    ctx.ParallelFor(d.units, reference::MinChunk(d.batch * d.depth),
                    [&](int64_t begin, int64_t end) {
                      reference::FullyConnectedQuantized(
                          in, weights, bias, d.depth, d.units, d.quant.out, out,
                          0, d.batch, begin, end);
                    });
  } else {
    ctx.ParallelFor(d.batch, reference::MinChunk(d.units * d.depth),
                    [&](int64_t begin, int64_t end) {
                      reference::FullyConnectedQuantized(
                          in, weights, bias, d.depth, d.units, d.quant.out, out,
                          begin, end, 0, d.units);
                    });
  }
}

void EvalHybrid(OpContext& ctx, FullyConnectedData& d) {
  const Tensor& weights = ctx.input(1);
  reference::QuantizeHybridRows(ctx.input(0).data<float>(), d.batch, d.depth,
                                d.asymmetric, d.q.data(), d.rows.data());
  const float* unit_scale = nullptr;
  if (d.per_channel) {
    unit_scale = weights.quant.scale.data();
  } else {
    for (auto& r : d.rows) r.scale *= weights.quant.scale[0];
  }
  const int8_t* w = weights.data<int8_t>();
  const float* bias = ctx.has_input(2) ? ctx.input(2).data<float>() : nullptr;
  float* out = ctx.output(0).mutable_data<float>();
  const bool by_unit = d.batch < 4 * ctx.threads();
  ctx.ParallelFor(by_unit ? d.units : d.batch,
                  reference::MinChunk((by_unit ? d.batch : d.units) * d.depth),
                  [&](int64_t begin, int64_t end) {
                    reference::FullyConnectedHybrid(
                        d.q.data(), d.rows.data(), w, unit_scale, bias, d.depth,
                        d.units, d.act.min, d.act.max, out, by_unit ? 0 : begin,
                        by_unit ? d.batch : end, by_unit ? begin : 0,
                        by_unit ? end : d.units);
                  });
}

Status FullyConnectedEval(OpContext& ctx) {
  auto& d = ctx.data<FullyConnectedData>();
  if (d.hybrid) {
    EvalHybrid(ctx, d);
    return Status::Ok();
  }
  switch (ctx.input(0).type) {
    case TensorType::INT8:
      EvalQuantized<int8_t>(ctx, d);
      return Status::Ok();
    case TensorType::UINT8:
      EvalQuantized<uint8_t>(ctx, d);
      return Status::Ok();
    default:
      break;
  }
  const float* in = ctx.input(0).data<float>();
  const float* weights = ctx.input(1).data<float>();
  const float* bias = ctx.has_input(2) ? ctx.input(2).data<float>() : nullptr;
  float* out = ctx.output(0).mutable_data<float>();
  // XNNPACK may read a few bytes past the input, which owned storage
  // allows but a constant's view on the file might not.
  if (d.xnn && !ctx.input(0).is_constant() &&
      fast::RunFullyConnected(d.xnn, d.batch, in, out,
                              ctx.interpreter().threadpool())) {
    return Status::Ok();
  }
  // Few rows (a matrix-vector product): split the units instead.
  if (d.batch < 4 * ctx.threads()) {
    ctx.ParallelFor(d.units, reference::MinChunk(d.batch * d.depth),
                    [&](int64_t begin, int64_t end) {
                      reference::FullyConnectedGemm(
                          in, weights, bias, d.depth, d.units, d.act.min,
                          d.act.max, out, 0, d.batch, begin, end);
                    });
  } else {
    ctx.ParallelFor(d.batch, reference::MinChunk(d.units * d.depth),
                    [&](int64_t begin, int64_t end) {
                      reference::FullyConnectedGemm(
                          in, weights, bias, d.depth, d.units, d.act.min,
                          d.act.max, out, begin, end, 0, d.units);
                    });
  }
  return Status::Ok();
}

}  // namespace

// The NN families' registrations, each defined in its own file.
Status RegisterBatchMatMulKernels(OpResolver& r);
Status RegisterConvKernels(OpResolver& r);
Status RegisterDepthwiseConvKernels(OpResolver& r);
Status RegisterTransposeConvKernels(OpResolver& r);
Status RegisterConv3DKernels(OpResolver& r);
Status RegisterPoolingKernels(OpResolver& r);

Status RegisterNNKernels(OpResolver& r) {
  K2L_RETURN_IF_ERROR(r.Add({fb::BuiltinOperator::FULLY_CONNECTED, 1, 14,
                             FullyConnectedPrepare, FullyConnectedEval}));
  K2L_RETURN_IF_ERROR(RegisterBatchMatMulKernels(r));
  K2L_RETURN_IF_ERROR(RegisterConvKernels(r));
  K2L_RETURN_IF_ERROR(RegisterDepthwiseConvKernels(r));
  K2L_RETURN_IF_ERROR(RegisterTransposeConvKernels(r));
  K2L_RETURN_IF_ERROR(RegisterConv3DKernels(r));
  return RegisterPoolingKernels(r);
}

}  // namespace k2l::runtime::kernels
