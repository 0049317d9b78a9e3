// QUANTIZE (float -> int8/uint8/int16, per tensor or per channel; and
// requantizing between integer types) and DEQUANTIZE (int8/uint8/int16,
// per tensor or per channel, and float16 -> float32).
#include "runtime/reference/quantize.h"

#include <algorithm>

#include "runtime/kernels/elementwise.h"
#include "runtime/kernels/register.h"
#include "runtime/kernels/util.h"
#include "runtime/reference/unary.h"

namespace k2l::runtime::kernels {

namespace {

using TT = TensorType;
namespace ref = reference;
constexpr int64_t kChunk = 1 << 14;

// Per-channel parameters laid out over [outer, channels, inner].
struct ChannelQuant {
  std::vector<float> scale;
  std::vector<int32_t> zero_point;
  int64_t outer = 1, channels = 1, inner = 1;
};

struct QuantizeData : OpData {
  bool per_channel = false;
  ChannelQuant channel;
  TensorQuant in{}, out{};
  int32_t multiplier = 0;  // requantize
  int shift = 0;
};

// Reads the per-channel quantization of `t` (which has more than one scale).
Result<ChannelQuant> ReadChannelQuant(const OpContext& ctx, const Tensor& t) {
  const Quantization& q = t.quant;
  int dim = q.quantized_dimension;
  if (dim < 0 || dim >= t.rank() ||
      t.dim(dim) != static_cast<int32_t>(q.scale.size())) {
    return ctx.Error("tensor '" + t.name + "' has " +
                     std::to_string(q.scale.size()) +
                     " scales for quantized dimension " + std::to_string(dim) +
                     " of shape " + ShapeString(t.shape));
  }
  if (q.zero_point.size() != q.scale.size() && q.zero_point.size() > 1) {
    return ctx.Error("tensor '" + t.name + "' has " +
                     std::to_string(q.zero_point.size()) + " zero points for " +
                     std::to_string(q.scale.size()) + " scales");
  }
  ChannelQuant c;
  c.scale = q.scale;
  for (size_t i = 0; i < q.scale.size(); ++i) {
    int64_t zp = q.zero_point.empty()       ? 0
                 : q.zero_point.size() == 1 ? q.zero_point[0]
                                            : q.zero_point[i];
    c.zero_point.push_back(static_cast<int32_t>(zp));
  }
  c.channels = t.dim(dim);
  for (int i = 0; i < dim; ++i) c.outer *= t.dim(i);
  for (int i = dim + 1; i < t.rank(); ++i) c.inner *= t.dim(i);
  return c;
}

// Calls f(T{}) for the integer storage type of t.
template <typename F>
void WithIntType(TensorType t, const F& f) {
  switch (t) {
    case TT::INT8:
      return f(int8_t{});
    case TT::UINT8:
      return f(uint8_t{});
    case TT::INT16:
      return f(int16_t{});
    default:
      return f(int32_t{});
  }
}

Status QuantizePrepare(OpContext& ctx) {
  K2L_RETURN_IF_ERROR(CheckArity(ctx, 1, 1, 1));
  const Tensor& in = ctx.input(0);
  const Tensor& out = ctx.output(0);
  auto& d = ctx.data<QuantizeData>();
  if (out.quant.empty()) {
    return ctx.Error("output '" + out.name +
                     "' has no quantization parameters to quantize with");
  }
  if (in.type == TT::FLOAT32) {
    K2L_RETURN_IF_ERROR(
        CheckType(ctx, out, "output", {TT::INT8, TT::UINT8, TT::INT16}));
    d.per_channel = out.quant.scale.size() > 1;
    if (d.per_channel) {
      K2L_ASSIGN_OR_RETURN(d.channel, ReadChannelQuant(ctx, out));
    } else {
      K2L_ASSIGN_OR_RETURN(d.out, PerTensorQuant(ctx, out, "output"));
    }
    return ctx.ResizeOutput(0, in.shape);
  }
  // Requantize: the pairs LiteRT's QUANTIZE takes.
  K2L_RETURN_IF_ERROR(
      CheckType(ctx, in, "input",
                {TT::FLOAT32, TT::INT8, TT::UINT8, TT::INT16, TT::INT32}));
  if (in.type == TT::INT16) {
    K2L_RETURN_IF_ERROR(
        CheckType(ctx, out, "output", {TT::INT8, TT::INT16, TT::INT32}));
  } else if (in.type == TT::INT32) {
    K2L_RETURN_IF_ERROR(CheckType(ctx, out, "output", {TT::INT8, TT::INT16}));
  } else {
    K2L_RETURN_IF_ERROR(
        CheckType(ctx, out, "output", {TT::INT8, TT::UINT8, TT::INT16}));
  }
  K2L_ASSIGN_OR_RETURN(d.in, PerTensorQuant(ctx, in, "input"));
  K2L_ASSIGN_OR_RETURN(d.out, PerTensorQuant(ctx, out, "output"));
  if (in.type == TT::INT16 && out.type == TT::INT16 &&
      (d.in.zero_point != 0 || d.out.zero_point != 0)) {
    return ctx.Error("int16 to int16 requantization needs zero points of 0");
  }
  ref::QuantizeMultiplier(static_cast<double>(d.in.scale) / d.out.scale,
                          &d.multiplier, &d.shift);
  return ctx.ResizeOutput(0, in.shape);
}

Status QuantizeEval(OpContext& ctx) {
  const Tensor& in = ctx.input(0);
  Tensor& out = ctx.output(0);
  const auto& d = ctx.data<QuantizeData>();
  const int64_t n = in.num_elements();
  if (in.type == TT::FLOAT32) {
    const float* x = in.data<float>();
    WithIntType(out.type, [&](auto tag) {
      using T = decltype(tag);
      T* y = out.mutable_data<T>();
      if (d.per_channel) {
        const ChannelQuant& c = d.channel;
        ref::PerChannelQuantize(x, y, c.outer, c.channels, c.inner,
                                c.scale.data(), c.zero_point.data());
        return;
      }
      // Split in units of 8 elements: LiteRT rounds whole blocks of 8 from
      // the tensor's start differently from its tail.
      ctx.ParallelFor((n + 7) / 8, kChunk / 8, [&](int64_t b, int64_t e) {
        const int64_t end = std::min(e * 8, n);
        ref::AffineQuantize(x + b * 8, y + b * 8, end - b * 8, d.out.scale,
                            d.out.zero_point);
      });
    });
    return Status::Ok();
  }
  WithIntType(in.type, [&](auto in_tag) {
    using In = decltype(in_tag);
    WithIntType(out.type, [&](auto out_tag) {
      using Out = decltype(out_tag);
      ref::Requantize(in.data<In>(), out.mutable_data<Out>(), n, d.multiplier,
                      d.shift, d.in.zero_point, d.out.zero_point);
    });
  });
  return Status::Ok();
}

Status DequantizePrepare(OpContext& ctx) {
  K2L_RETURN_IF_ERROR(CheckArity(ctx, 1, 1, 1));
  const Tensor& in = ctx.input(0);
  K2L_RETURN_IF_ERROR(CheckType(ctx, in, "input",
                                {TT::INT8, TT::UINT8, TT::INT16, TT::FLOAT16}));
  K2L_RETURN_IF_ERROR(CheckType(ctx, ctx.output(0), "output", {TT::FLOAT32}));
  auto& d = ctx.data<QuantizeData>();
  if (in.type != TT::FLOAT16) {
    d.per_channel = in.quant.scale.size() > 1;
    if (d.per_channel) {
      K2L_ASSIGN_OR_RETURN(d.channel, ReadChannelQuant(ctx, in));
    } else {
      K2L_ASSIGN_OR_RETURN(d.in, PerTensorQuant(ctx, in, "input"));
      if (in.type == TT::INT16 && d.in.zero_point != 0) {
        return ctx.Error("int16 input '" + in.name +
                         "' must have zero point 0 (it has " +
                         std::to_string(d.in.zero_point) + ")");
      }
    }
  }
  return ctx.ResizeOutput(0, in.shape);
}

Status DequantizeEval(OpContext& ctx) {
  const Tensor& in = ctx.input(0);
  float* y = ctx.output(0).mutable_data<float>();
  const auto& d = ctx.data<QuantizeData>();
  const int64_t n = in.num_elements();
  if (in.type == TT::FLOAT16) {
    const uint16_t* x = in.data<uint16_t>();
    ctx.ParallelFor(n, kChunk, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) y[i] = ref::HalfToFloat(x[i]);
    });
    return Status::Ok();
  }
  WithIntType(in.type, [&](auto tag) {
    using T = decltype(tag);
    const T* x = in.data<T>();
    if (d.per_channel) {
      const ChannelQuant& c = d.channel;
      ref::PerChannelDequantize(x, y, c.outer, c.channels, c.inner,
                                c.scale.data(), c.zero_point.data());
      return;
    }
    ctx.ParallelFor(n, kChunk, [&](int64_t b, int64_t e) {
      ref::Dequantize(x + b, y + b, e - b, d.in.scale, d.in.zero_point);
    });
  });
  return Status::Ok();
}

}  // namespace

Status RegisterQuantizeKernels(OpResolver& r) {
  using Op = fb::BuiltinOperator;
  // Later versions add int4/int2/float8 types, refused by Prepare.
  K2L_RETURN_IF_ERROR(
      r.Add({Op::QUANTIZE, 1, 6, QuantizePrepare, QuantizeEval}));
  K2L_RETURN_IF_ERROR(
      r.Add({Op::DEQUANTIZE, 1, 9, DequantizePrepare, DequantizeEval}));
  return Status::Ok();
}

}  // namespace k2l::runtime::kernels
