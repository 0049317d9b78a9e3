// The typed IR: values (dtype, shape with dynamic dims, optional constant
// data) and ops in topological order.
//
// Shape inference runs when an op is added, so a malformed op is an error at
// the point where the frontend creates it, naming the op and its origin.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "ir/attrs.h"
#include "ir/dtype.h"
#include "ir/tensor_data.h"

namespace k2l::ir {

enum class OpKind : uint16_t {
#define K2L_OP(name, attrs) k##name,
#include "ir/ops.def"
#undef K2L_OP
};

std::string_view OpKindName(OpKind kind);

// A dimension of -1 is dynamic (unknown until run time).
inline constexpr int64_t kDynamic = -1;
using Shape = std::vector<int64_t>;
std::string ShapeToString(const Shape& s);

using ValueId = int32_t;
inline constexpr ValueId kNoValue = -1;

struct Value {
  std::string name;
  DType dtype = DType::kFloat32;
  Shape shape;
  std::optional<TensorData> constant;
  bool is_constant() const { return constant.has_value(); }
};

struct Op {
  OpKind kind;
  std::vector<ValueId> inputs;
  std::vector<ValueId> outputs;
  Attrs attrs;
  // The Keras layer this op was lowered from; used in errors and dumps.
  std::string origin;
};

// A named graph input or output, as it appears in the signature.
struct Port {
  std::string name;
  ValueId value;
};

// What shape inference produces for one op output.
struct OutputType {
  DType dtype;
  Shape shape;
};

class Graph {
 public:
  ValueId AddInput(std::string name, DType dtype, Shape shape);
  ValueId AddConstant(TensorData data, std::string name);
  // A 1-D int32 constant, the common form of shape/axis operands.
  ValueId AddInt32Constant(const std::vector<int32_t>& v, std::string name);
  ValueId AddFloatConstant(const std::vector<float>& v, Shape shape,
                           std::string name);
  ValueId AddScalarFloat(float v, std::string name) {
    return AddFloatConstant({v}, {}, std::move(name));
  }

  // Adds an op after inferring its outputs' types. `out_dtype` overrides the
  // inferred dtype of the single output (used by Cast).
  Result<std::vector<ValueId>> AddOp(OpKind kind, std::vector<ValueId> inputs,
                                     Attrs attrs, std::string origin,
                                     std::optional<DType> out_dtype = {});
  // AddOp for single-output ops.
  Result<ValueId> Add(OpKind kind, std::vector<ValueId> inputs, Attrs attrs,
                      std::string origin, std::optional<DType> out_dtype = {});

  const Value& value(ValueId id) const { return values_[id]; }
  Value& mutable_value(ValueId id) { return values_[id]; }
  size_t num_values() const { return values_.size(); }

  const std::vector<Op>& ops() const { return ops_; }
  std::vector<Op>& mutable_ops() { return ops_; }

  std::vector<Port>& inputs() { return inputs_; }
  const std::vector<Port>& inputs() const { return inputs_; }
  std::vector<Port>& outputs() { return outputs_; }
  const std::vector<Port>& outputs() const { return outputs_; }

  // Index of the op producing each value, or -1 (inputs, constants).
  std::vector<int> ProducerIndex() const;
  // Number of uses of each value by ops and graph outputs.
  std::vector<int> UseCounts() const;
  // Rewires every use of `from` (op inputs and graph outputs) to `to`.
  void ReplaceAllUses(ValueId from, ValueId to);

  // Name hint for values created by a frontend; made unique by the writer.
  std::string FreshName(std::string_view base);

  // Subgraphs called by control-flow ops (the cond and body of a While).
  // Only the main graph holds them; they are numbered from 1, as in the
  // file, where the main graph is subgraph 0.
  int AddSubgraph(std::string name);
  Graph& subgraph(int index) { return *subgraphs_.at(index - 1); }
  const Graph& subgraph(int index) const { return *subgraphs_.at(index - 1); }
  int num_subgraphs() const { return static_cast<int>(subgraphs_.size()); }
  const std::string& name() const { return name_; }

  // Notes for the conversion summary, e.g. which lowering a layer chose.
  std::vector<std::string>& notes() { return notes_; }
  const std::vector<std::string>& notes() const { return notes_; }

 private:
  ValueId NewValue(std::string name, DType dtype, Shape shape);
  std::vector<Value> values_;
  std::vector<Op> ops_;
  std::vector<Port> inputs_;
  std::vector<Port> outputs_;
  int name_counter_ = 0;
  std::string name_ = "main";
  std::vector<std::unique_ptr<Graph>> subgraphs_;
  std::vector<std::string> notes_;
};

// Infers the output types of an op from its inputs (in ir/infer/).
Result<std::vector<OutputType>> InferOutputs(const Graph& g, OpKind kind,
                                             const std::vector<ValueId>& inputs,
                                             const Attrs& attrs);

// Checks the graph's invariants: topological order, defined inputs, single
// producers, shapes consistent with inference, outputs produced.
Status Verify(const Graph& g);

// Human-readable listing, one op per line (for --dump-ir).
std::string Dump(const Graph& g);

}  // namespace k2l::ir
