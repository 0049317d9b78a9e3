#include "frontend/keras/shared_lowering.h"

#include "frontend/keras/registry.h"

namespace k2l::keras {

using ir::OpKind;
using ir::ValueId;

Result<ValueId> Standardize(LayerContext& ctx, ValueId x,
                            const std::vector<int32_t>& axes, double epsilon) {
  K2L_ASSIGN_OR_RETURN(
      ValueId mean,
      ctx.Op(OpKind::kMean, {x, ctx.ConstInts(axes)}, ir::ReduceAttrs{true}));
  K2L_ASSIGN_OR_RETURN(ValueId sq,
                       ctx.Op(OpKind::kSquaredDifference, {x, mean}));
  K2L_ASSIGN_OR_RETURN(
      ValueId var,
      ctx.Op(OpKind::kMean, {sq, ctx.ConstInts(axes)}, ir::ReduceAttrs{true}));
  K2L_ASSIGN_OR_RETURN(
      ValueId ve,
      ctx.Op(OpKind::kAdd, {var, ctx.ConstFloat(static_cast<float>(epsilon))},
             ir::BinaryAttrs{}));
  K2L_ASSIGN_OR_RETURN(ValueId inv, ctx.Op(OpKind::kRsqrt, {ve}));
  K2L_ASSIGN_OR_RETURN(ValueId c,
                       ctx.Op(OpKind::kSub, {x, mean}, ir::BinaryAttrs{}));
  return ctx.Op(OpKind::kMul, {c, inv}, ir::BinaryAttrs{});
}

Result<ValueId> L2Normalize(LayerContext& ctx, ValueId x,
                            const std::vector<int32_t>& axes, double epsilon) {
  K2L_ASSIGN_OR_RETURN(ValueId sq, ctx.Op(OpKind::kSquare, {x}));
  K2L_ASSIGN_OR_RETURN(
      ValueId sum,
      ctx.Op(OpKind::kSum, {sq, ctx.ConstInts(axes)}, ir::ReduceAttrs{true}));
  K2L_ASSIGN_OR_RETURN(ValueId inv, ctx.Op(OpKind::kRsqrt, {sum}));
  K2L_ASSIGN_OR_RETURN(
      inv, ctx.Op(OpKind::kMinimum,
                  {inv, ctx.ConstFloat(static_cast<float>(1.0 / epsilon))}));
  return ctx.Op(OpKind::kMul, {x, inv}, ir::BinaryAttrs{});
}

Result<ValueId> LowerEmbeddingLookup(LayerContext& ctx, ValueId table,
                                     ValueId ids, bool mask_zero) {
  const ValueId raw = ids;
  const ir::DType dt = ctx.value(ids).dtype;
  if (dt != ir::DType::kInt32 && dt != ir::DType::kInt64) {
    // Keras casts non-integer ids to int32 (truncation), as CAST does.
    K2L_ASSIGN_OR_RETURN(
        ids, ctx.Op(OpKind::kCast, {ids}, ir::NoAttrs{}, ir::DType::kInt32));
  }
  K2L_ASSIGN_OR_RETURN(
      ValueId y, ctx.Op(OpKind::kGather, {table, ids}, ir::GatherAttrs{}));
  if (mask_zero) {
    // Later layers that take a mask see ids != 0 (Keras' compute_mask).
    ValueId zero = ir::kNoValue;
    switch (dt) {
      case ir::DType::kInt32:
        zero = ctx.ConstInts({0}, {});
        break;
      case ir::DType::kInt64:
        zero = ctx.Const(ir::TensorData::FromVector(ir::DType::kInt64, {},
                                                    std::vector<int64_t>{0}),
                         "zero");
        break;
      case ir::DType::kFloat32:
        zero = ctx.ConstFloat(0.0f);
        break;
      default:
        return ctx.Invalid("its ids are " + std::string(ir::DTypeName(dt)),
                           "Use int32, int64 or float32 ids");
    }
    K2L_ASSIGN_OR_RETURN(ValueId mask, ctx.Op(OpKind::kNotEqual, {raw, zero}));
    ctx.SetOutputMask(0, mask);
  }
  return y;
}

Result<ir::ValueId> RuntimeDims(LayerContext& ctx, ir::ValueId v, int begin,
                                int count) {
  K2L_ASSIGN_OR_RETURN(ir::ValueId shape, ctx.Op(ir::OpKind::kShape, {v}));
  return ctx.Op(ir::OpKind::kSlice,
                {shape, ctx.ConstInts({begin}), ctx.ConstInts({count})});
}

Result<ir::ValueId> RuntimeDim(LayerContext& ctx, ir::ValueId v, int axis) {
  K2L_ASSIGN_OR_RETURN(ir::ValueId shape, ctx.Op(ir::OpKind::kShape, {v}));
  return ctx.Op(ir::OpKind::kGather, {shape, ctx.ConstInts({axis}, {})},
                ir::GatherAttrs{0});
}

Result<ir::ValueId> RunSublayer(LayerContext& ctx, const std::string& cls,
                                const nlohmann::json& config,
                                const std::vector<std::string>& attrs,
                                const std::string& keras_name, ir::ValueId x) {
  const LayerInfo* info = DefaultRegistry().Find(cls);
  if (info == nullptr) {
    return Status::Internal("no converter for " + cls);
  }
  static const nlohmann::json kNoArgs = nlohmann::json::array();
  static const nlohmann::json kNoKwargs = nlohmann::json::object();
  LayerContext sub =
      ctx.Sublayer(config, cls, ctx.name() + "/" + keras_name, {x}, attrs,
                   kNoArgs, kNoKwargs, {}, keras_name);
  auto outs = info->convert(sub);
  if (!outs.ok()) return outs.status().WithContext(ctx.Describe());
  if (outs->empty()) return Status::Internal(cls + " gave no output");
  return outs->at(0);
}

Result<std::vector<ir::ValueId>> CountedLoop(
    LayerContext& ctx, const std::string& name, ir::ValueId count,
    const std::vector<ir::ValueId>& vars, const LoopBody& body) {
  ir::Graph& g = ctx.graph();
  std::vector<ir::ValueId> init = {ctx.ConstInts({0}, {}), count};
  init.insert(init.end(), vars.begin(), vars.end());
  const std::string base = g.FreshName(name);
  const int cond_index = g.AddSubgraph(base + "_cond");
  const int body_index = g.AddSubgraph(base + "_body");
  std::vector<ir::ValueId> cond_in, body_in;
  for (size_t k = 0; k < init.size(); ++k) {
    // Values of g may move as subgraphs add theirs: copy before adding.
    const ir::DType dt = g.value(init[k]).dtype;
    const ir::Shape sh = g.value(init[k]).shape;
    const std::string n = "v" + std::to_string(k);
    cond_in.push_back(g.subgraph(cond_index).AddInput(n, dt, sh));
    body_in.push_back(g.subgraph(body_index).AddInput(n, dt, sh));
  }
  {
    ir::Graph& cg = g.subgraph(cond_index);
    LayerContext c = ctx.ForGraph(cg);
    K2L_ASSIGN_OR_RETURN(ir::ValueId more,
                         c.Op(ir::OpKind::kLess, {cond_in[0], cond_in[1]}));
    cg.outputs().push_back({"continue", more});
  }
  {
    ir::Graph& bg = g.subgraph(body_index);
    LayerContext c = ctx.ForGraph(bg);
    const std::vector<ir::ValueId> in(body_in.begin() + 2, body_in.end());
    K2L_ASSIGN_OR_RETURN(auto next, body(c, body_in[0], body_in[1], in));
    if (next.size() != vars.size()) {
      return Status::Internal("a loop body gave " +
                              std::to_string(next.size()) + " values for " +
                              std::to_string(vars.size()) + " variables");
    }
    K2L_ASSIGN_OR_RETURN(
        ir::ValueId i1,
        c.Op(ir::OpKind::kAdd, {body_in[0], c.ConstInts({1}, {})},
             ir::BinaryAttrs{}));
    std::vector<ir::ValueId> out = {i1, body_in[1]};
    out.insert(out.end(), next.begin(), next.end());
    for (size_t k = 0; k < out.size(); ++k) {
      bg.outputs().push_back({"v" + std::to_string(k), out[k]});
    }
  }
  K2L_ASSIGN_OR_RETURN(auto res,
                       ctx.MultiOp(ir::OpKind::kWhile, init,
                                   ir::WhileAttrs{cond_index, body_index}));
  return std::vector<ir::ValueId>(res.begin() + 2, res.end());
}

}  // namespace k2l::keras
