// Helpers shared by the shape-inference files in ir/infer/.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "ir/graph.h"

namespace k2l::ir::infer {

// Numpy broadcasting of two shapes; dynamic dims stay dynamic unless the
// other side fixes them.
Result<Shape> Broadcast(const Shape& a, const Shape& b);

// The contents of an int32/int64 constant, or nullopt when `id` is not one.
std::optional<std::vector<int64_t>> ConstInts(const Graph& g, ValueId id);

// What is known of the values of a 1-D int tensor: a constant's numbers,
// through concatenations; kDynamic where unknown.
std::vector<int64_t> PartialInts(const Graph& g, ValueId id);

// Requires `count` inputs (kNoValue allowed only at `optional_from` and later).
Status ExpectInputs(const std::vector<ValueId>& inputs, size_t min_count,
                    size_t max_count);

// Requires `id` to have rank `rank`.
Status ExpectRank(const Graph& g, ValueId id, size_t rank, const char* what);

// Normalises a possibly negative axis against `rank`.
Result<int> NormalizeAxis(int64_t axis, size_t rank);

// Output extent of a windowed op (conv, pool) along one spatial dim.
Result<int64_t> WindowOutput(int64_t in, int64_t kernel, int stride,
                             int dilation, Padding padding);

int64_t ProductOrDynamic(const Shape& s, size_t begin, size_t end);

Result<std::vector<OutputType>> InferNn(const Graph& g, OpKind kind,
                                        const std::vector<ValueId>& in,
                                        const Attrs& attrs);
Result<std::vector<OutputType>> InferElementwise(const Graph& g, OpKind kind,
                                                 const std::vector<ValueId>& in,
                                                 const Attrs& attrs);
Result<std::vector<OutputType>> InferShapeOps(const Graph& g, OpKind kind,
                                              const std::vector<ValueId>& in,
                                              const Attrs& attrs);
Result<std::vector<OutputType>> InferControlFlow(const Graph& g, OpKind kind,
                                                 const std::vector<ValueId>& in,
                                                 const Attrs& attrs);

}  // namespace k2l::ir::infer
