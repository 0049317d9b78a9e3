// Shape inference for Fill, BroadcastTo, Range, DynamicUpdateSlice, While
// and NonMaxSuppressionV5: ops whose output shapes may depend on input
// values.
#include <algorithm>

#include "ir/infer/infer_util.h"

namespace k2l::ir::infer {

// What is known of the values of a 1-D int tensor: constants keep their
// numbers, Shape(x) the known dims of x, through slices and
// concatenations; anything else is dynamic. This lets
// Fill(Concat(Shape(x)[0:1], [units])) keep its static dims.
std::vector<int64_t> PartialInts(const Graph& g, ValueId id) {
  if (auto c = ConstInts(g, id)) return *c;
  const Shape& s = g.value(id).shape;
  int64_t n = s.size() == 1 && s[0] != kDynamic ? s[0] : 0;
  const auto& ops = g.ops();
  for (auto it = ops.rbegin(); it != ops.rend(); ++it) {
    if (it->outputs.size() != 1 || it->outputs[0] != id) continue;
    if (it->kind == OpKind::kConcatenation) {
      std::vector<int64_t> out;
      for (ValueId in : it->inputs) {
        auto part = PartialInts(g, in);
        out.insert(out.end(), part.begin(), part.end());
      }
      if (static_cast<int64_t>(out.size()) == n) return out;
    } else if (it->kind == OpKind::kShape) {
      return g.value(it->inputs[0]).shape;  // its known dims
    } else if (it->kind == OpKind::kSlice) {
      auto begin = ConstInts(g, it->inputs[1]);
      auto size = ConstInts(g, it->inputs[2]);
      auto whole = PartialInts(g, it->inputs[0]);
      if (begin && size && begin->size() == 1 && size->size() == 1 &&
          (*begin)[0] >= 0 && (*size)[0] >= 0 &&
          (*begin)[0] + (*size)[0] <= static_cast<int64_t>(whole.size())) {
        return std::vector<int64_t>(whole.begin() + (*begin)[0],
                                    whole.begin() + (*begin)[0] + (*size)[0]);
      }
    }
    break;
  }
  return std::vector<int64_t>(static_cast<size_t>(n), kDynamic);
}

namespace {

bool Compatible(const Shape& a, const Shape& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] != b[i] && a[i] != kDynamic && b[i] != kDynamic) return false;
  }
  return true;
}

Result<std::vector<OutputType>> InferWhile(const Graph& g,
                                           const std::vector<ValueId>& in,
                                           const WhileAttrs& a) {
  if (a.cond < 1 || a.cond > g.num_subgraphs() || a.body < 1 ||
      a.body > g.num_subgraphs()) {
    return Status::Internal("While names subgraphs " + std::to_string(a.cond) +
                            " and " + std::to_string(a.body) +
                            ", but the graph has " +
                            std::to_string(g.num_subgraphs()));
  }
  const Graph& cond = g.subgraph(a.cond);
  const Graph& body = g.subgraph(a.body);
  if (cond.inputs().size() != in.size() || body.inputs().size() != in.size() ||
      body.outputs().size() != in.size()) {
    return Status::Internal("While has " + std::to_string(in.size()) +
                            " loop variables but its "
                            "cond takes " +
                            std::to_string(cond.inputs().size()) +
                            " and its body "
                            "takes " +
                            std::to_string(body.inputs().size()) +
                            " and returns " +
                            std::to_string(body.outputs().size()));
  }
  if (cond.outputs().size() != 1 ||
      cond.value(cond.outputs()[0].value).dtype != DType::kBool) {
    return Status::Internal("a While's cond must return one bool");
  }
  std::vector<OutputType> out;
  for (size_t i = 0; i < in.size(); ++i) {
    const Value& v = g.value(in[i]);
    const Value& b_in = body.value(body.inputs()[i].value);
    const Value& b_out = body.value(body.outputs()[i].value);
    const Value& c_in = cond.value(cond.inputs()[i].value);
    for (const Value* w : {&b_in, &b_out, &c_in}) {
      if (w->dtype != v.dtype || !Compatible(w->shape, v.shape)) {
        return Status::Internal(
            "While loop variable " + std::to_string(i) + " is " +
            std::string(DTypeName(v.dtype)) + ShapeToString(v.shape) +
            " but a subgraph port is " + std::string(DTypeName(w->dtype)) +
            ShapeToString(w->shape));
      }
    }
    out.push_back({v.dtype, v.shape});
  }
  return out;
}

// NON_MAX_SUPPRESSION_V5: float32 boxes [N, 4] and scores [N]; int32
// max_output_size and float32 iou_threshold, score_threshold and
// soft_nms_sigma scalars. The selections are max_output_size long (dynamic
// unless it is a constant); valid_outputs counts the real ones.
Result<std::vector<OutputType>> InferNonMaxSuppressionV5(
    const Graph& g, const std::vector<ValueId>& in) {
  K2L_RETURN_IF_ERROR(ExpectInputs(in, 6, 6));
  const Value& boxes = g.value(in[0]);
  const Value& scores = g.value(in[1]);
  if (boxes.dtype != DType::kFloat32 || boxes.shape.size() != 2 ||
      (boxes.shape[1] != 4 && boxes.shape[1] != kDynamic)) {
    return Status::Invalid("boxes must be float32 [num_boxes, 4], got " +
                           std::string(DTypeName(boxes.dtype)) +
                           ShapeToString(boxes.shape) +
                           "; pass one [y1, x1, y2, x2] row per box");
  }
  if (scores.dtype != DType::kFloat32 || scores.shape.size() != 1) {
    return Status::Invalid("scores must be float32 [num_boxes], got " +
                           std::string(DTypeName(scores.dtype)) +
                           ShapeToString(scores.shape) +
                           "; pass one score per box");
  }
  if (boxes.shape[0] != kDynamic && scores.shape[0] != kDynamic &&
      boxes.shape[0] != scores.shape[0]) {
    return Status::Invalid(
        "boxes " + ShapeToString(boxes.shape) + " and scores " +
        ShapeToString(scores.shape) +
        " disagree on the number of boxes; give one score per box");
  }
  const Value& max_size = g.value(in[2]);
  if (max_size.dtype != DType::kInt32 || !max_size.shape.empty()) {
    return Status::Invalid("max_output_size must be an int32 scalar, got " +
                           std::string(DTypeName(max_size.dtype)) +
                           ShapeToString(max_size.shape) +
                           "; cast or reshape it to one");
  }
  const char* names[] = {"iou_threshold", "score_threshold", "soft_nms_sigma"};
  for (int k = 0; k < 3; ++k) {
    const Value& v = g.value(in[3 + k]);
    if (v.dtype != DType::kFloat32 || !v.shape.empty()) {
      return Status::Invalid(
          std::string(names[k]) + " must be a float32 scalar, got " +
          std::string(DTypeName(v.dtype)) + ShapeToString(v.shape) +
          "; cast or reshape it to one");
    }
  }
  const Value& sigma = g.value(in[5]);
  if (sigma.is_constant() && sigma.constant->as<float>()[0] < 0.f) {
    return Status::Invalid("soft_nms_sigma is " +
                           std::to_string(sigma.constant->as<float>()[0]) +
                           "; it must be >= 0 (0 turns Soft-NMS off)");
  }
  int64_t m = kDynamic;
  if (auto c = ConstInts(g, in[2])) {
    if ((*c)[0] < 0) {
      return Status::Invalid("max_output_size is " + std::to_string((*c)[0]) +
                             "; it must be >= 0");
    }
    m = (*c)[0];
  }
  return std::vector<OutputType>{
      {DType::kInt32, {m}}, {DType::kFloat32, {m}}, {DType::kInt32, {}}};
}

}  // namespace

Result<std::vector<OutputType>> InferControlFlow(const Graph& g, OpKind kind,
                                                 const std::vector<ValueId>& in,
                                                 const Attrs& attrs) {
  switch (kind) {
    case OpKind::kFill: {
      K2L_RETURN_IF_ERROR(ExpectInputs(in, 2, 2));
      const Value& dims = g.value(in[0]);
      if (dims.dtype != DType::kInt32 || dims.shape.size() != 1 ||
          dims.shape[0] == kDynamic) {
        return Status::Invalid("dims must be a 1-D int32 of known length");
      }
      if (!g.value(in[1]).shape.empty()) {
        return Status::Invalid("the fill value must be a scalar");
      }
      return std::vector<OutputType>{
          {g.value(in[1]).dtype, PartialInts(g, in[0])}};
    }
    case OpKind::kBroadcastTo: {
      K2L_RETURN_IF_ERROR(ExpectInputs(in, 2, 2));
      const Value& x = g.value(in[0]);
      const Value& dims = g.value(in[1]);
      if (dims.dtype != DType::kInt32 || dims.shape.size() != 1 ||
          dims.shape[0] == kDynamic) {
        return Status::Invalid("the shape must be a 1-D int32 of known length");
      }
      const std::vector<int64_t> target = PartialInts(g, in[1]);
      if (target.size() < x.shape.size()) {
        return Status::Invalid("cannot broadcast " + ShapeToString(x.shape) +
                               " to fewer dims (" +
                               std::to_string(target.size()) + ")");
      }
      // Where the target is unknown, a fixed dim other than 1 decides it.
      Shape out(target.begin(), target.end());
      const size_t lead = target.size() - x.shape.size();
      for (size_t i = 0; i < x.shape.size(); ++i) {
        const int64_t d = x.shape[i];
        int64_t& o = out[lead + i];
        if (o == kDynamic) {
          if (d != kDynamic && d != 1) o = d;
        } else if (d != kDynamic && d != 1 && d != o) {
          return Status::Invalid("cannot broadcast " + ShapeToString(x.shape) +
                                 " to " + ShapeToString(out));
        }
      }
      return std::vector<OutputType>{{x.dtype, out}};
    }
    case OpKind::kDynamicUpdateSlice: {
      K2L_RETURN_IF_ERROR(ExpectInputs(in, 3, 3));
      const Value& x = g.value(in[0]);
      const Value& u = g.value(in[1]);
      const Value& start = g.value(in[2]);
      if (u.dtype != x.dtype || u.shape.size() != x.shape.size()) {
        return Status::Invalid(
            "the update must match the operand's dtype "
            "and rank");
      }
      if (start.shape != Shape{static_cast<int64_t>(x.shape.size())}) {
        return Status::Invalid("start indices must be [rank]");
      }
      return std::vector<OutputType>{{x.dtype, x.shape}};
    }
    case OpKind::kWhile:
      return InferWhile(g, in, std::get<WhileAttrs>(attrs));
    case OpKind::kRange: {
      K2L_RETURN_IF_ERROR(ExpectInputs(in, 3, 3));
      for (ValueId v : in) {
        if (g.value(v).dtype != DType::kInt32 || !g.value(v).shape.empty()) {
          return Status::Invalid(
              "start, limit and delta must be int32 "
              "scalars");
        }
      }
      auto s = ConstInts(g, in[0]), l = ConstInts(g, in[1]),
           d = ConstInts(g, in[2]);
      int64_t n = kDynamic;
      if (s && l && d && (*d)[0] > 0) {
        n = std::max<int64_t>(0, ((*l)[0] - (*s)[0] + (*d)[0] - 1) / (*d)[0]);
      }
      return std::vector<OutputType>{{DType::kInt32, {n}}};
    }
    case OpKind::kNonMaxSuppressionV5:
      return InferNonMaxSuppressionV5(g, in);
    default:
      return Status::Internal("not a control-flow op");
  }
}

}  // namespace k2l::ir::infer
