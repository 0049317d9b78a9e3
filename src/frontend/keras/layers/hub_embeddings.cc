// Embeddings of language models: keras.layers.ReversibleEmbedding (also
// Keras-Hub's subclass of it), and Keras-Hub's PositionEmbedding and
// TokenAndPositionEmbedding.
//
// ReversibleEmbedding is usually called twice in one graph: forward (ids to
// vectors, a GATHER) and with reverse=True (vectors to logits over the
// vocabulary, x @ embeddings^T). Both calls read the same weights; the
// constant deduplication pass keeps one copy of a tied table.
#include <algorithm>
#include <cmath>

#include "frontend/keras/attention_lowering.h"
#include "frontend/keras/registry.h"
#include "frontend/keras/shared_lowering.h"
#include "frontend/keras/weight_layout.h"

namespace k2l::keras {

namespace {

using ir::OpKind;
using ir::ValueId;
using nlohmann::json;

// The rows [start, start + T) of the position table, where T is the length
// of axis -2 of `like` ([..., T, F]), as [T, F]. Keras slices with
// ops.slice, which on JAX (lax.dynamic_slice) clamps the start so that the
// rows fit: start becomes min(max(start, 0), L - T).
Result<ValueId> PositionRows(LayerContext& ctx, const ir::TensorData& table,
                             ValueId like, int64_t start) {
  const int64_t len = table.shape()[0], feat = table.shape()[1];
  const ir::Shape s = ctx.shape(like);
  if (s.size() < 2) {
    return ctx.Invalid("its input has shape " + ir::ShapeToString(s) +
                           "; position embeddings need [batch, ..., sequence, "
                           "features]",
                       "Call it on a tensor of rank 3 such as the token "
                       "embeddings");
  }
  if (s.back() != ir::kDynamic && s.back() != feat) {
    return ctx.Invalid("its input has " + std::to_string(s.back()) +
                           " features but its position table has " +
                           std::to_string(feat),
                       "The weights file does not match the model; re-save it");
  }
  const int64_t t = s[s.size() - 2];
  start = std::max<int64_t>(start, 0);
  if (t != ir::kDynamic) {
    if (t > len) {
      return ctx.Invalid("its input has " + std::to_string(t) +
                             " positions but its sequence_length is " +
                             std::to_string(len),
                         "Give the model's Input at most " +
                             std::to_string(len) + " positions");
    }
    const int64_t b = std::min(start, len - t);
    auto all = table.as<float>();
    std::vector<float> rows(all.begin() + b * feat,
                            all.begin() + (b + t) * feat);
    return ctx.ConstFloats(rows, {t, feat});
  }
  ValueId table_v = ctx.Const(table, "position_embeddings");
  const int rank = static_cast<int>(s.size());
  K2L_ASSIGN_OR_RETURN(ValueId tl, RuntimeDims(ctx, like, rank - 2, 1));
  K2L_ASSIGN_OR_RETURN(ValueId size,
                       ctx.Op(OpKind::kConcatenation,
                              {tl, ctx.ConstInts({static_cast<int32_t>(feat)})},
                              ir::ConcatAttrs{0}));
  ValueId begin = ctx.ConstInts({0, 0});
  if (start > 0) {
    // min(start, L - T), known only at run time.
    K2L_ASSIGN_OR_RETURN(
        ValueId room,
        ctx.Op(OpKind::kSub, {ctx.ConstInts({static_cast<int32_t>(len)}), tl},
               ir::BinaryAttrs{}));
    K2L_ASSIGN_OR_RETURN(
        ValueId row,
        ctx.Op(OpKind::kMinimum,
               {ctx.ConstInts({static_cast<int32_t>(start)}), room}));
    K2L_ASSIGN_OR_RETURN(
        begin, ctx.Op(OpKind::kConcatenation, {row, ctx.ConstInts({0})},
                      ir::ConcatAttrs{0}));
  }
  return ctx.Op(OpKind::kSlice, {table_v, begin, size});
}

// The constant start_index of a position-embedding call (0 if absent).
// A tensor start_index or explicit positions are refused.
Result<int64_t> StartIndex(LayerContext& ctx) {
  if (ctx.KwargInputs("start_index")) {
    return ctx.Invalid("its start_index is a tensor",
                       "Pass start_index as a Python int (it is usually "
                       "used with a cache while generating, which a "
                       "LiteRT graph does not hold)");
  }
  if (ctx.KwargInputs("positions")) {
    return ctx.Invalid("it is called with a positions tensor",
                       "Call it without positions (the positions are then "
                       "0, 1, ... from start_index)");
  }
  const json& kw = ctx.kwargs();
  if (kw.is_object() && kw.contains("positions") &&
      !kw["positions"].is_null()) {
    return ctx.Invalid("it is called with positions=" + kw["positions"].dump(),
                       "Call it without positions");
  }
  if (!kw.is_object() || !kw.contains("start_index") ||
      kw["start_index"].is_null()) {
    return 0;
  }
  if (!kw["start_index"].is_number_integer()) {
    return ctx.Invalid(
        "its start_index=" + kw["start_index"].dump() + " is not an integer",
        "Pass start_index as a Python int");
  }
  return kw["start_index"].get<int64_t>();
}

Result<ir::TensorData> PositionTable(LayerContext& ctx, int64_t len,
                                     const std::vector<std::string>& attrs) {
  std::vector<ir::TensorData> w;
  if (attrs.empty()) {
    K2L_ASSIGN_OR_RETURN(w, ctx.Weights({"embeddings"}));
  } else {
    K2L_ASSIGN_OR_RETURN(w, ctx.SubWeights(attrs, {"embeddings"}, 0));
  }
  const ir::Shape& s = w[0].shape();
  if (s.size() != 2 || s[0] != len) {
    return ctx.Invalid("its position table has shape " + ir::ShapeToString(s) +
                           " but its sequence_length is " + std::to_string(len),
                       "The weights file does not match the config; re-save "
                       "the model");
  }
  return w[0];
}

Result<std::vector<ValueId>> ConvertPositionEmbedding(LayerContext& ctx) {
  K2L_RETURN_IF_ERROR(RefuseQuantized(ctx));
  K2L_ASSIGN_OR_RETURN(int64_t len, ctx.Int("sequence_length"));
  K2L_ASSIGN_OR_RETURN(int64_t start, StartIndex(ctx));
  K2L_ASSIGN_OR_RETURN(ir::TensorData table, PositionTable(ctx, len, {}));
  const ValueId x = ctx.input();
  K2L_ASSIGN_OR_RETURN(ValueId rows, PositionRows(ctx, table, x, start));
  // broadcast_to(rows, shape(inputs)): the batch is known only at run time.
  K2L_ASSIGN_OR_RETURN(ValueId shape, ctx.Op(OpKind::kShape, {x}));
  K2L_ASSIGN_OR_RETURN(ValueId y, ctx.Op(OpKind::kBroadcastTo, {rows, shape}));
  return std::vector<ValueId>{y};
}

// The reverse call: logits = x @ kernel, kernel = embeddings^T when tied,
// else the separate reverse_embeddings [output_dim, input_dim].
Result<ValueId> ReverseProjection(LayerContext& ctx,
                                  const std::vector<ir::TensorData>& w,
                                  bool tie, int64_t output_dim) {
  const ValueId x = ctx.input();
  const ir::Shape xs = ctx.shape(x);
  if (xs.size() < 2 || xs.back() != output_dim) {
    return ctx.Invalid("its reverse call gets shape " + ir::ShapeToString(xs) +
                           "; it projects vectors of its output_dim " +
                           std::to_string(output_dim) + " to logits",
                       "Call it with reverse=True on [..., " +
                           std::to_string(output_dim) + "] hidden states");
  }
  if (ctx.value(x).dtype != ir::DType::kFloat32) {
    return ctx.Invalid("its reverse call gets " +
                           std::string(ir::DTypeName(ctx.value(x).dtype)) +
                           " values",
                       "Call it with reverse=True on float32 hidden states");
  }
  // FULLY_CONNECTED weights are [out, in] = [input_dim, output_dim]: the
  // embeddings themselves when tied.
  ValueId kernel = tie ? ctx.Const(w[0], "embeddings")
                       : ctx.Const(Permute(w[1], {1, 0}), "reverse_embeddings");
  ir::FullyConnectedAttrs attrs;
  attrs.keep_num_dims = xs.size() > 2;
  K2L_ASSIGN_OR_RETURN(
      ValueId logits,
      ctx.Op(OpKind::kFullyConnected, {x, kernel, ir::kNoValue}, attrs));
  if (ctx.Has("logit_soft_cap")) {
    K2L_ASSIGN_OR_RETURN(double cap, ctx.Float("logit_soft_cap"));
    // tanh(logits / cap) * cap, in Keras' order.
    const float c = static_cast<float>(cap);
    K2L_ASSIGN_OR_RETURN(
        logits,
        ctx.Op(OpKind::kDiv, {logits, ctx.ConstFloat(c)}, ir::BinaryAttrs{}));
    K2L_ASSIGN_OR_RETURN(logits, ctx.Op(OpKind::kTanh, {logits}));
    K2L_ASSIGN_OR_RETURN(
        logits,
        ctx.Op(OpKind::kMul, {logits, ctx.ConstFloat(c)}, ir::BinaryAttrs{}));
  }
  return logits;
}

Status CheckReversibleConfig(LayerContext& ctx) {
  K2L_RETURN_IF_ERROR(RefuseQuantized(ctx));
  if (ctx.Has("lora_rank")) {
    return ctx.Invalid("LoRA is enabled on it (lora_rank is set)",
                       "Save the model without LoRA");
  }
  if (ctx.Has("reverse_dtype")) {
    const json& d = ctx.config()["reverse_dtype"];
    std::string name = d.is_string() ? d.get<std::string>() : d.dump();
    if (d.is_object() && d.contains("config") && d["config"].is_object() &&
        d["config"].value("name", "") != "") {
      name = d["config"]["name"].get<std::string>();
    }
    if (name != "float32") {
      return ctx.Invalid("its reverse_dtype='" + name +
                             "' computes the logits in another precision "
                             "than the float32 graph would",
                         "Save it with reverse_dtype=None or 'float32'");
    }
  }
  if (ctx.Has("logit_soft_cap")) {
    K2L_ASSIGN_OR_RETURN(double cap, ctx.Float("logit_soft_cap"));
    if (!(cap != 0.0) || !std::isfinite(cap)) {
      return ctx.Invalid("its logit_soft_cap is " + std::to_string(cap),
                         "Use a finite, non-zero soft cap or None");
    }
  }
  return Status::Ok();
}

Result<std::vector<ValueId>> ConvertReversibleEmbedding(LayerContext& ctx) {
  K2L_RETURN_IF_ERROR(CheckReversibleConfig(ctx));
  K2L_ASSIGN_OR_RETURN(int64_t input_dim, ctx.Int("input_dim"));
  K2L_ASSIGN_OR_RETURN(int64_t output_dim, ctx.Int("output_dim"));
  K2L_ASSIGN_OR_RETURN(bool tie, ctx.BoolOr("tie_weights", true));
  K2L_ASSIGN_OR_RETURN(bool reverse, CallFlag(ctx, "reverse"));
  std::vector<std::string> names = {"embeddings"};
  if (!tie) names.push_back("reverse_embeddings");
  K2L_ASSIGN_OR_RETURN(auto w, ctx.Weights(names));
  K2L_RETURN_IF_ERROR(
      ctx.ExpectWeightShape(w[0], "embeddings", {input_dim, output_dim}));
  if (!tie) {
    K2L_RETURN_IF_ERROR(ctx.ExpectWeightShape(w[1], "reverse_embeddings",
                                              {output_dim, input_dim}));
  }
  if (reverse) {
    K2L_ASSIGN_OR_RETURN(ValueId y, ReverseProjection(ctx, w, tie, output_dim));
    return std::vector<ValueId>{y};
  }
  K2L_ASSIGN_OR_RETURN(bool mask_zero, ctx.BoolOr("mask_zero", false));
  K2L_ASSIGN_OR_RETURN(ValueId y,
                       LowerEmbeddingLookup(ctx, ctx.Const(w[0], "embeddings"),
                                            ctx.input(), mask_zero));
  return std::vector<ValueId>{y};
}

// token_embedding(ids) + position_embedding(that): the positions broadcast
// over the batch in the ADD.
Result<std::vector<ValueId>> ConvertTokenAndPositionEmbedding(
    LayerContext& ctx) {
  K2L_RETURN_IF_ERROR(RefuseQuantized(ctx));
  K2L_ASSIGN_OR_RETURN(int64_t vocab, ctx.Int("vocabulary_size"));
  K2L_ASSIGN_OR_RETURN(int64_t len, ctx.Int("sequence_length"));
  K2L_ASSIGN_OR_RETURN(int64_t dim, ctx.Int("embedding_dim"));
  K2L_ASSIGN_OR_RETURN(bool tie, ctx.BoolOr("tie_weights", true));
  K2L_ASSIGN_OR_RETURN(bool mask_zero, ctx.BoolOr("mask_zero", false));
  K2L_ASSIGN_OR_RETURN(int64_t start, StartIndex(ctx));
  std::vector<std::string> names = {"embeddings"};
  if (!tie) names.push_back("reverse_embeddings");
  // Creation order: token_embedding, then position_embedding.
  K2L_ASSIGN_OR_RETURN(auto tw, ctx.SubWeights({"token_embedding"}, names, 0));
  K2L_RETURN_IF_ERROR(
      ctx.ExpectWeightShape(tw[0], "token_embedding.embeddings", {vocab, dim}));
  std::vector<ir::TensorData> pw;
  K2L_ASSIGN_OR_RETURN(
      pw, ctx.SubWeights({"position_embedding"}, {"embeddings"}, names.size()));
  K2L_RETURN_IF_ERROR(ctx.ExpectWeightShape(
      pw[0], "position_embedding.embeddings", {len, dim}));
  K2L_ASSIGN_OR_RETURN(
      ValueId tokens,
      LowerEmbeddingLookup(ctx, ctx.Const(tw[0], "token_embeddings"),
                           ctx.input(), mask_zero));
  K2L_ASSIGN_OR_RETURN(ValueId rows, PositionRows(ctx, pw[0], tokens, start));
  K2L_ASSIGN_OR_RETURN(ValueId y,
                       ctx.Op(OpKind::kAdd, {tokens, rows}, ir::BinaryAttrs{}));
  return std::vector<ValueId>{y};
}

}  // namespace

Status RegisterHubEmbeddingLayers(Registry& r) {
  const char* rev_ops =
      "GATHER; reverse=True: FULLY_CONNECTED (+ DIV, TANH, MUL for "
      "logit_soft_cap)";
  const char* rev_limits =
      "reverse_dtype other than float32 and quantized or LoRA layers are "
      "refused";
  K2L_RETURN_IF_ERROR(r.Register(
      "ReversibleEmbedding", ConvertReversibleEmbedding, rev_ops, rev_limits));
  K2L_RETURN_IF_ERROR(r.Register("keras_hub>ReversibleEmbedding",
                                 ConvertReversibleEmbedding, rev_ops,
                                 rev_limits));
  K2L_RETURN_IF_ERROR(r.Register(
      "keras_hub>PositionEmbedding", ConvertPositionEmbedding,
      "SHAPE, BROADCAST_TO (+ SLICE, CONCATENATION at a dynamic length)",
      "start_index must be a constant; positions are refused"));
  K2L_RETURN_IF_ERROR(r.Register(
      "keras_hub>TokenAndPositionEmbedding", ConvertTokenAndPositionEmbedding,
      "GATHER, ADD (+ SHAPE, SLICE, CONCATENATION at a dynamic length)",
      "start_index must be a constant; positions are refused"));
  return Status::Ok();
}

}  // namespace k2l::keras
