// keras.ops calls in Functional models. Keras serialises each call as an
// operation of module keras.src.ops.*; they are registered as "ops.<Class>"
// because several share a class name with a layer of other semantics
// ("Add", "Reshape"). Arguments may be tensors or numbers (ops.add(x, 1.0)).
#include <algorithm>

#include "frontend/keras/registry.h"

namespace k2l::keras {

namespace {

using ir::OpKind;
using ir::ValueId;
using Outs = Result<std::vector<ValueId>>;

// The call's first tensor argument, whose dtype numeric constants beside it
// take (numpy-style promotion of Python scalars).
ValueId FirstTensor(LayerContext& ctx) {
  return ctx.num_inputs() ? ctx.input(0) : ir::kNoValue;
}

Outs Binary(LayerContext& ctx, OpKind kind) {
  ValueId like = FirstTensor(ctx);
  K2L_ASSIGN_OR_RETURN(ValueId a, ctx.Arg(0, like));
  K2L_ASSIGN_OR_RETURN(ValueId b, ctx.Arg(1, like));
  if (ctx.value(a).dtype != ctx.value(b).dtype) {
    return {ctx.Invalid("its operands have dtypes " +
                            std::string(ir::DTypeName(ctx.value(a).dtype)) +
                            " and " +
                            std::string(ir::DTypeName(ctx.value(b).dtype)),
                        "Cast the operands to one dtype with keras.ops.cast")};
  }
  ir::Attrs attrs = ir::NoAttrs{};
  if (kind == OpKind::kAdd || kind == OpKind::kSub || kind == OpKind::kMul ||
      kind == OpKind::kDiv) {
    attrs = ir::BinaryAttrs{};
  }
  K2L_ASSIGN_OR_RETURN(ValueId y, ctx.Op(kind, {a, b}, attrs));
  return std::vector<ValueId>{y};
}

Outs Unary(LayerContext& ctx, OpKind kind) {
  K2L_ASSIGN_OR_RETURN(ValueId x, ctx.Arg(0));
  if (!ir::IsFloat(ctx.value(x).dtype) && kind != OpKind::kAbs &&
      kind != OpKind::kNeg && kind != OpKind::kSquare) {
    return {ctx.Invalid("its input is " +
                            std::string(ir::DTypeName(ctx.value(x).dtype)) +
                            ", where Keras would compute in float",
                        "Cast the input to float32 first")};
  }
  K2L_ASSIGN_OR_RETURN(ValueId y, ctx.Op(kind, {x}));
  return std::vector<ValueId>{y};
}

// A config "axis": null (all axes), an int or a list, normalised.
Result<std::vector<int32_t>> AxesOf(LayerContext& ctx, size_t rank) {
  std::vector<int64_t> raw;
  if (!ctx.Has("axis")) {
    for (size_t i = 0; i < rank; ++i) raw.push_back(static_cast<int64_t>(i));
  } else if (ctx.config()["axis"].is_array()) {
    K2L_ASSIGN_OR_RETURN(raw, ctx.IntList("axis"));
  } else {
    K2L_ASSIGN_OR_RETURN(int64_t a, ctx.Int("axis"));
    raw = {a};
  }
  std::vector<int32_t> out;
  for (int64_t a : raw) {
    int64_t n = a < 0 ? a + static_cast<int64_t>(rank) : a;
    if (n < 0 || n >= static_cast<int64_t>(rank)) {
      return ctx.Invalid("axis " + std::to_string(a) +
                             " is out of range for rank " +
                             std::to_string(rank),
                         "Use an axis within the input's rank");
    }
    out.push_back(static_cast<int32_t>(n));
  }
  return out;
}

Outs Reduce(LayerContext& ctx, OpKind kind) {
  K2L_ASSIGN_OR_RETURN(ValueId x, ctx.Arg(0));
  K2L_ASSIGN_OR_RETURN(auto axes, AxesOf(ctx, ctx.rank(x)));
  K2L_ASSIGN_OR_RETURN(bool keep, ctx.BoolOr("keepdims", false));
  if (ctx.Has("initial")) {
    return {
        ctx.Invalid("'initial' is set", "Apply the initial value separately")};
  }
  K2L_ASSIGN_OR_RETURN(
      ValueId y, ctx.Op(kind, {x, ctx.ConstInts(axes)}, ir::ReduceAttrs{keep}));
  return std::vector<ValueId>{y};
}

Outs Matmul(LayerContext& ctx) {
  K2L_ASSIGN_OR_RETURN(ValueId a, ctx.Arg(0, FirstTensor(ctx)));
  K2L_ASSIGN_OR_RETURN(ValueId b, ctx.Arg(1, FirstTensor(ctx)));
  if (ctx.rank(a) < 2 || ctx.rank(b) < 2) {
    return {ctx.Invalid(
        "matmul of a vector is not supported",
        "Expand the vector to a matrix with keras.ops.expand_dims")};
  }
  K2L_ASSIGN_OR_RETURN(
      ValueId y, ctx.Op(OpKind::kBatchMatMul, {a, b}, ir::BatchMatMulAttrs{}));
  return std::vector<ValueId>{y};
}

Outs Transpose(LayerContext& ctx) {
  K2L_ASSIGN_OR_RETURN(ValueId x, ctx.Arg(0));
  size_t rank = ctx.rank(x);
  std::vector<int32_t> perm;
  if (ctx.Has("axes")) {
    K2L_ASSIGN_OR_RETURN(auto axes, ctx.IntList("axes"));
    for (int64_t a : axes) {
      perm.push_back(
          static_cast<int32_t>(a < 0 ? a + static_cast<int64_t>(rank) : a));
    }
  } else {
    for (size_t i = rank; i-- > 0;) perm.push_back(static_cast<int32_t>(i));
  }
  K2L_ASSIGN_OR_RETURN(ValueId y,
                       ctx.Op(OpKind::kTranspose, {x, ctx.ConstInts(perm)}));
  return std::vector<ValueId>{y};
}

Outs Reshape(LayerContext& ctx) {
  K2L_ASSIGN_OR_RETURN(ValueId x, ctx.Arg(0));
  K2L_ASSIGN_OR_RETURN(auto shape, ctx.IntList("newshape"));
  std::vector<int32_t> s(shape.begin(), shape.end());
  K2L_ASSIGN_OR_RETURN(ValueId y,
                       ctx.Op(OpKind::kReshape, {x, ctx.ConstInts(s)}));
  return std::vector<ValueId>{y};
}

Outs ExpandDims(LayerContext& ctx) {
  K2L_ASSIGN_OR_RETURN(ValueId x, ctx.Arg(0));
  K2L_ASSIGN_OR_RETURN(int64_t axis, ctx.Int("axis"));
  K2L_ASSIGN_OR_RETURN(
      ValueId y, ctx.Op(OpKind::kExpandDims,
                        {x, ctx.ConstInts({static_cast<int32_t>(axis)})}));
  return std::vector<ValueId>{y};
}

Outs Squeeze(LayerContext& ctx) {
  K2L_ASSIGN_OR_RETURN(ValueId x, ctx.Arg(0));
  ir::SqueezeAttrs a;
  if (ctx.Has("axis")) {
    K2L_ASSIGN_OR_RETURN(auto axes, AxesOf(ctx, ctx.rank(x)));
    a.axes.assign(axes.begin(), axes.end());
  }
  K2L_ASSIGN_OR_RETURN(ValueId y, ctx.Op(OpKind::kSqueeze, {x}, a));
  return std::vector<ValueId>{y};
}

Outs Concatenate(LayerContext& ctx) {
  K2L_ASSIGN_OR_RETURN(int64_t axis, ctx.IntOr("axis", 0));
  if (ctx.num_inputs() == 0) {
    return {ctx.Invalid("it has no tensor inputs", "Concatenate tensors")};
  }
  K2L_ASSIGN_OR_RETURN(ValueId y,
                       ctx.Op(OpKind::kConcatenation, ctx.inputs(),
                              ir::ConcatAttrs{static_cast<int>(axis)}));
  return std::vector<ValueId>{y};
}

Outs Cast(LayerContext& ctx) {
  K2L_ASSIGN_OR_RETURN(ValueId x, ctx.Arg(0));
  K2L_ASSIGN_OR_RETURN(
      std::string dt,
      ctx.Choice("dtype", {"float32", "int32", "bool"}, "float32"));
  ir::DType to = dt == "int32"  ? ir::DType::kInt32
                 : dt == "bool" ? ir::DType::kBool
                                : ir::DType::kFloat32;
  K2L_ASSIGN_OR_RETURN(ValueId y,
                       ctx.Op(OpKind::kCast, {x}, ir::NoAttrs{}, to));
  return std::vector<ValueId>{y};
}

// ops.pad(x, pad_width, mode="constant", constant_values=None): PAD when
// the border is zeros, PADV2 for another constant (e.g. -inf before a max
// pool). pad_width holds one [before, after] pair per axis, or one pair for
// all of them.
Outs PadOp(LayerContext& ctx) {
  K2L_ASSIGN_OR_RETURN(ValueId x, ctx.Arg(0));
  K2L_ASSIGN_OR_RETURN(std::string mode,
                       ctx.Choice("mode", {"constant"}, "constant"));
  (void)mode;
  const size_t rank = ctx.rank(x);
  const nlohmann::json& pw = ctx.config().value("pad_width", nlohmann::json());
  auto bad = [&]() {
    return ctx.Invalid("its pad_width is " + pw.dump() + ", not one [before, "
                       "after] pair per axis of its rank-" +
                           std::to_string(rank) + " input",
                       "Give one non-negative pair per axis, or one pair "
                       "for all axes");
  };
  if (!pw.is_array() || (pw.size() != 1 && pw.size() != rank)) return bad();
  std::vector<int32_t> pads;
  for (size_t i = 0; i < rank; ++i) {
    const nlohmann::json& p = pw[pw.size() == 1 ? 0 : i];
    if (!p.is_array() || p.size() != 2 || !p[0].is_number_integer() ||
        !p[1].is_number_integer() || p[0].get<int64_t>() < 0 ||
        p[1].get<int64_t>() < 0) {
      return bad();
    }
    pads.push_back(p[0].get<int32_t>());
    pads.push_back(p[1].get<int32_t>());
  }
  nlohmann::json value;
  const nlohmann::json& kw = ctx.kwargs();
  if (kw.is_object() && kw.contains("constant_values")) {
    value = kw["constant_values"];
  } else if (ctx.args().is_array() && ctx.args().size() > 1) {
    value = ctx.args()[1];
  }
  const ValueId paddings =
      ctx.ConstInts(pads, {static_cast<int64_t>(rank), 2});
  if (value.is_null() || (value.is_number() && value.get<double>() == 0.0)) {
    K2L_ASSIGN_OR_RETURN(ValueId y, ctx.Op(OpKind::kPad, {x, paddings}));
    return std::vector<ValueId>{y};
  }
  if (!value.is_number() || ctx.value(x).dtype != ir::DType::kFloat32) {
    return ctx.Invalid("it pads a " +
                           std::string(ir::DTypeName(ctx.value(x).dtype)) +
                           " tensor with " + value.dump(),
                       "Pad float32 tensors with a number (or zeros)");
  }
  K2L_ASSIGN_OR_RETURN(
      ValueId y,
      ctx.Op(OpKind::kPadV2,
             {x, paddings, ctx.ConstFloat(static_cast<float>(
                               value.get<double>()))}));
  return std::vector<ValueId>{y};
}

Outs Where(LayerContext& ctx) {
  if (ctx.num_args() != 3) {
    return {
        ctx.Invalid("where() with one argument (the indices of non-zero "
                    "entries) has a data-dependent shape",
                    "Use where(condition, x, y)")};
  }
  K2L_ASSIGN_OR_RETURN(ValueId c, ctx.Arg(0));
  if (ctx.value(c).dtype != ir::DType::kBool) {
    return {
        ctx.Invalid("its condition is not bool", "Pass a comparison result")};
  }
  // The branches' constants take the dtype of the first tensor branch.
  ValueId like = ctx.num_inputs() > 1 ? ctx.input(1) : ir::kNoValue;
  K2L_ASSIGN_OR_RETURN(ValueId x, ctx.Arg(1, like));
  K2L_ASSIGN_OR_RETURN(ValueId y, ctx.Arg(2, like));
  K2L_ASSIGN_OR_RETURN(ValueId out, ctx.Op(OpKind::kSelectV2, {c, x, y}));
  return std::vector<ValueId>{out};
}

Outs Take(LayerContext& ctx) {
  K2L_ASSIGN_OR_RETURN(ValueId x, ctx.Arg(0));
  if (!ctx.Has("axis")) {
    return {ctx.Invalid("take() without an axis flattens its input first",
                        "Pass an axis")};
  }
  K2L_ASSIGN_OR_RETURN(auto axes, AxesOf(ctx, ctx.rank(x)));
  int axis = axes[0];
  ValueId idx;
  if (ctx.args()[1].is_object()) {
    K2L_ASSIGN_OR_RETURN(idx, ctx.Arg(1));
    ir::DType dt = ctx.value(idx).dtype;
    if (dt != ir::DType::kInt32 && dt != ir::DType::kInt64) {
      K2L_ASSIGN_OR_RETURN(
          idx, ctx.Op(OpKind::kCast, {idx}, ir::NoAttrs{}, ir::DType::kInt32));
    }
  } else {
    // Constant indices: negative ones wrap, as in numpy.
    int64_t n = ctx.shape(x)[axis];
    std::vector<int32_t> v;
    const auto& j = ctx.args()[1];
    std::vector<nlohmann::json> items =
        j.is_array() ? std::vector<nlohmann::json>(j.begin(), j.end())
                     : std::vector<nlohmann::json>{j};
    for (const auto& e : items) {
      if (!e.is_number_integer()) {
        return {ctx.Invalid("its indices " + j.dump() + " are not integers",
                            "Pass integer indices")};
      }
      int64_t k = e.get<int64_t>();
      if (k < 0) {
        if (n == ir::kDynamic) {
          return {ctx.Invalid("a negative index on a dynamic axis",
                              "Use non-negative indices")};
        }
        k += n;
      }
      v.push_back(static_cast<int32_t>(k));
    }
    idx = j.is_array() ? ctx.ConstInts(v) : ctx.ConstInts(v, {});
  }
  K2L_ASSIGN_OR_RETURN(
      ValueId y, ctx.Op(OpKind::kGather, {x, idx}, ir::GatherAttrs{axis, 0}));
  return std::vector<ValueId>{y};
}

Outs Split(LayerContext& ctx) {
  K2L_ASSIGN_OR_RETURN(ValueId x, ctx.Arg(0));
  K2L_ASSIGN_OR_RETURN(auto axes, AxesOf(ctx, ctx.rank(x)));
  const int axis = axes[0];
  const nlohmann::json& spec =
      ctx.config().value("indices_or_sections", nlohmann::json());
  if (spec.is_number_integer()) {
    K2L_ASSIGN_OR_RETURN(int64_t n, ctx.Int("indices_or_sections"));
    return ctx.MultiOp(OpKind::kSplit, {ctx.ConstInts({axis}), x},
                       ir::SplitAttrs{static_cast<int>(n)});
  }
  // Split at indices: one SLICE per piece, the last one to the end.
  K2L_ASSIGN_OR_RETURN(auto cuts, ctx.IntList("indices_or_sections"));
  const ir::Shape xs = ctx.shape(x);
  const size_t rank = xs.size();
  std::vector<ValueId> outs;
  int64_t from = 0;
  for (size_t k = 0; k <= cuts.size(); ++k) {
    int64_t to = k < cuts.size() ? cuts[k] : -1;
    if (k < cuts.size() &&
        (to < from || (xs[axis] != ir::kDynamic && to > xs[axis]))) {
      return {ctx.Invalid("its split indices " +
                              ctx.config()["indices_or_sections"].dump() +
                              " are not increasing within the axis of size " +
                              std::to_string(xs[axis]),
                          "Pass increasing indices within the axis")};
    }
    std::vector<int32_t> begin(rank, 0), size(rank, -1);
    begin[axis] = static_cast<int32_t>(from);
    size[axis] = k < cuts.size() ? static_cast<int32_t>(to - from) : -1;
    K2L_ASSIGN_OR_RETURN(
        ValueId piece,
        ctx.Op(OpKind::kSlice, {x, ctx.ConstInts(begin), ctx.ConstInts(size)}));
    outs.push_back(piece);
    from = to;
  }
  return outs;
}

// x[key] with numpy basic indexing: slices, integers, None and Ellipsis,
// as one STRIDED_SLICE plus EXPAND_DIMS for the new axes.
Outs GetItem(LayerContext& ctx) {
  K2L_ASSIGN_OR_RETURN(ValueId x, ctx.Arg(0));
  if (ctx.num_args() != 2) {
    return {ctx.Invalid("it has " + std::to_string(ctx.num_args()) +
                            " arguments, expected a tensor and a key",
                        "Index the tensor with one key")};
  }
  const nlohmann::json& raw = ctx.args()[1];
  std::vector<nlohmann::json> key;
  if (raw.is_array()) {
    key.assign(raw.begin(), raw.end());
  } else {
    key.push_back(raw);
  }
  auto kind_of = [](const nlohmann::json& k) -> std::string {
    if (k.is_null()) return "newaxis";
    if (k.is_number_integer()) return "int";
    if (k.is_object()) return k.value("class_name", "");
    return "other";
  };
  const size_t rank = ctx.rank(x);
  size_t consumed = 0, ellipses = 0;
  for (const auto& k : key) {
    std::string kind = kind_of(k);
    if (kind == "int" || kind == "__slice__") {
      ++consumed;
    } else if (kind == "__ellipsis__") {
      ++ellipses;
    } else if (kind != "newaxis") {
      return {ctx.Invalid("its index " + k.dump() +
                              " is not a slice, an integer, None or "
                              "Ellipsis (tensor and boolean indices are "
                              "not supported)",
                          "Use keras.ops.take for gathers, or basic "
                          "slicing")};
    }
  }
  if (ellipses > 1 || consumed > rank) {
    return {ctx.Invalid("its index " + raw.dump() +
                            " does not fit a tensor "
                            "of rank " +
                            std::to_string(rank),
                        "Use at most one Ellipsis and one index per dim")};
  }
  std::vector<int32_t> begin, end, strides;
  ir::StridedSliceAttrs a;
  std::vector<int> new_axes;  // positions in the output
  int out_pos = 0;
  size_t dim = 0;
  auto full = [&]() {
    a.begin_mask |= 1 << dim;
    a.end_mask |= 1 << dim;
    begin.push_back(0);
    end.push_back(0);
    strides.push_back(1);
    ++dim;
    ++out_pos;
  };
  for (const auto& k : key) {
    std::string kind = kind_of(k);
    if (kind == "__ellipsis__") {
      for (size_t n = rank - consumed; n > 0; --n) full();
    } else if (kind == "newaxis") {
      new_axes.push_back(out_pos++);
    } else if (kind == "int") {
      int64_t i = k.get<int64_t>();
      const int64_t extent = ctx.shape(x)[dim];
      if (extent != ir::kDynamic && (i >= extent || i < -extent)) {
        return {ctx.Invalid(
            "its index " + std::to_string(i) + " is out of range for dim " +
                std::to_string(dim) + " of size " + std::to_string(extent),
            "Index within the dim")};
      }
      a.shrink_axis_mask |= 1 << dim;
      begin.push_back(static_cast<int32_t>(i));
      end.push_back(static_cast<int32_t>(i + 1));
      strides.push_back(1);
      ++dim;
    } else {  // __slice__
      const nlohmann::json& c = k.value("config", nlohmann::json::object());
      auto field = [&](const char* f) -> std::optional<int64_t> {
        if (!c.contains(f) || c[f].is_null()) return std::nullopt;
        return c[f].get<int64_t>();
      };
      auto start = field("start"), stop = field("stop"), step = field("step");
      int64_t st = step.value_or(1);
      if (st == 0) {
        return {ctx.Invalid("its slice step is 0", "Use a non-zero step")};
      }
      if (!start) a.begin_mask |= 1 << dim;
      if (!stop) a.end_mask |= 1 << dim;
      begin.push_back(static_cast<int32_t>(start.value_or(0)));
      end.push_back(static_cast<int32_t>(stop.value_or(0)));
      strides.push_back(static_cast<int32_t>(st));
      ++dim;
      ++out_pos;
    }
  }
  while (dim < rank) full();
  K2L_ASSIGN_OR_RETURN(ValueId y,
                       ctx.Op(OpKind::kStridedSlice,
                              {x, ctx.ConstInts(begin), ctx.ConstInts(end),
                               ctx.ConstInts(strides)},
                              a));
  for (int pos : new_axes) {
    K2L_ASSIGN_OR_RETURN(
        y, ctx.Op(OpKind::kExpandDims, {y, ctx.ConstInts({pos}, {})}));
  }
  return std::vector<ValueId>{y};
}

#define K2L_BINARY(Name, kind) \
  Outs Name(LayerContext& c) { return Binary(c, OpKind::kind); }
#define K2L_UNARY(Name, kind) \
  Outs Name(LayerContext& c) { return Unary(c, OpKind::kind); }
#define K2L_REDUCE(Name, kind) \
  Outs Name(LayerContext& c) { return Reduce(c, OpKind::kind); }
K2L_BINARY(AddOp, kAdd)
K2L_BINARY(SubtractOp, kSub)
K2L_BINARY(MultiplyOp, kMul)
K2L_BINARY(DivideOp, kDiv)
K2L_BINARY(MaximumOp, kMaximum)
K2L_BINARY(MinimumOp, kMinimum)
K2L_BINARY(PowerOp, kPow)
K2L_BINARY(GreaterOp, kGreater)
K2L_BINARY(GreaterEqualOp, kGreaterEqual)
K2L_BINARY(LessOp, kLess)
K2L_BINARY(NotEqualOp, kNotEqual)
K2L_BINARY(LogicalAndOp, kLogicalAnd)
K2L_UNARY(SqrtOp, kSqrt)
K2L_UNARY(RsqrtOp, kRsqrt)
K2L_UNARY(ExpOp, kExp)
K2L_UNARY(LogOp, kLog)
K2L_UNARY(AbsOp, kAbs)
K2L_UNARY(NegOp, kNeg)
K2L_UNARY(SquareOp, kSquare)
K2L_REDUCE(MeanOp, kMean)
K2L_REDUCE(SumOp, kSum)
K2L_REDUCE(MaxOp, kReduceMax)
K2L_REDUCE(MinOp, kReduceMin)
#undef K2L_BINARY
#undef K2L_UNARY
#undef K2L_REDUCE

// any(x): true where some element along the axes is non-zero.
Outs Any(LayerContext& ctx) {
  K2L_ASSIGN_OR_RETURN(ValueId x, ctx.Arg(0));
  if (ctx.value(x).dtype != ir::DType::kBool) {
    ValueId zero = ctx.value(x).dtype == ir::DType::kInt32
                       ? ctx.ConstInts({0}, {})
                       : ctx.ConstFloat(0.0f);
    if (ctx.value(zero).dtype != ctx.value(x).dtype) {
      return {ctx.Invalid(
          "its input is " + std::string(ir::DTypeName(ctx.value(x).dtype)),
          "Pass a bool, int32 or float32 tensor")};
    }
    K2L_ASSIGN_OR_RETURN(x, ctx.Op(OpKind::kNotEqual, {x, zero}));
  }
  K2L_ASSIGN_OR_RETURN(auto axes, AxesOf(ctx, ctx.rank(x)));
  K2L_ASSIGN_OR_RETURN(bool keep, ctx.BoolOr("keepdims", false));
  K2L_ASSIGN_OR_RETURN(ValueId y,
                       ctx.Op(OpKind::kReduceAny, {x, ctx.ConstInts(axes)},
                              ir::ReduceAttrs{keep}));
  return std::vector<ValueId>{y};
}

}  // namespace

Status RegisterKerasOps(Registry& r) {
  struct Row {
    const char* name;
    LayerConverter fn;
    const char* ops;
  };
  const Row rows[] = {
      {"Add", AddOp, "ADD"},
      {"Subtract", SubtractOp, "SUB"},
      {"Multiply", MultiplyOp, "MUL"},
      {"Divide", DivideOp, "DIV"},
      {"TrueDivide", DivideOp, "DIV"},
      {"Maximum", MaximumOp, "MAXIMUM"},
      {"Minimum", MinimumOp, "MINIMUM"},
      {"Power", PowerOp, "POW"},
      {"Greater", GreaterOp, "GREATER"},
      {"GreaterEqual", GreaterEqualOp, "GREATER_EQUAL"},
      {"Less", LessOp, "LESS"},
      {"NotEqual", NotEqualOp, "NOT_EQUAL"},
      {"LogicalAnd", LogicalAndOp, "LOGICAL_AND"},
      {"Any", Any, "REDUCE_ANY"},
      {"Sqrt", SqrtOp, "SQRT"},
      {"Rsqrt", RsqrtOp, "RSQRT"},
      {"Exp", ExpOp, "EXP"},
      {"Log", LogOp, "LOG"},
      {"Absolute", AbsOp, "ABS"},
      {"Negative", NegOp, "NEG"},
      {"Square", SquareOp, "SQUARE"},
      {"Mean", MeanOp, "MEAN"},
      {"Sum", SumOp, "SUM"},
      {"Max", MaxOp, "REDUCE_MAX"},
      {"Min", MinOp, "REDUCE_MIN"},
      {"Matmul", Matmul, "BATCH_MATMUL"},
      {"Transpose", Transpose, "TRANSPOSE"},
      {"Reshape", Reshape, "RESHAPE"},
      {"ExpandDims", ExpandDims, "EXPAND_DIMS"},
      {"Squeeze", Squeeze, "SQUEEZE"},
      {"Concatenate", Concatenate, "CONCATENATION"},
      {"Cast", Cast, "CAST"},
      {"Where", Where, "SELECT_V2"},
      {"Pad", PadOp, "PAD, or PADV2 for a non-zero constant"},
      {"Take", Take, "GATHER"},
      {"Split", Split, "SPLIT, or SLICE per piece at explicit indices"},
      {"GetItem", GetItem, "STRIDED_SLICE, EXPAND_DIMS"},
  };
  for (const Row& row : rows) {
    K2L_RETURN_IF_ERROR(
        r.Register(std::string("ops.") + row.name, row.fn, row.ops));
  }
  return Status::Ok();
}

}  // namespace k2l::keras
