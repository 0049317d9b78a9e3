#include "ir/graph.h"

#include <sstream>

namespace k2l::ir {

std::string_view OpKindName(OpKind kind) {
  switch (kind) {
#define K2L_OP(name, attrs) \
  case OpKind::k##name:     \
    return #name;
#include "ir/ops.def"
#undef K2L_OP
  }
  return "?";
}

std::string ShapeToString(const Shape& s) {
  std::ostringstream os;
  os << "[";
  for (size_t i = 0; i < s.size(); ++i) {
    if (i) os << ", ";
    if (s[i] == kDynamic) {
      os << "?";
    } else {
      os << s[i];
    }
  }
  os << "]";
  return os.str();
}

ValueId Graph::NewValue(std::string name, DType dtype, Shape shape) {
  Value v;
  v.name = std::move(name);
  v.dtype = dtype;
  v.shape = std::move(shape);
  values_.push_back(std::move(v));
  return static_cast<ValueId>(values_.size() - 1);
}

ValueId Graph::AddInput(std::string name, DType dtype, Shape shape) {
  ValueId id = NewValue(name, dtype, std::move(shape));
  inputs_.push_back({std::move(name), id});
  return id;
}

ValueId Graph::AddConstant(TensorData data, std::string name) {
  ValueId id = NewValue(std::move(name), data.dtype(), data.shape());
  values_[id].constant = std::move(data);
  return id;
}

ValueId Graph::AddInt32Constant(const std::vector<int32_t>& v,
                                std::string name) {
  return AddConstant(TensorData::FromVector(
                         DType::kInt32, {static_cast<int64_t>(v.size())}, v),
                     std::move(name));
}

ValueId Graph::AddFloatConstant(const std::vector<float>& v, Shape shape,
                                std::string name) {
  return AddConstant(
      TensorData::FromVector(DType::kFloat32, std::move(shape), v),
      std::move(name));
}

Result<std::vector<ValueId>> Graph::AddOp(OpKind kind,
                                          std::vector<ValueId> inputs,
                                          Attrs attrs, std::string origin,
                                          std::optional<DType> out_dtype) {
  for (ValueId in : inputs) {
    if (in != kNoValue &&
        (in < 0 || static_cast<size_t>(in) >= values_.size())) {
      return Status::Internal("op " + std::string(OpKindName(kind)) +
                              " from '" + origin + "' uses undefined value " +
                              std::to_string(in));
    }
  }
  auto inferred = InferOutputs(*this, kind, inputs, attrs);
  if (!inferred.ok()) {
    return inferred.status().WithContext(std::string(OpKindName(kind)) +
                                         " (from layer '" + origin + "')");
  }
  std::vector<ValueId> outs;
  for (size_t i = 0; i < inferred->size(); ++i) {
    OutputType t = (*inferred)[i];
    if (out_dtype && inferred->size() == 1) t.dtype = *out_dtype;
    std::string name =
        origin.empty() ? FreshName(OpKindName(kind)) : FreshName(origin);
    outs.push_back(NewValue(std::move(name), t.dtype, std::move(t.shape)));
  }
  ops_.push_back(
      Op{kind, std::move(inputs), outs, std::move(attrs), std::move(origin)});
  return outs;
}

Result<ValueId> Graph::Add(OpKind kind, std::vector<ValueId> inputs,
                           Attrs attrs, std::string origin,
                           std::optional<DType> out_dtype) {
  K2L_ASSIGN_OR_RETURN(auto outs,
                       AddOp(kind, std::move(inputs), std::move(attrs),
                             std::move(origin), out_dtype));
  if (outs.size() != 1) {
    return Status::Internal(std::string(OpKindName(kind)) +
                            " has several outputs; use AddOp");
  }
  return outs[0];
}

std::vector<int> Graph::ProducerIndex() const {
  std::vector<int> producer(values_.size(), -1);
  for (size_t i = 0; i < ops_.size(); ++i) {
    for (ValueId out : ops_[i].outputs) producer[out] = static_cast<int>(i);
  }
  return producer;
}

std::vector<int> Graph::UseCounts() const {
  std::vector<int> uses(values_.size(), 0);
  for (const Op& op : ops_) {
    for (ValueId in : op.inputs) {
      if (in != kNoValue) ++uses[in];
    }
  }
  for (const Port& p : outputs_) ++uses[p.value];
  return uses;
}

void Graph::ReplaceAllUses(ValueId from, ValueId to) {
  for (Op& op : ops_) {
    for (ValueId& in : op.inputs) {
      if (in == from) in = to;
    }
  }
  for (Port& p : outputs_) {
    if (p.value == from) p.value = to;
  }
}

int Graph::AddSubgraph(std::string name) {
  subgraphs_.push_back(std::make_unique<Graph>());
  subgraphs_.back()->name_ = std::move(name);
  return static_cast<int>(subgraphs_.size());
}

std::string Graph::FreshName(std::string_view base) {
  return std::string(base) + ";" + std::to_string(name_counter_++);
}

}  // namespace k2l::ir
