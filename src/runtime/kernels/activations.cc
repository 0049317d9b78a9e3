// Activations: RELU, RELU6, RELU_N1_TO_1, RELU_0_TO_1, LOGISTIC, TANH, GELU,
// HARD_SWISH, ELU, LEAKY_RELU and PRELU on float32; on quantized values the
// RELU family and LEAKY_RELU (int8/uint8, RELU/RELU6/LEAKY_RELU also int16)
// by rescaling, and LOGISTIC, TANH, GELU (int8/uint8) and ELU (int8)
// through LiteRT's 256-entry lookup tables.
#include <cmath>
#include <limits>
#include <utility>

#include "runtime/kernels/elementwise.h"
#include "runtime/kernels/register.h"
#include "runtime/kernels/util.h"
#include "runtime/reference/binary.h"
#include "runtime/reference/quantize.h"
#include "runtime/reference/unary.h"

namespace k2l::runtime::kernels {

namespace {

// Element counts below which splitting across threads costs more than it
// saves: cheap clamps, and transcendental functions.
constexpr int64_t kCheapChunk = 1 << 15;
constexpr int64_t kMathChunk = 1 << 12;

Status SameShapePrepare(OpContext& ctx) {
  K2L_RETURN_IF_ERROR(CheckArity(ctx, 1, 1, 1));
  const Tensor& in = ctx.input(0);
  K2L_RETURN_IF_ERROR(CheckType(ctx, in, "input", {TensorType::FLOAT32}));
  K2L_RETURN_IF_ERROR(
      CheckType(ctx, ctx.output(0), "output", {TensorType::FLOAT32}));
  return ctx.ResizeOutput(0, in.shape);
}

// The transcendental activations, as loops compiled for the CPU's vector
// width (K2L_VECTOR_CLONES).
K2L_VECTOR_CLONES void LogisticLoop(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = reference::FastLogistic(x[i]);
}
K2L_VECTOR_CLONES void TanhLoop(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = reference::FastTanh(x[i]);
}
K2L_VECTOR_CLONES void GeluLoop(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = reference::FastGelu(x[i]);
}
K2L_VECTOR_CLONES void GeluTanhLoop(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = reference::FastGeluTanh(x[i]);
}
K2L_VECTOR_CLONES void EluLoop(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = reference::FastElu(x[i]);
}

Status RunLoop(OpContext& ctx, void (*loop)(const float*, float*, int64_t)) {
  const float* x = ctx.input(0).data<float>();
  float* y = ctx.output(0).mutable_data<float>();
  ctx.ParallelFor(ctx.input(0).num_elements(), kMathChunk,
                  [&](int64_t b, int64_t e) { loop(x + b, y + b, e - b); });
  return Status::Ok();
}

template <typename F>
Status MapFloat(OpContext& ctx, int64_t chunk, const F& f) {
  const float* x = ctx.input(0).data<float>();
  float* y = ctx.output(0).mutable_data<float>();
  ctx.ParallelFor(
      ctx.input(0).num_elements(), chunk,
      [&](int64_t b, int64_t e) { reference::Map(x + b, y + b, e - b, f); });
  return Status::Ok();
}

Status ReluEval(OpContext& ctx) {
  return MapFloat(ctx, kCheapChunk, [](float x) { return reference::Relu(x); });
}
Status Relu6Eval(OpContext& ctx) {
  return MapFloat(ctx, kCheapChunk,
                  [](float x) { return reference::ClampTo(x, 0.f, 6.f); });
}
Status ReluN1To1Eval(OpContext& ctx) {
  return MapFloat(ctx, kCheapChunk,
                  [](float x) { return reference::ClampTo(x, -1.f, 1.f); });
}
Status Relu0To1Eval(OpContext& ctx) {
  return MapFloat(ctx, kCheapChunk,
                  [](float x) { return reference::ClampTo(x, 0.f, 1.f); });
}
Status LogisticEval(OpContext& ctx) { return RunLoop(ctx, LogisticLoop); }
Status TanhEval(OpContext& ctx) { return RunLoop(ctx, TanhLoop); }
Status HardSwishEval(OpContext& ctx) {
  return MapFloat(ctx, kCheapChunk,
                  [](float x) { return reference::HardSwish(x); });
}
Status EluEval(OpContext& ctx) { return RunLoop(ctx, EluLoop); }

Status GeluEval(OpContext& ctx) {
  const auto* o = ctx.options<fb::GeluOptions>();
  return RunLoop(ctx,
                 o != nullptr && o->approximate() ? GeluTanhLoop : GeluLoop);
}

Status LeakyReluEval(OpContext& ctx) {
  const auto* o = ctx.options<fb::LeakyReluOptions>();
  const float alpha = o != nullptr ? o->alpha() : 0.f;
  return MapFloat(ctx, kCheapChunk,
                  [alpha](float x) { return reference::LeakyRelu(x, alpha); });
}

struct PreluData : OpData {
  reference::Broadcast<2> plan;
};

Status PreluPrepare(OpContext& ctx) {
  K2L_RETURN_IF_ERROR(CheckArity(ctx, 2, 2, 1));
  const Tensor& in = ctx.input(0);
  const Tensor& alpha = ctx.input(1);
  K2L_RETURN_IF_ERROR(CheckType(ctx, in, "input", {TensorType::FLOAT32}));
  K2L_RETURN_IF_ERROR(CheckType(ctx, alpha, "alpha", {TensorType::FLOAT32}));
  K2L_RETURN_IF_ERROR(
      CheckType(ctx, ctx.output(0), "output", {TensorType::FLOAT32}));
  K2L_ASSIGN_OR_RETURN(Shape out, BroadcastShapes(ctx, in.shape, alpha.shape));
  if (out != in.shape) {
    return ctx.Error("alpha '" + alpha.name + "' of shape " +
                     ShapeString(alpha.shape) +
                     " must broadcast to the input's shape " +
                     ShapeString(in.shape) + " without growing it");
  }
  ctx.data<PreluData>().plan =
      reference::MakeBroadcast<2>({&in.shape, &alpha.shape}, out);
  return ctx.ResizeOutput(0, out);
}

Status PreluEval(OpContext& ctx) {
  const auto& plan = ctx.data<PreluData>().plan;
  const float* x = ctx.input(0).data<float>();
  const float* a = ctx.input(1).data<float>();
  float* y = ctx.output(0).mutable_data<float>();
  ctx.ParallelFor(plan.size, kCheapChunk, [&](int64_t b, int64_t e) {
    reference::BroadcastBinary(plan, x, a, y, b, e, reference::Prelu);
  });
  return Status::Ok();
}

// --- Quantized RELU family and LEAKY_RELU ------------------------------------

struct QuantReluData : OpData {
  reference::QuantizedReluParams relu{};
  reference::QuantizedLeakyReluParams leaky{};
};

// Checks a quantized input and output of one type among `types`; int16
// needs zero points of 0.
Result<std::pair<TensorQuant, TensorQuant>> QuantizedUnaryQuant(
    OpContext& ctx, std::initializer_list<TensorType> types) {
  K2L_RETURN_IF_ERROR(CheckArity(ctx, 1, 1, 1));
  const Tensor& in = ctx.input(0);
  K2L_RETURN_IF_ERROR(CheckType(ctx, in, "input", types));
  if (ctx.output(0).type != in.type) {
    return ctx.Error(std::string("output '") + ctx.output(0).name +
                     "' has type " + TypeName(ctx.output(0).type) +
                     " but the input has " + TypeName(in.type));
  }
  K2L_ASSIGN_OR_RETURN(TensorQuant qi, PerTensorQuant(ctx, in, "input"));
  K2L_ASSIGN_OR_RETURN(TensorQuant qo,
                       PerTensorQuant(ctx, ctx.output(0), "output"));
  if (in.type == TensorType::INT16 &&
      (qi.zero_point != 0 || qo.zero_point != 0))
    return ctx.Error("int16 input and output need zero points of 0");
  return std::make_pair(qi, qo);
}

// RELU-like ops clamp real values to [lo, hi] (hi may be infinite).
Status QuantizedReluPrepare(OpContext& ctx, float lo, float hi,
                            bool allow_int16) {
  if (ctx.num_inputs() == 1 && ctx.input(0).type == TensorType::FLOAT32)
    return SameShapePrepare(ctx);
  Result<std::pair<TensorQuant, TensorQuant>> q =
      allow_int16
          ? QuantizedUnaryQuant(ctx, {TensorType::FLOAT32, TensorType::INT8,
                                      TensorType::UINT8, TensorType::INT16})
          : QuantizedUnaryQuant(ctx, {TensorType::FLOAT32, TensorType::INT8,
                                      TensorType::UINT8});
  if (!q.ok()) return q.status();
  const auto [qi, qo] = *q;
  const TensorType t = ctx.input(0).type;
  const int32_t tmin = t == TensorType::INT8    ? -128
                       : t == TensorType::UINT8 ? 0
                                                : -32768;
  const int32_t tmax = t == TensorType::INT8    ? 127
                       : t == TensorType::UINT8 ? 255
                                                : 32767;
  auto& p = ctx.data<QuantReluData>().relu;
  p.input_zp = qi.zero_point;
  p.output_zp = qo.zero_point;
  // LiteRT divides the float scales in float, and rounds the bounds with
  // roundf.
  reference::QuantizeMultiplier(qi.scale / qo.scale, &p.multiplier, &p.shift);
  p.act_min = std::max(
      tmin, qo.zero_point + static_cast<int32_t>(std::round(lo / qo.scale)));
  p.act_max =
      std::isinf(hi)
          ? tmax
          : std::min(tmax, qo.zero_point +
                               static_cast<int32_t>(std::round(hi / qo.scale)));
  return ctx.ResizeOutput(0, ctx.input(0).shape);
}

template <typename T, typename F>
Status MapAs(OpContext& ctx, const F& f) {
  const T* x = ctx.input(0).data<T>();
  T* y = ctx.output(0).mutable_data<T>();
  ctx.ParallelFor(
      ctx.input(0).num_elements(), kCheapChunk,
      [&](int64_t b, int64_t e) { reference::Map(x + b, y + b, e - b, f); });
  return Status::Ok();
}

template <template <typename> class Op, typename Params>
Status QuantizedMap(OpContext& ctx, const Params& p) {
  switch (ctx.input(0).type) {
    case TensorType::INT8:
      return MapAs<int8_t>(ctx, Op<int8_t>{p});
    case TensorType::UINT8:
      return MapAs<uint8_t>(ctx, Op<uint8_t>{p});
    default:
      return MapAs<int16_t>(ctx, Op<int16_t>{p});
  }
}

constexpr float kInf = std::numeric_limits<float>::infinity();
Status ReluPrepare(OpContext& ctx) {
  return QuantizedReluPrepare(ctx, 0.f, kInf, true);
}
Status Relu6Prepare(OpContext& ctx) {
  return QuantizedReluPrepare(ctx, 0.f, 6.f, true);
}
Status ReluN1To1Prepare(OpContext& ctx) {
  return QuantizedReluPrepare(ctx, -1.f, 1.f, false);
}
Status Relu0To1Prepare(OpContext& ctx) {
  return QuantizedReluPrepare(ctx, 0.f, 1.f, false);
}
template <Status (*FloatEval)(OpContext&)>
Status ReluAnyEval(OpContext& ctx) {
  if (ctx.input(0).type == TensorType::FLOAT32) return FloatEval(ctx);
  return QuantizedMap<reference::QuantizedRelu>(ctx,
                                                ctx.data<QuantReluData>().relu);
}

Status LeakyReluPrepare(OpContext& ctx) {
  if (ctx.num_inputs() == 1 && ctx.input(0).type == TensorType::FLOAT32)
    return SameShapePrepare(ctx);
  K2L_ASSIGN_OR_RETURN(
      auto q, QuantizedUnaryQuant(ctx, {TensorType::FLOAT32, TensorType::INT8,
                                        TensorType::UINT8, TensorType::INT16}));
  const auto [qi, qo] = q;
  const auto* o = ctx.options<fb::LeakyReluOptions>();
  const float alpha = o != nullptr ? o->alpha() : 0.f;
  auto& p = ctx.data<QuantReluData>().leaky;
  p.input_zp = qi.zero_point;
  p.output_zp = qo.zero_point;
  // Products and quotients of float scales are formed in float, as LiteRT
  // does.
  reference::QuantizeMultiplier(qi.scale * alpha / qo.scale,
                                &p.alpha_multiplier, &p.alpha_shift);
  reference::QuantizeMultiplier(qi.scale / qo.scale, &p.identity_multiplier,
                                &p.identity_shift);
  return ctx.ResizeOutput(0, ctx.input(0).shape);
}
Status LeakyReluAnyEval(OpContext& ctx) {
  if (ctx.input(0).type == TensorType::FLOAT32) return LeakyReluEval(ctx);
  return QuantizedMap<reference::QuantizedLeakyRelu>(
      ctx, ctx.data<QuantReluData>().leaky);
}

// --- Quantized activations through a lookup table ---------------------------

struct LutData : OpData {
  uint8_t lut[256];  // int8 or uint8 bit patterns
};

// The float functions LiteRT tabulates (evaluated in float, as it does).
float LogisticF(float x) { return 1.0f / (1.0f + std::exp(-x)); }
float TanhF(float x) { return std::tanh(x); }
float GeluF(float x) { return reference::Gelu(x); }
float GeluTanhF(float x) { return reference::GeluTanh(x); }
float EluF(float x) { return reference::Elu(x); }

// Float inputs take SameShapePrepare; int8 (and uint8 unless int8_only)
// inputs tabulate f over all 256 values.
Status LutPrepare(OpContext& ctx, float (*f)(float), bool int8_only,
                  bool logistic_output) {
  K2L_RETURN_IF_ERROR(CheckArity(ctx, 1, 1, 1));
  const Tensor& in = ctx.input(0);
  if (in.type == TensorType::FLOAT32) return SameShapePrepare(ctx);
  if (int8_only) {
    K2L_RETURN_IF_ERROR(
        CheckType(ctx, in, "input", {TensorType::FLOAT32, TensorType::INT8}));
  } else {
    K2L_RETURN_IF_ERROR(
        CheckType(ctx, in, "input",
                  {TensorType::FLOAT32, TensorType::INT8, TensorType::UINT8}));
  }
  const Tensor& out = ctx.output(0);
  if (out.type != in.type) {
    return ctx.Error(std::string("output '") + out.name + "' has type " +
                     TypeName(out.type) + " but the input has " +
                     TypeName(in.type));
  }
  K2L_ASSIGN_OR_RETURN(TensorQuant qi, PerTensorQuant(ctx, in, "input"));
  K2L_ASSIGN_OR_RETURN(TensorQuant qo, PerTensorQuant(ctx, out, "output"));
  if (logistic_output && qo.scale != 1. / 256) {
    return ctx.Error("output '" + out.name + "' has scale " +
                     std::to_string(qo.scale) +
                     "; LiteRT's quantized LOGISTIC needs 1/256");
  }
  auto& d = ctx.data<LutData>();
  if (in.type == TensorType::INT8) {
    reference::PopulateLut<int8_t>(qi.scale, qi.zero_point, qo.scale,
                                   qo.zero_point, f,
                                   reinterpret_cast<int8_t*>(d.lut));
  } else {
    reference::PopulateLut<uint8_t>(qi.scale, qi.zero_point, qo.scale,
                                    qo.zero_point, f, d.lut);
  }
  return ctx.ResizeOutput(0, in.shape);
}

Status LutEval(OpContext& ctx) {
  const auto& d = ctx.data<LutData>();
  const uint8_t* x = ctx.input(0).data<uint8_t>();
  uint8_t* y = ctx.output(0).mutable_data<uint8_t>();
  ctx.ParallelFor(ctx.input(0).num_elements(), kCheapChunk,
                  [&](int64_t b, int64_t e) {
                    reference::LookupTable(x + b, y + b, e - b, d.lut);
                  });
  return Status::Ok();
}

bool IsFloat(const OpContext& ctx) {
  return ctx.input(0).type == TensorType::FLOAT32;
}

Status LogisticPrepare(OpContext& ctx) {
  return LutPrepare(ctx, LogisticF, false, /*logistic_output=*/true);
}
Status LogisticAnyEval(OpContext& ctx) {
  return IsFloat(ctx) ? LogisticEval(ctx) : LutEval(ctx);
}
Status TanhPrepare(OpContext& ctx) {
  return LutPrepare(ctx, TanhF, false, false);
}
Status TanhAnyEval(OpContext& ctx) {
  return IsFloat(ctx) ? TanhEval(ctx) : LutEval(ctx);
}
Status GeluPrepare(OpContext& ctx) {
  const auto* o = ctx.options<fb::GeluOptions>();
  bool approximate = o != nullptr && o->approximate();
  return LutPrepare(ctx, approximate ? GeluTanhF : GeluF, false, false);
}
Status GeluAnyEval(OpContext& ctx) {
  return IsFloat(ctx) ? GeluEval(ctx) : LutEval(ctx);
}
Status EluPrepare(OpContext& ctx) {
  return LutPrepare(ctx, EluF, /*int8_only=*/true, false);
}
Status EluAnyEval(OpContext& ctx) {
  return IsFloat(ctx) ? EluEval(ctx) : LutEval(ctx);
}

}  // namespace

Status RegisterActivationKernels(OpResolver& r) {
  using Op = fb::BuiltinOperator;
  struct Entry {
    Op code;
    int max_version;
    Status (*eval)(OpContext&);
  };
  // Versions above 1 add quantized types; Prepare names what is refused.
  const Entry kSameShape[] = {
      {Op::HARD_SWISH, 1, HardSwishEval},
  };
  for (const Entry& e : kSameShape) {
    K2L_RETURN_IF_ERROR(
        r.Add({e.code, 1, e.max_version, SameShapePrepare, e.eval}));
  }
  K2L_RETURN_IF_ERROR(r.Add({Op::PRELU, 1, 1, PreluPrepare, PreluEval}));
  K2L_RETURN_IF_ERROR(
      r.Add({Op::RELU, 1, 3, ReluPrepare, ReluAnyEval<ReluEval>}));
  K2L_RETURN_IF_ERROR(
      r.Add({Op::RELU6, 1, 3, Relu6Prepare, ReluAnyEval<Relu6Eval>}));
  K2L_RETURN_IF_ERROR(r.Add(
      {Op::RELU_N1_TO_1, 1, 1, ReluN1To1Prepare, ReluAnyEval<ReluN1To1Eval>}));
  K2L_RETURN_IF_ERROR(r.Add(
      {Op::RELU_0_TO_1, 1, 1, Relu0To1Prepare, ReluAnyEval<Relu0To1Eval>}));
  K2L_RETURN_IF_ERROR(
      r.Add({Op::LEAKY_RELU, 1, 2, LeakyReluPrepare, LeakyReluAnyEval}));
  K2L_RETURN_IF_ERROR(
      r.Add({Op::LOGISTIC, 1, 3, LogisticPrepare, LogisticAnyEval}));
  K2L_RETURN_IF_ERROR(r.Add({Op::TANH, 1, 3, TanhPrepare, TanhAnyEval}));
  K2L_RETURN_IF_ERROR(r.Add({Op::GELU, 1, 3, GeluPrepare, GeluAnyEval}));
  K2L_RETURN_IF_ERROR(r.Add({Op::ELU, 1, 1, EluPrepare, EluAnyEval}));
  return Status::Ok();
}

}  // namespace k2l::runtime::kernels
