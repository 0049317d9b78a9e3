// Activations: RELU, RELU6, RELU_N1_TO_1, RELU_0_TO_1, LOGISTIC, TANH, GELU,
// HARD_SWISH, ELU, LEAKY_RELU and PRELU on float32.
#include <cmath>

#include "runtime/kernels/elementwise.h"
#include "runtime/kernels/register.h"
#include "runtime/kernels/util.h"
#include "runtime/reference/binary.h"
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
Status LogisticEval(OpContext& ctx) {
  return MapFloat(ctx, kMathChunk,
                  [](float x) { return reference::Logistic(x); });
}
Status TanhEval(OpContext& ctx) {
  return MapFloat(ctx, kMathChunk, [](float x) { return std::tanh(x); });
}
Status HardSwishEval(OpContext& ctx) {
  return MapFloat(ctx, kCheapChunk,
                  [](float x) { return reference::HardSwish(x); });
}
Status EluEval(OpContext& ctx) {
  return MapFloat(ctx, kMathChunk, [](float x) { return reference::Elu(x); });
}

Status GeluEval(OpContext& ctx) {
  const auto* o = ctx.options<fb::GeluOptions>();
  if (o != nullptr && o->approximate()) {
    return MapFloat(ctx, kMathChunk,
                    [](float x) { return reference::GeluTanh(x); });
  }
  return MapFloat(ctx, kMathChunk, [](float x) { return reference::Gelu(x); });
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
      {Op::RELU, 3, ReluEval},
      {Op::RELU6, 3, Relu6Eval},
      {Op::RELU_N1_TO_1, 1, ReluN1To1Eval},
      {Op::RELU_0_TO_1, 1, Relu0To1Eval},
      {Op::HARD_SWISH, 1, HardSwishEval},
      {Op::ELU, 1, EluEval},
      {Op::GELU, 3, GeluEval},
      {Op::LEAKY_RELU, 2, LeakyReluEval},
      {Op::LOGISTIC, 3, LogisticEval},
      {Op::TANH, 3, TanhEval},
  };
  for (const Entry& e : kSameShape) {
    K2L_RETURN_IF_ERROR(
        r.Add({e.code, 1, e.max_version, SameShapePrepare, e.eval}));
  }
  K2L_RETURN_IF_ERROR(r.Add({Op::PRELU, 1, 1, PreluPrepare, PreluEval}));
  return Status::Ok();
}

}  // namespace k2l::runtime::kernels
