// Unary math: EXP, LOG, ABS, NEG, SQRT, RSQRT, SQUARE, SIN, COS, FLOOR,
// CEIL, ROUND, SIGN, LOGICAL_NOT, ZEROS_LIKE and CAST, with the dtypes
// LiteRT's builtin kernels take (quantized forms are not implemented).
#include "runtime/reference/unary.h"

#include <cmath>
#include <cstring>

#include "runtime/kernels/elementwise.h"
#include "runtime/kernels/register.h"
#include "runtime/kernels/util.h"

namespace k2l::runtime::kernels {

namespace {

using TT = TensorType;
constexpr int64_t kChunk = 1 << 13;

Status UnaryPrepare(OpContext& ctx, std::initializer_list<TensorType> types) {
  K2L_RETURN_IF_ERROR(CheckArity(ctx, 1, 1, 1));
  const Tensor& in = ctx.input(0);
  K2L_RETURN_IF_ERROR(CheckType(ctx, in, "input", types));
  if (ctx.output(0).type != in.type) {
    return ctx.Error(std::string("output '") + ctx.output(0).name +
                     "' has type " + TypeName(ctx.output(0).type) +
                     " but the input has " + TypeName(in.type) +
                     " (corrupt model?)");
  }
  return ctx.ResizeOutput(0, in.shape);
}

template <typename T, typename F>
Status MapAs(OpContext& ctx, const F& f) {
  const T* x = ctx.input(0).data<T>();
  T* y = ctx.output(0).mutable_data<T>();
  ctx.ParallelFor(
      ctx.input(0).num_elements(), kChunk,
      [&](int64_t b, int64_t e) { reference::Map(x + b, y + b, e - b, f); });
  return Status::Ok();
}

// Float-only functions (the inputs' type was checked in Prepare).
template <float (*F)(float)>
Status FloatEval(OpContext& ctx) {
  return MapAs<float>(ctx, F);
}
float Log(float x) { return std::log(x); }
float Sqrt(float x) { return std::sqrt(x); }
float Rsqrt(float x) { return 1.f / std::sqrt(x); }
float Square(float x) { return x * x; }
float Sin(float x) { return std::sin(x); }
float Cos(float x) { return std::cos(x); }
float Floor(float x) { return std::floor(x); }
float Ceil(float x) { return std::ceil(x); }

// EXP on the approximation, compiled for the CPU's vector width.
K2L_VECTOR_CLONES void ExpLoop(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = reference::FastExp(x[i]);
}
Status ExpEval(OpContext& ctx) {
  const float* x = ctx.input(0).data<float>();
  float* y = ctx.output(0).mutable_data<float>();
  ctx.ParallelFor(ctx.input(0).num_elements(), kChunk,
                  [&](int64_t b, int64_t e) { ExpLoop(x + b, y + b, e - b); });
  return Status::Ok();
}

Status FloatPrepare(OpContext& ctx) { return UnaryPrepare(ctx, {TT::FLOAT32}); }

Status AbsPrepare(OpContext& ctx) {
  return UnaryPrepare(ctx, {TT::FLOAT32, TT::INT32});
}
Status AbsEval(OpContext& ctx) {
  if (ctx.input(0).type == TT::INT32)
    return MapAs<int32_t>(ctx, reference::Abs<int32_t>);
  return MapAs<float>(ctx, reference::Abs<float>);
}

Status NegPrepare(OpContext& ctx) {
  return UnaryPrepare(ctx,
                      {TT::FLOAT32, TT::INT8, TT::INT16, TT::INT32, TT::INT64});
}
Status NegEval(OpContext& ctx) {
  switch (ctx.input(0).type) {
    case TT::INT8:
      return MapAs<int8_t>(ctx, reference::Neg<int8_t>);
    case TT::INT16:
      return MapAs<int16_t>(ctx, reference::Neg<int16_t>);
    case TT::INT32:
      return MapAs<int32_t>(ctx, reference::Neg<int32_t>);
    case TT::INT64:
      return MapAs<int64_t>(ctx, reference::Neg<int64_t>);
    default:
      return MapAs<float>(ctx, reference::Neg<float>);
  }
}

Status SignPrepare(OpContext& ctx) {
  return UnaryPrepare(ctx, {TT::FLOAT32, TT::FLOAT64, TT::INT32});
}
Status SignEval(OpContext& ctx) {
  switch (ctx.input(0).type) {
    case TT::FLOAT64:
      return MapAs<double>(ctx, reference::Sign<double>);
    case TT::INT32:
      return MapAs<int32_t>(ctx, reference::Sign<int32_t>);
    default:
      return MapAs<float>(ctx, reference::Sign<float>);
  }
}

Status LogicalNotPrepare(OpContext& ctx) {
  return UnaryPrepare(ctx, {TT::BOOL});
}
Status LogicalNotEval(OpContext& ctx) {
  return MapAs<bool>(ctx, [](bool v) { return !v; });
}

Status ZerosLikePrepare(OpContext& ctx) {
  return UnaryPrepare(ctx, {TT::FLOAT32, TT::INT32, TT::INT64});
}
Status ZerosLikeEval(OpContext& ctx) {
  Tensor& out = ctx.output(0);
  if (out.bytes() > 0) std::memset(out.mutable_raw(), 0, out.bytes());
  return Status::Ok();
}

// --- CAST --------------------------------------------------------------------

// Storage tags for the 16-bit float types, converted through float.
struct Half {
  uint16_t bits;
};
struct BFloat {
  uint16_t bits;
};

template <typename T>
T Load(T v) {
  return v;
}
float Load(Half v) { return reference::HalfToFloat(v.bits); }
float Load(BFloat v) { return reference::BFloat16ToFloat(v.bits); }

template <typename To, typename V>
To Store(V v) {
  if constexpr (std::is_same_v<To, Half>) {
    return Half{reference::FloatToHalf(static_cast<float>(v))};
  } else if constexpr (std::is_same_v<To, BFloat>) {
    return BFloat{reference::FloatToBFloat16(static_cast<float>(v))};
  } else {
    return reference::CastValue<To>(v);
  }
}

const std::initializer_list<TensorType> kCastTypes = {
    TT::FLOAT32, TT::FLOAT64, TT::FLOAT16, TT::BFLOAT16, TT::INT8,
    TT::UINT8,   TT::INT16,   TT::UINT16,  TT::INT32,    TT::UINT32,
    TT::INT64,   TT::UINT64,  TT::BOOL};

// Calls f(T{}) with the C++ type stored for `t` (one of kCastTypes).
template <typename F>
void WithType(TensorType t, const F& f) {
  switch (t) {
    case TT::FLOAT32:
      return f(float{});
    case TT::FLOAT64:
      return f(double{});
    case TT::FLOAT16:
      return f(Half{});
    case TT::BFLOAT16:
      return f(BFloat{});
    case TT::INT8:
      return f(int8_t{});
    case TT::UINT8:
      return f(uint8_t{});
    case TT::INT16:
      return f(int16_t{});
    case TT::UINT16:
      return f(uint16_t{});
    case TT::INT32:
      return f(int32_t{});
    case TT::UINT32:
      return f(uint32_t{});
    case TT::INT64:
      return f(int64_t{});
    case TT::UINT64:
      return f(uint64_t{});
    default:
      return f(bool{});
  }
}

Status CastPrepare(OpContext& ctx) {
  K2L_RETURN_IF_ERROR(CheckArity(ctx, 1, 1, 1));
  const Tensor& in = ctx.input(0);
  K2L_RETURN_IF_ERROR(CheckType(ctx, in, "input", kCastTypes));
  K2L_RETURN_IF_ERROR(CheckType(ctx, ctx.output(0), "output", kCastTypes));
  return ctx.ResizeOutput(0, in.shape);
}

Status CastEval(OpContext& ctx) {
  const Tensor& in = ctx.input(0);
  Tensor& out = ctx.output(0);
  WithType(in.type, [&](auto from) {
    using From = decltype(from);
    WithType(out.type, [&](auto to) {
      using To = decltype(to);
      const From* x = in.data<From>();
      To* y = out.mutable_data<To>();
      ctx.ParallelFor(in.num_elements(), kChunk, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) y[i] = Store<To>(Load(x[i]));
      });
    });
  });
  return Status::Ok();
}

}  // namespace

Status RegisterUnaryKernels(OpResolver& r) {
  using Op = fb::BuiltinOperator;
  struct Entry {
    Op code;
    int max_version;
    Status (*prepare)(OpContext&);
    Status (*eval)(OpContext&);
  };
  // Versions above those of the float kernels add quantized or 16-bit
  // float types, which Prepare refuses by name.
  const Entry kEntries[] = {
      {Op::EXP, 2, FloatPrepare, ExpEval},
      {Op::LOG, 2, FloatPrepare, FloatEval<Log>},
      {Op::SQRT, 2, FloatPrepare, FloatEval<Sqrt>},
      {Op::RSQRT, 3, FloatPrepare, FloatEval<Rsqrt>},
      {Op::SQUARE, 1, FloatPrepare, FloatEval<Square>},
      {Op::SIN, 2, FloatPrepare, FloatEval<Sin>},
      {Op::COS, 2, FloatPrepare, FloatEval<Cos>},
      {Op::FLOOR, 1, FloatPrepare, FloatEval<Floor>},
      {Op::CEIL, 1, FloatPrepare, FloatEval<Ceil>},
      {Op::ROUND, 1, FloatPrepare, FloatEval<reference::RoundHalfEven>},
      {Op::ABS, 5, AbsPrepare, AbsEval},
      {Op::NEG, 1, NegPrepare, NegEval},
      {Op::SIGN, 2, SignPrepare, SignEval},
      {Op::LOGICAL_NOT, 1, LogicalNotPrepare, LogicalNotEval},
      {Op::ZEROS_LIKE, 1, ZerosLikePrepare, ZerosLikeEval},
      {Op::CAST, 9, CastPrepare, CastEval},
  };
  for (const Entry& e : kEntries)
    K2L_RETURN_IF_ERROR(r.Add({e.code, 1, e.max_version, e.prepare, e.eval}));
  return Status::Ok();
}

}  // namespace k2l::runtime::kernels
