// Quantized int8/uint8 ADD, SUB and MUL with LiteRT's integer arithmetic
// (reference/quantize.h), broadcasting like the float kernels.
#include <algorithm>
#include <type_traits>

#include "runtime/kernels/elementwise.h"
#include "runtime/kernels/util.h"
#include "runtime/reference/fixed_point.h"
#include "runtime/reference/quantize.h"

namespace k2l::runtime::kernels {

namespace {

namespace ref = reference;

ref::FusedActivation ToFused(fb::ActivationFunctionType act) {
  switch (act) {
    case fb::ActivationFunctionType::RELU:
      return ref::FusedActivation::kRelu;
    case fb::ActivationFunctionType::RELU6:
      return ref::FusedActivation::kRelu6;
    case fb::ActivationFunctionType::RELU_N1_TO_1:
      return ref::FusedActivation::kReluN1To1;
    default:
      // LiteRT clamps to the type's range only for the others.
      return ref::FusedActivation::kNone;
  }
}

template <typename T>
void Run(OpContext& ctx, QuantizedBinaryOp op) {
  const auto& d = ctx.data<BinaryData>();
  const T* a = ctx.input(0).data<T>();
  const T* b = ctx.input(1).data<T>();
  T* out = ctx.output(0).mutable_data<T>();
  auto run = [&](const auto& f) {
    ctx.ParallelFor(d.plan.size, kBinaryChunk, [&](int64_t s, int64_t e) {
      ref::BroadcastBinary(d.plan, a, b, out, s, e, f);
    });
  };
  if (op == QuantizedBinaryOp::kMul) {
    run(ref::QuantizedMul<T>{d.mul});
    return;
  }
  if (op == QuantizedBinaryOp::kSub) {
    run(ref::QuantizedAdd<T>{d.add});
    return;
  }
  // ADD: LiteRT's SIMD forms on whole blocks from the start of each
  // contiguous run (how its broadcast loops call its element-wise and
  // scalar-broadcast kernels), the reference form on each run's tail.
  const int64_t sa = d.plan.strides[0].back(), sb = d.plan.strides[1].back();
  const bool fold = std::is_same_v<T, int8_t> && sa == 1 && sb == 1;
  const int64_t block = fold ? 16 : 8;
  const ref::QuantizedAddSimd<T> simd{d.add, fold};
  const ref::QuantizedAdd<T> scalar{d.add};
  const int64_t inner = d.plan.dims.back();
  const int64_t blocks_end = inner - inner % block;
  auto block_run = [&](int64_t o, const std::array<int64_t, 2>& in,
                       int64_t len) {
    // Runs start at a multiple of `inner` unless a thread split the run.
    const int64_t start = o % inner;
    for (int64_t i = 0; i < len; ++i) {
      const T x = a[in[0] + i * sa], y = b[in[1] + i * sb];
      out[o + i] = start + i < blocks_end ? simd(x, y) : scalar(x, y);
    }
  };
  ctx.ParallelFor(d.plan.size, kBinaryChunk, [&](int64_t s, int64_t e) {
    ref::ForEachRun<2>(d.plan, s, e, block_run);
  });
}

}  // namespace

Status QuantizedBinaryPrepare(OpContext& ctx, QuantizedBinaryOp op,
                              fb::ActivationFunctionType act) {
  K2L_ASSIGN_OR_RETURN(TensorQuant q1,
                       PerTensorQuant(ctx, ctx.input(0), "input"));
  K2L_ASSIGN_OR_RETURN(TensorQuant q2,
                       PerTensorQuant(ctx, ctx.input(1), "input"));
  K2L_ASSIGN_OR_RETURN(TensorQuant qo,
                       PerTensorQuant(ctx, ctx.output(0), "output"));
  const bool is_u8 = ctx.output(0).type == TensorType::UINT8;
  const int32_t qmin = is_u8 ? 0 : -128, qmax = is_u8 ? 255 : 127;
  for (int32_t zp : {q1.zero_point, q2.zero_point, qo.zero_point}) {
    if (zp < qmin || zp > qmax) {
      return ctx.Error("zero point " + std::to_string(zp) +
                       " is outside the range of " +
                       TypeName(ctx.output(0).type));
    }
  }
  const ref::QuantizedRange range = ref::QuantizedActivationRange(
      ToFused(act), qo.scale, qo.zero_point, qmin, qmax);
  BinaryData& d = ctx.data<BinaryData>();
  if (op == QuantizedBinaryOp::kMul) {
    // LiteRT forms this product in float before widening it.
    const float real = q1.scale * q2.scale / qo.scale;
    d.mul.input1_offset = -q1.zero_point;
    d.mul.input2_offset = -q2.zero_point;
    d.mul.output_offset = qo.zero_point;
    ref::QuantizeMultiplier(real, &d.mul.output_multiplier,
                            &d.mul.output_shift);
    d.mul.act_min = range.min;
    d.mul.act_max = range.max;
    return Status::Ok();
  }
  d.add = ref::MakeQuantizedAddParams(q1.scale, q1.zero_point, q2.scale,
                                      q2.zero_point, qo.scale, qo.zero_point,
                                      op == QuantizedBinaryOp::kSub);
  if (d.add.output_shift > 0 || !(qo.scale > 0)) {
    // LiteRT asserts this multiplier is below one.
    return ctx.Error("the output scale " + std::to_string(qo.scale) +
                     " is too small for the inputs' scales (" +
                     std::to_string(q1.scale) + ", " +
                     std::to_string(q2.scale) +
                     "): the rescaling multiplier must be below 1");
  }
  d.add.act_min = range.min;
  d.add.act_max = range.max;
  return Status::Ok();
}

Status QuantizedBinaryEval(OpContext& ctx, QuantizedBinaryOp op) {
  if (ctx.input(0).type == TensorType::UINT8) {
    Run<uint8_t>(ctx, op);
  } else {
    Run<int8_t>(ctx, op);
  }
  return Status::Ok();
}

}  // namespace k2l::runtime::kernels
